"""Attack: malformed, hostile and mislabelled data files, and a broken Keras cache.

Only MnistDataError may escape the loader (fuzzed), memory stays bounded (peak RSS
measured in a child process), and the data is named for what it is.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import re
import shutil
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_data import synthetic, synthetic_idx_dir, write_idx

from conftest import ROOT, SHARED_DATA, _require
from lessons_lib import data
from lessons_lib.data import MnistDataError, load_mnist

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _small_npz(compressed: bool = True) -> bytes:
    (x, y), (xt, yt) = synthetic(12, 1), synthetic(8, 2)
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(
        buf, x_train=x, y_train=y, x_test=xt, y_test=yt
    )
    return buf.getvalue()


def _idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + array.tobytes()


GOOD_NPZ = _small_npz()
GOOD_RAW_NPZ = _small_npz(compressed=False)
GOOD_IDX = _idx_bytes(synthetic(6, 3)[0])


def _mutate(blob: bytes, edits, cut) -> bytes:
    raw = bytearray(blob)
    for pos, value in edits:
        raw[pos % len(raw)] = value
    return bytes(raw[: max(0, len(raw) - cut)])


EDITS = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6)


@FUZZ
@given(edits=EDITS, cut=st.integers(0, 400), base=st.sampled_from(["deflated", "stored"]))
def test_fuzz_npz_only_mnist_data_error_escapes(tmp_path_factory, edits, cut, base):
    blob = _mutate(GOOD_NPZ if base == "deflated" else GOOD_RAW_NPZ, edits, cut)
    path = tmp_path_factory.mktemp("npz") / "m.npz"
    path.write_bytes(blob)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            (x, y), (xt, yt) = load_mnist(path)
        except MnistDataError as exc:
            assert "m.npz" in str(exc)
            return
    assert x.shape[1:] == (28, 28) and x.dtype == np.uint8 and y.max() <= 9


@FUZZ
@given(edits=EDITS, cut=st.integers(0, 300), gz=st.booleans())
def test_fuzz_idx_only_mnist_data_error_escapes(tmp_path_factory, edits, cut, gz):
    blob = _mutate(GOOD_IDX, [(p % 24, v) for p, v in edits[:2]] + edits[2:], cut)
    name = "t10k-images-idx3-ubyte" + (".gz" if gz else "")
    path = tmp_path_factory.mktemp("idx") / name
    path.write_bytes(gzip.compress(blob) if gz else blob)
    try:
        array = data.read_idx(path)
    except MnistDataError as exc:
        assert name in str(exc)
        return
    assert array.dtype == np.uint8 and array.ndim in (1, 3)


@FUZZ
@given(blob=st.binary(max_size=600))
def test_fuzz_random_bytes_as_npz_and_idx(tmp_path_factory, blob):
    folder = tmp_path_factory.mktemp("rand")
    for name in ("m.npz", "train-labels-idx1-ubyte", "train-labels-idx1-ubyte.gz"):
        (folder / name).write_bytes(blob)
        with pytest.raises(MnistDataError):
            if name.endswith(".npz"):
                load_mnist(folder / name)
            else:
                data.read_idx(folder / name)


# --------------------------------------------------------------------------- crafted files


def test_one_flipped_bit_in_the_npy_header_length_is_refused(tmp_path):
    raw = bytearray(GOOD_RAW_NPZ)
    member = raw.index(b"\x93NUMPY")  # the first member's npy header inside the stored zip
    raw[member + 8] ^= 0x20  # header length +/- 32: every image would shift by 32 bytes
    (tmp_path / "m.npz").write_bytes(bytes(raw))
    with pytest.raises(MnistDataError, match="m.npz"):
        load_mnist(tmp_path / "m.npz")


def test_a_plain_npy_is_named_as_such(tmp_path):
    np.save(tmp_path / "m.npz", np.zeros((3, 28, 28), np.uint8))
    shutil.move(tmp_path / "m.npz.npy", tmp_path / "m.npz")
    with pytest.raises(MnistDataError, match=r"single NumPy array \(.npy\)"):
        load_mnist(tmp_path / "m.npz")


def test_idx_dimensions_that_overflow_are_refused_from_the_header(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(struct.pack(">BBBBIII", 0, 0, 8, 3, 2**32 - 1, 2**32 - 1, 2**32 - 1))
    with pytest.raises(MnistDataError, match="expected \\(n, 28, 28\\)"):
        data.read_idx(path)
    path.write_bytes(struct.pack(">BBBBIII", 0, 0, 8, 3, 2**32 - 1, 28, 28))
    with pytest.raises(MnistDataError, match="at most 250,000"):
        data.read_idx(path)


def test_raw_and_gz_copies_must_agree(tmp_path):
    synthetic_idx_dir(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", synthetic(20, 2)[1])  # same labels, raw too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert load_mnist(tmp_path).info.n_test == 20
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", (synthetic(20, 2)[1] + 1) % 10)
    with pytest.raises(MnistDataError, match="both present and differ"):
        load_mnist(tmp_path)


# --------------------------------------------------------------------------- memory

PEAK = textwrap.dedent(
    """
    import json
    import numpy  # counted in the baseline
    from lessons_lib import data
    from lessons_lib.metrics import peak_rss_mb  # VmHWM: ru_maxrss would carry pytest's size over exec
    base = peak_rss_mb()
    try:
        result = data.{call}
        size = sum(a.nbytes for split in result for a in split) / 2**20 if isinstance(result, tuple) else result.nbytes / 2**20
        outcome = "loaded"
    except data.MnistDataError as exc:
        size, outcome = 0.0, "refused: " + str(exc)[:300]
    peak = peak_rss_mb()
    print(json.dumps({{"base": base, "peak": peak, "size": size, "outcome": outcome}}))
    """
)


def peak_rss(call: str) -> dict:
    """Run ``data.<call>`` in a fresh Python; its peak RSS (MB) over the baseline, and the outcome."""
    result = subprocess.run(
        [sys.executable, "-c", PEAK.format(call=call)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    """A 2 GB-expanding gz IDX under a 60,000-image header, one claiming 4 billion images,
    and an npz of 3,000,000 blank images (2.4 GB of pixels), each a few MB on disk; made by
    the same functions benchmarks/bench_loader_memory.py measures with."""
    spec = importlib.util.spec_from_file_location(
        "bench_loader_memory", ROOT / "benchmarks" / "bench_loader_memory.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    folder = tmp_path_factory.mktemp("bombs")
    bench.gzip_bomb(folder / "ok-header.gz")
    bench.gzip_bomb(folder / "huge-header.gz", count=2**32 - 1, megabytes=64)
    bench.blank_npz(folder / "blank.npz")
    return folder


@pytest.mark.parametrize(
    "name, message",
    [
        ("ok-header.gz", "longer than its header says"),
        ("huge-header.gz", "at most 250,000"),
    ],
)
def test_gzip_bomb_is_refused_under_300_mb(bombs, name, message):
    assert (bombs / name).stat().st_size < 8 * 2**20
    got = peak_rss(f"read_idx({str(bombs / name)!r})")
    assert got["outcome"].startswith("refused") and message in got["outcome"]
    assert got["peak"] < 300, f"peak {got['peak']:.0f} MB"


def test_npz_of_three_million_blank_images_is_refused_from_its_header(bombs):
    assert (bombs / "blank.npz").stat().st_size < 16 * 2**20
    got = peak_rss(f"load_npz({str(bombs / 'blank.npz')!r})")
    assert got["outcome"].startswith("refused") and "3,000,000" in got["outcome"]
    assert got["peak"] - got["base"] < 50, got


@pytest.mark.realdata
@pytest.mark.parametrize("source", ["mnist-full.npz", "mnist-idx"])
def test_loading_the_real_full_set_uses_at_most_3x_its_size(source):
    path = _require(SHARED_DATA / source)
    got = peak_rss(f"load_path({str(path)!r})")
    assert got["outcome"] == "loaded" and got["size"] == pytest.approx(
        70000 * 785 / 2**20, rel=1e-3
    )
    assert got["peak"] - got["base"] <= 3 * got["size"], got


# --------------------------------------------------------------------------- what it is


@pytest.mark.realdata
def test_the_official_files_are_verified_and_named_so():
    full = load_mnist(_require(SHARED_DATA / "mnist-full.npz"))
    assert full.info.dataset == "official MNIST (verified)" and full.info.kind == "mnist"
    idx = load_mnist(_require(SHARED_DATA / "mnist-idx"))
    assert idx.info.dataset == "official MNIST (verified)"
    assert idx.info.fingerprint == full.info.fingerprint
    partial = load_mnist(_require(SHARED_DATA / "mnist-partial.npz"))
    assert partial.info.dataset.startswith("official MNIST test set (verified); 22,699 training")
    assert "official MNIST (verified)" not in partial.info.describe()


def test_fashion_mnist_is_not_called_mnist():
    folder = _require(
        data.FASHION_DEBIAN_DIR, "Fashion-MNIST (Debian: apt-get install dataset-fashion-mnist)"
    )
    with pytest.warns(data.NotMnistWarning, match="Fashion-MNIST"):
        fashion = load_mnist(folder)
    assert (
        fashion.info.kind == "fashion-mnist" and "MNIST (verified)" not in fashion.info.describe()
    )
    assert fashion.info.describe().startswith("Fashion-MNIST (clothing, not digits)")


def test_altered_data_is_described_honestly(tmp_path):
    synthetic_idx_dir(tmp_path)
    with pytest.warns(data.NotMnistWarning):
        info = load_mnist(tmp_path).info
    assert info.kind == "other" and info.dataset.startswith("28x28 data that is not MNIST")


# --------------------------------------------------------------------------- the Keras cache


def test_keras_home_is_a_file(tmp_path, monkeypatch):
    (tmp_path / "home").write_text("not a folder")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    with pytest.warns(data.MnistFallbackWarning, match="KERAS_HOME"):
        d = load_mnist()
    assert d.info.source == "sample"
    with pytest.raises(MnistDataError, match="cannot be written"):
        load_mnist("keras")


def test_keras_home_read_only(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data.tempfile, "mkdtemp", read_only)
    with pytest.warns(data.MnistFallbackWarning, match="Permission denied"):
        assert load_mnist().info.source == "sample"


def test_a_folder_where_mnist_npz_belongs(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets" / "mnist.npz").mkdir(parents=True)
    with pytest.raises(MnistDataError, match="is a folder, not the mnist.npz file"):
        load_mnist()


def test_captive_portal_download_is_never_left_in_the_cache(tmp_path, monkeypatch):
    import keras

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def portal(fname, origin, cache_dir, cache_subdir, **kwargs):
        folder = Path(cache_dir) / cache_subdir
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / fname
        target.write_text("<!DOCTYPE html><html><body>Sign in to the Wi-Fi</body></html>")
        return str(target)

    monkeypatch.setattr(keras.utils, "get_file", portal)
    with pytest.warns(data.MnistFallbackWarning, match="web page"):
        assert load_mnist().info.source == "sample"
    with pytest.raises(data.BadDownload, match="captive portal"):
        load_mnist("keras")
    assert list((tmp_path / "datasets").iterdir()) == [], "nothing may be left in the cache"


def test_payload_zlib_error_is_wrapped(tmp_path):
    blob = bytearray(zlib.compress(GOOD_IDX))
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(b"")[:10] + bytes(blob[2:]))
    with pytest.raises(MnistDataError, match="t10k-labels-idx1-ubyte.gz"):
        data.read_idx(path)


# --------------------------------------------------------------------------- splits that lie


@pytest.fixture(scope="module")
def sample_arrays():
    (x, y), (xt, yt) = load_mnist("sample")
    return x, y, xt, yt


def _npz(folder, x, y, xt, yt):
    path = folder / "m.npz"
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    return path


def _shuffle(labels, share, seed=3):
    rng = np.random.default_rng(seed)
    out = labels.copy()
    pick = rng.choice(len(out), int(len(out) * share), replace=False)
    out[pick] = rng.permutation(out[pick])
    return out


LIES = {
    "the training split is the test split": (
        lambda x, y, xt, yt: (xt, yt, xt, yt),
        "1,000 of the 1,000 test images are also in the training split (the training split holds",
    ),
    "100 test images copied into training": (
        lambda x, y, xt, yt: (np.concatenate([x, xt[:100]]), np.concatenate([y, yt[:100]]), xt, yt),
        "100 of the 1,000 test images are also in the training split",
    ),
    "shuffled training labels": (
        lambda x, y, xt, yt: (x, _shuffle(y, 1.0), xt, yt),
        "the training labels do not fit the images (shuffled?)",
    ),
    "half the training labels shuffled": (
        lambda x, y, xt, yt: (x, _shuffle(y, 0.5), xt, yt),
        "many training labels look wrong",
    ),
    "shuffled test labels": (
        lambda x, y, xt, yt: (x, y, xt, _shuffle(yt, 1.0)),
        "the test labels do not fit the images (shuffled?)",
    ),
}


@pytest.mark.parametrize("name", list(LIES))
def test_data_whose_splits_lie_gets_a_warning_that_names_what_is_wrong(
    tmp_path, sample_arrays, name
):
    make, message = LIES[name]
    path = _npz(tmp_path, *make(*sample_arrays))
    with pytest.warns(data.DataProblemWarning, match=re.escape(message)):
        info = load_mnist(path).info
    assert any(message in p for p in info.problems)
    assert f"WARNING: {message}" in info.describe(), "the lesson's own data line says it too"


def test_honest_data_gets_no_warning(tmp_path, sample_arrays):
    path = _npz(tmp_path, *sample_arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("error", data.DataProblemWarning)
        info = load_mnist(path).info
    assert info.problems == () and "WARNING" not in info.describe()


def _fashion():
    return load_mnist(
        _require(data.FASHION_DEBIAN_DIR, "Fashion-MNIST (apt-get install dataset-fashion-mnist)")
    )


def test_fashion_training_images_with_digit_test_images_are_caught(tmp_path, sample_arrays):
    (fx, fy), _ = _fashion()
    _, _, xt, yt = sample_arrays
    path = _npz(tmp_path, fx[:4000], fy[:4000], xt, yt)
    with pytest.warns(data.DataProblemWarning, match="do not hold the same kind of images"):
        info = load_mnist(path).info
    assert info.kind == "other"


@pytest.mark.realdata
def test_fashion_training_files_beside_mnist_test_files_are_named_split_by_split(tmp_path):
    mnist = _require(SHARED_DATA / "mnist-idx")
    fashion = _require(
        data.FASHION_DEBIAN_DIR, "Fashion-MNIST (apt-get install dataset-fashion-mnist)"
    )
    for f in fashion.glob("train-*"):
        shutil.copy(f, tmp_path / f.name)
    for f in mnist.glob("t10k-*"):
        shutil.copy(f, tmp_path / f.name)
    with pytest.warns(data.DataProblemWarning, match="training split is Fashion-MNIST"):
        info = load_mnist(tmp_path).info
    assert info.dataset == (
        "official MNIST test set (verified) with Fashion-MNIST training images (clothing, not digits)"
    )
    assert info.kind == "other" and "MNIST (verified) from" not in info.describe()


@pytest.mark.realdata
def test_the_official_sets_raise_no_false_alarm():
    for name in ("mnist-full.npz", "mnist-partial.npz"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", data.DataProblemWarning)
            assert load_mnist(_require(SHARED_DATA / name)).info.problems == ()
