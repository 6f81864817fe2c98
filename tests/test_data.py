"""lessons_lib.data: every source, and every way a file can be bad."""

from __future__ import annotations

import gzip
import shutil
import socket
import struct
import warnings

import numpy as np
import pytest

from lessons_lib import data
from lessons_lib.data import MnistDataError, load_mnist


def write_idx(path, array: np.ndarray, *, compress: bool | None = None) -> None:
    """Write a uint8 array in IDX format (gzipped when the name ends in .gz)."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    payload = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    compress = str(path).endswith(".gz") if compress is None else compress
    if compress:
        with gzip.open(path, "wb") as fh:
            fh.write(payload)
    else:
        path.write_bytes(payload)


def synthetic(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(
        np.uint8
    )


def synthetic_idx_dir(tmp_path, n_train=30, n_test=20, gz=True):
    (xtr, ytr), (xte, yte) = synthetic(n_train, 1), synthetic(n_test, 2)
    ext = ".gz" if gz else ""
    write_idx(tmp_path / f"train-images-idx3-ubyte{ext}", xtr)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{ext}", ytr)
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{ext}", xte)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{ext}", yte)
    return (xtr, ytr), (xte, yte)


# --------------------------------------------------------------------------- good files


@pytest.mark.parametrize("gz", [True, False])
def test_idx_dir_round_trip(tmp_path, gz):
    (xtr, ytr), (xte, yte) = synthetic_idx_dir(tmp_path, gz=gz)
    d = load_mnist(tmp_path)
    (a, b), (c, e) = d
    assert a.dtype == np.uint8 and b.dtype == np.uint8
    np.testing.assert_array_equal(a, xtr)
    np.testing.assert_array_equal(b, ytr)
    np.testing.assert_array_equal(c, xte)
    np.testing.assert_array_equal(e, yte)
    assert d.info.source == "idx" and d.info.n_train == 30 and d.info.n_test == 20


def test_npz_round_trip_and_label_dtype_normalised(tmp_path):
    (xtr, ytr), (xte, yte) = synthetic(12, 3), synthetic(8, 4)
    p = tmp_path / "m.npz"
    np.savez(p, x_train=xtr, y_train=ytr.astype(np.int64), x_test=xte, y_test=yte)
    (a, b), (c, e) = d = load_mnist(str(p))
    assert b.dtype == np.uint8 and e.dtype == np.uint8
    np.testing.assert_array_equal(a, xtr)
    np.testing.assert_array_equal(b, ytr)
    assert d.info.source == "npz" and not d.info.is_full
    assert "12 training and 8 test" in d.info.describe()


def test_mnist_path_environment_variable_wins(tmp_path, monkeypatch):
    synthetic_idx_dir(tmp_path)
    monkeypatch.setenv("MNIST_PATH", str(tmp_path))
    assert load_mnist().info.source == "idx"


@pytest.mark.realdata
def test_real_partial_npz(partial_npz):
    (x, y), (xt, yt) = d = load_mnist(partial_npz)
    assert x.shape == (22699, 28, 28) and xt.shape == (10000, 28, 28)
    assert x.dtype == xt.dtype == y.dtype == yt.dtype == np.uint8
    assert x.max() == 255 and x.min() == 0
    assert set(np.unique(yt)) == set(range(10))
    assert d.info.n_train == 22699 and d.info.n_test == 10000


@pytest.mark.realdata
def test_real_idx_files_match_the_npz(idx_dir, partial_npz):
    images = data.read_idx(idx_dir / "t10k-images-idx3-ubyte.gz")
    labels = data.read_idx(idx_dir / "t10k-labels-idx1-ubyte.gz")
    train_labels = data.read_idx(idx_dir / "train-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert train_labels.shape == (60000,)
    assert np.bincount(train_labels).tolist()[:2] == [5923, 6742]  # official class counts
    (x, y), (xt, yt) = load_mnist(partial_npz)
    np.testing.assert_array_equal(images, xt)
    np.testing.assert_array_equal(labels, yt)
    np.testing.assert_array_equal(train_labels[: len(y)], y)


@pytest.mark.realdata
def test_real_idx_folder_is_the_full_set_and_equals_the_npz(idx_dir, full_npz, partial_npz):
    (x, y), (xt, yt) = idx = load_mnist(idx_dir)
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28) and idx.info.is_full
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    (a, b), (c, e) = full = load_mnist(full_npz)
    for mine, theirs in ((x, a), (y, b), (xt, c), (yt, e)):
        np.testing.assert_array_equal(mine, theirs)
    assert idx.info.dataset == full.info.dataset == "official MNIST (verified)"
    (p, q), _ = load_mnist(partial_npz)
    np.testing.assert_array_equal(p, x[: len(p)])  # the partial set is the full set's start


@pytest.mark.realdata
def test_real_idx_directory(tmp_path, idx_dir, partial_npz):
    """A folder of real IDX files: the official test files plus the partial train set."""
    (x, y), _ = load_mnist(partial_npz)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(idx_dir / name, tmp_path / name)
    write_idx(tmp_path / "train-images-idx3-ubyte", x)
    labels = data.read_idx(idx_dir / "train-labels-idx1-ubyte.gz")[: len(x)]
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels)
    (a, b), (c, e) = d = load_mnist(tmp_path)
    assert d.info.source == "idx" and a.shape == (22699, 28, 28) and c.shape == (10000, 28, 28)
    np.testing.assert_array_equal(b, y)


# --------------------------------------------------------------------------- Keras cache


def test_keras_hash_is_the_published_one():
    assert data.KERAS_MNIST_SHA256 == (
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    )


def test_keras_cache_honours_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert data.keras_cache_path() == tmp_path / "datasets" / "mnist.npz"


@pytest.mark.realdata
def test_keras_cache_corrupted_copy_is_refused(tmp_path, monkeypatch, partial_npz):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    target = tmp_path / "datasets" / "mnist.npz"
    target.parent.mkdir(parents=True)
    raw = bytearray(partial_npz.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    target.write_bytes(bytes(raw))
    monkeypatch.setattr(data, "_download_keras_mnist", lambda t: pytest.fail("must not download"))
    with pytest.raises(MnistDataError) as err:
        load_mnist("keras")
    msg = str(err.value)
    assert str(target) in msg
    assert data.sha256_of(target) in msg and data.KERAS_MNIST_SHA256 in msg
    assert "Delete it" in msg
    # auto does not quietly fall back to the sample when the cache is corrupt
    with pytest.raises(MnistDataError):
        load_mnist()


@pytest.mark.realdata
def test_keras_cache_with_matching_hash_is_used(tmp_path, monkeypatch, partial_npz):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    target = tmp_path / "datasets" / "mnist.npz"
    target.parent.mkdir(parents=True)
    shutil.copy(partial_npz, target)
    monkeypatch.setattr(data, "KERAS_MNIST_SHA256", data.sha256_of(partial_npz))
    d = load_mnist()
    assert d.info.source == "keras" and d.info.n_train == 22699


# --------------------------------------------------------------------------- offline


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(101, "Network is unreachable (test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_offline_auto_falls_back_to_the_sample_with_a_warning(no_network):
    with pytest.warns(data.MnistFallbackWarning) as record:
        (x, y), (xt, yt) = d = load_mnist()
    text = str(record[0].message)
    assert "offline sample" in text and "MNIST_PATH" in text and "download failed" in text
    assert x.shape == (4000, 28, 28) and xt.shape == (1000, 28, 28)
    assert np.bincount(y).tolist() == [400] * 10 and np.bincount(yt).tolist() == [100] * 10
    assert d.info.source == "sample" and "offline sample" in d.info.note
    assert not data.keras_cache_path().exists(), "no partial download may be left behind"


def test_offline_explicit_keras_source_says_what_to_do(no_network):
    with pytest.raises(MnistDataError, match="could not be downloaded") as caught:
        load_mnist("keras")
    text = str(caught.value)
    assert "MNIST_PATH" in text and '"sample"' in text
    assert isinstance(caught.value.__cause__, data.DownloadUnavailable)


@pytest.mark.parametrize("empty", ["", "   ", "\t"])
def test_an_empty_source_is_refused_not_read_as_the_working_folder(tmp_path, monkeypatch, empty):
    synthetic_idx_dir(tmp_path)  # a readable data set right where an empty path points
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MnistDataError, match="empty"):
        load_mnist(empty)
    with pytest.raises(MnistDataError, match="empty"):
        data.load_path(empty)


def test_a_download_that_fails_for_another_reason_is_not_hidden(monkeypatch):
    def bad_hash(target):
        raise ValueError("Incomplete or corrupted file detected")

    monkeypatch.setattr(data, "_download_keras_mnist", bad_hash)
    with pytest.raises(ValueError, match="corrupted"):
        load_mnist()


def test_sample_is_deterministic_stratified_and_disjoint():
    (x1, y1), (t1, u1) = load_mnist("sample")
    (x2, y2), (t2, u2) = load_mnist("sample")
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(u1, u2)
    assert x1.dtype == np.uint8 and 200 < x1.max() <= 255
    train_rows = {row.tobytes() for row in x1}
    assert not any(row.tobytes() in train_rows for row in t1)


# --------------------------------------------------------------------------- bad files


def test_truncated_gz_idx(tmp_path):
    synthetic_idx_dir(tmp_path)
    p = tmp_path / "t10k-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:-40])
    with pytest.raises(MnistDataError, match="t10k-images-idx3-ubyte.gz"):
        load_mnist(tmp_path)


def test_truncated_raw_idx(tmp_path):
    synthetic_idx_dir(tmp_path, gz=False)
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(MnistDataError, match=r"train-images-idx3-ubyte.*truncated"):
        load_mnist(tmp_path)


def test_trailing_bytes_in_idx(tmp_path):
    synthetic_idx_dir(tmp_path, gz=False)
    p = tmp_path / "train-labels-idx1-ubyte"
    p.write_bytes(p.read_bytes() + b"\0\0")
    with pytest.raises(MnistDataError, match="longer than its header"):
        load_mnist(tmp_path)


def test_wrong_magic_number(tmp_path):
    synthetic_idx_dir(tmp_path, gz=False)
    p = tmp_path / "t10k-labels-idx1-ubyte"
    raw = bytearray(p.read_bytes())
    raw[2] = 0x0D  # float element type
    p.write_bytes(bytes(raw))
    with pytest.raises(MnistDataError, match=r"t10k-labels-idx1-ubyte: magic number 0x00000d01"):
        load_mnist(tmp_path)


def test_image_and_label_counts_differ(tmp_path):
    synthetic_idx_dir(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(29, np.uint8))
    with pytest.raises(MnistDataError, match=r"30 train images but 29 train labels"):
        load_mnist(tmp_path)


def test_labels_outside_0_to_9(tmp_path):
    synthetic_idx_dir(tmp_path)
    labels = np.zeros(20, np.uint8)
    labels[7] = 11
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(MnistDataError, match=r"t10k-images.*outside 0..9.*index 7, is 11"):
        load_mnist(tmp_path)


def test_images_not_28x28(tmp_path):
    synthetic_idx_dir(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((20, 32, 32), np.uint8))
    with pytest.raises(
        MnistDataError, match=r"t10k-images.*\(20, 32, 32\), expected \(n, 28, 28\)"
    ):
        load_mnist(tmp_path)


def test_labels_file_where_images_belong(tmp_path):
    synthetic_idx_dir(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros(30, np.uint8))
    with pytest.raises(MnistDataError, match="holds labels, not images"):
        load_mnist(tmp_path)


def test_missing_file_in_idx_directory(tmp_path):
    synthetic_idx_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(MnistDataError, match=r"missing t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path)


def test_missing_path():
    with pytest.raises(MnistDataError, match="no such file or folder"):
        load_mnist("/nonexistent/mnist.npz")


def test_npz_missing_key(tmp_path):
    x, y = synthetic(5)
    p = tmp_path / "m.npz"
    np.savez(p, x_train=x, y_train=y, x_test=x)
    with pytest.raises(MnistDataError, match=r"m.npz: missing y_test"):
        load_mnist(p)


def test_npz_float_images_refused(tmp_path):
    x, y = synthetic(5)
    p = tmp_path / "m.npz"
    np.savez(p, x_train=x / 255.0, y_train=y, x_test=x, y_test=y)
    with pytest.raises(MnistDataError, match="not normalized ones"):
        load_mnist(p)


def test_npz_not_a_zip(tmp_path):
    p = tmp_path / "m.npz"
    p.write_bytes(b"this is not an archive")
    with pytest.raises(MnistDataError, match=r"m.npz: not a readable npz"):
        load_mnist(p)


@pytest.mark.realdata
@pytest.mark.parametrize(
    "name", ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz"]
)
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupted_copy_of_each_real_idx_file(tmp_path, idx_dir, name, damage):
    raw = bytearray((idx_dir / name).read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) * 2 // 3]
    else:
        raw[len(raw) // 2] ^= 0xFF
    bad = tmp_path / name
    bad.write_bytes(bytes(raw))
    with pytest.raises(MnistDataError, match=name):
        data.read_idx(bad)


@pytest.mark.realdata
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupted_copy_of_the_real_npz(tmp_path, partial_npz, damage):
    raw = bytearray(partial_npz.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw[len(raw) // 3] ^= 0x55
    bad = tmp_path / "mnist-partial.npz"
    bad.write_bytes(bytes(raw))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(MnistDataError, match="mnist-partial.npz"):
            load_mnist(bad)


def test_take_subset_is_stratified_and_keeps_the_test_set():
    full = load_mnist("sample")
    sub = data.take_subset(full, 1000, seed=3)
    (x, y), (xt, yt) = sub
    assert len(x) == 1000 and np.bincount(y).tolist() == [100] * 10
    assert xt is full[1][0] and sub.info.n_train == 1000 and "Subset of 1,000" in sub.info.note
    assert data.take_subset(full, 0) is full
    with pytest.raises(ValueError, match="at least 10"):
        data.take_subset(full, 5)


def test_load_fashion_reads_an_idx_folder_and_can_be_skipped(tmp_path):
    synthetic_idx_dir(tmp_path)
    fashion = data.load_fashion(tmp_path)
    # random arrays are neither MNIST nor Fashion-MNIST, and the description says so
    assert fashion.info.kind == "other" and fashion.info.n_train == 30
    assert "28x28 data that is not MNIST" in fashion.info.describe()
    assert data.load_fashion("skip") is None


def test_load_fashion_auto_uses_debians_copy():
    from conftest import _require

    folder = _require(
        data.FASHION_DEBIAN_DIR, "Fashion-MNIST (Debian: apt-get install dataset-fashion-mnist)"
    )
    (x, y), (xt, yt) = fashion = data.load_fashion("auto")
    assert fashion.info.location == str(folder)
    assert fashion.info.kind == "fashion-mnist" and fashion.info.dataset == "Fashion-MNIST"
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28) and y.max() == 9
