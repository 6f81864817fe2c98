"""What loaded data is, split by split, and whether its parts belong together.

- Identity of each split, from SHA-256 of its raw bytes: official MNIST, Fashion-MNIST,
  or unknown (a subset or anything else).
- Leakage: test images that also sit in the training split (exact copies, found by a
  64-bit hash of each image).
- Labels that do not fit their images, on any data: a nearest-class-mean score (the mean
  image of each class from half a sample of a split, scored on the other half). Real
  digits score about 75% (MNIST) and clothes about 61% (Fashion-MNIST); shuffled labels
  score chance, 10%. The same score across the splits (means from the training split,
  scored on the test split) finds splits that hold different kinds of images.

Each finding is one sentence in ``DataInfo.problems``; :func:`lessons_lib.data.load_mnist`
shows them as a warning.
"""

from __future__ import annotations

import hashlib

import numpy as np

# SHA-256 of the official MNIST arrays' raw bytes (C order, uint8), computed from the
# official IDX files (MD5s as published by LeCun et al.) loaded through lessons_lib.data.
# They identify the data whatever file it came in: npz, IDX, gzipped or not.
OFFICIAL_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
# The same for Fashion-MNIST (Debian's dataset-fashion-mnist, the official files): the
# same shapes as MNIST, so only the content tells them apart.
FASHION_SHA256 = {
    "x_train": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
    "y_train": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
    "x_test": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
    "y_test": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
}
FASHION_TEST_LABELS_SHA256 = FASHION_SHA256["y_test"]

# Nearest-class-mean thresholds, from official MNIST (train 73-75%, test 75-77%, across
# 76-79%), Fashion-MNIST (59-62%), the offline sample (74-78%), shuffled training labels
# (9-12%), half of them shuffled (40-43% against 77% for the test split) and Fashion
# training images with MNIST test images (across 8-10%); 1,000 images score each figure.
LABELS_FIT = 0.30  # below: the labels do not fit the images
SPLITS_DIFFER = 0.20  # one split this far below the other: its labels are partly wrong
CHECK_SAMPLE = 2000


def sha(*arrays: np.ndarray) -> str:
    """SHA-256 of the arrays' raw bytes in turn, without copying them."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))
    return digest.hexdigest()


def split_identity(images: np.ndarray, labels: np.ndarray, split: str) -> str:
    """ "official", "fashion" or "unknown" for one split ("train" or "test")."""
    x_key, y_key = f"x_{split}", f"y_{split}"
    label_hash = sha(labels)
    for name, table in (("official", OFFICIAL_SHA256), ("fashion", FASHION_SHA256)):
        if label_hash == table[y_key] and sha(images) == table[x_key]:
            return name
    return "unknown"


def _image_hashes(images: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """One 64-bit hash per image: its 98 eight-byte words times fixed odd numbers, summed
    (wrapping). Equal images give equal hashes; different ones collide about once in 2^64."""
    flat = np.ascontiguousarray(images).reshape(len(images), -1)
    pad = (-flat.shape[1]) % 8
    keys = np.random.default_rng(20240601).integers(1, 2**63, (flat.shape[1] + pad) // 8)
    keys = keys.astype(np.uint64) | np.uint64(1)
    out = np.empty(len(flat), np.uint64)
    for start in range(0, len(flat), chunk):
        block = flat[start : start + chunk]
        if pad:
            block = np.pad(block, ((0, 0), (0, pad)))
        words = np.ascontiguousarray(block).view(np.uint64)
        with np.errstate(over="ignore"):
            out[start : start + chunk] = (words * keys).sum(axis=1, dtype=np.uint64)
    return out


def leaked(train_images: np.ndarray, test_images: np.ndarray) -> int:
    """How many test images are exact copies of a training image."""
    return int(np.isin(_image_hashes(test_images), _image_hashes(train_images)).sum())


def _features(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) uint8 -> (n, 196) float32: 2x2 means, centred, unit length."""
    a = (
        images.astype(np.float32)
        .reshape(-1, 14, 2, 14, 2)
        .mean(axis=(2, 4))
        .reshape(len(images), -1)
    )
    a -= a.mean(axis=1, keepdims=True)
    a /= np.linalg.norm(a, axis=1, keepdims=True) + 1e-6
    return a


def class_mean_score(x_fit, y_fit, x_score, y_score) -> float:
    """Share of ``x_score`` whose nearest class mean (from ``x_fit``) is its label."""
    fit, score = _features(x_fit), _features(x_score)
    means = np.stack(
        [
            fit[y_fit == c].mean(axis=0) if np.any(y_fit == c) else np.zeros(fit.shape[1])
            for c in range(10)
        ]
    )
    return float(np.mean((score @ means.T).argmax(axis=1) == y_score))


def _sample(n: int, size: int, rng) -> np.ndarray:
    return np.sort(rng.choice(n, min(n, size), replace=False))


def label_scores(train, test, seed: int = 0) -> dict[str, float]:
    """{"train": within the training split, "test": within the test split, "across": means
    from the training split scored on the test split}, each on up to 1,000 images."""
    rng = np.random.default_rng(seed)
    scores = {}
    for name, (x, y) in (("train", train), ("test", test)):
        idx = _sample(len(x), CHECK_SAMPLE, rng)
        half = len(idx) // 2
        scores[name] = class_mean_score(x[idx[:half]], y[idx[:half]], x[idx[half:]], y[idx[half:]])
    i = _sample(len(train[0]), CHECK_SAMPLE // 2, rng)
    j = _sample(len(test[0]), CHECK_SAMPLE // 2, rng)
    scores["across"] = class_mean_score(train[0][i], train[1][i], test[0][j], test[1][j])
    return scores


NAMES = {"official": "official MNIST", "fashion": "Fashion-MNIST (clothing, not digits)"}


def problems(train, test, identities: tuple[str, str]) -> list[str]:
    """One sentence per thing wrong with how the splits go together (empty when nothing is).

    Official MNIST and Fashion-MNIST, each whole, are known to be sound and are not scored.
    """
    found = []
    if identities[0] != "unknown" and identities[0] == identities[1]:
        return found
    if identities[0] != identities[1] and "unknown" not in identities:
        found.append(
            f"the training split is {NAMES[identities[0]]} but the test split is "
            f"{NAMES[identities[1]]}: a model trained on one is scored on the other"
        )
    copies = leaked(train[0], test[0])
    if copies:
        same = " (the training split holds the test split)" if copies == len(test[0]) else ""
        found.append(
            f"{copies:,} of the {len(test[0]):,} test images are also in the training "
            f"split{same}: test figures would look better than the model is"
        )
    if len(train[0]) < 20 or len(test[0]) < 20:
        return found
    scores = label_scores(train, test)
    for split in ("train", "test"):
        other = "test" if split == "train" else "train"
        name = "training" if split == "train" else "test"
        if scores[split] < LABELS_FIT:
            found.append(
                f"the {name} labels do not fit the images (shuffled?): the mean image of each "
                f"class finds {scores[split]:.0%} of them, chance is 10%, real digits about 75%"
            )
        elif scores[split] < scores[other] - SPLITS_DIFFER:
            found.append(
                f"many {name} labels look wrong: the mean image of each class finds "
                f"{scores[split]:.0%} of them, against {scores[other]:.0%} in the {other} split"
            )
    if min(scores["train"], scores["test"]) >= LABELS_FIT and scores["across"] < LABELS_FIT:
        if not any("but the test split is" in f for f in found):
            found.append(
                "the training and test splits do not hold the same kind of images: class means "
                f"from one find {scores['across']:.0%} of the other (real digits: about 75%)"
            )
    return found
