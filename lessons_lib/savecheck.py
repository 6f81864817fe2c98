"""What a saved lesson model may be, checked before a byte of it is inflated or built.

A ``.keras`` file is a zip. Python's zipfile never inflates a member past the size the
zip's directory declares for it, so checking the declared sizes (and each member's
compression ratio) bounds every read that follows, ours and Keras'. The limits come
from what the lessons' models can be: lesson 04's dense network (``models.dense_model``)
on 784 inputs with 10 outputs, at most ``MAX_PARAMS`` weights, so that loading one
(an in-memory copy of the file, Keras' own copy of its weights member, and the
variables: about 36 bytes per weight) stays inside ``LOAD_BUDGET``. Only the standard library is used here.
"""

from __future__ import annotations

import json
import zipfile

from . import params

CONFIG_MEMBER = "config.json"
WEIGHTS_MEMBER = "model.weights.h5"
KERAS_META_MEMBER = "metadata.json"
META_MEMBER = "lessons_meta.json"  # inside the .keras zip: history, parameters, data
KERAS_MEMBERS = (KERAS_META_MEMBER, CONFIG_MEMBER, WEIGHTS_MEMBER)

INPUTS, OUTPUTS = 784, 10


def dense_params(units: int, layers: int) -> int:
    """Weights of lesson 04's network: ``layers`` Dense(``units``) on 784 inputs, then 10."""
    size, width = 0, INPUTS
    for _ in range(layers):
        size += (width + 1) * units
        width = units
    return size + (width + 1) * OUTPUTS


# A lesson must stay under 1.5 GB; its data and TensorFlow take up to about 0.7 GB (the
# README's per-lesson table), which leaves this much for loading the model.
LOAD_BUDGET = 768 * 2**20
# float32 weights and Adam's two moments (12 bytes), held three times: an in-memory copy
# of the file, Keras' copy of the weights member, the variables themselves.
BYTES_PER_PARAM_LOADED = 36
_schema_max = dense_params(
    int(params.SPECS["hidden_units"].high), int(params.SPECS["hidden_layers"].high)
)
MAX_PARAMS = min(_schema_max, LOAD_BUDGET // BYTES_PER_PARAM_LOADED)
# The weights member holds the weights and, once trained, Adam's two moments (12 bytes a
# weight) plus HDF5's bookkeeping: 27 KB for the default network, about 2 KB a layer.
MAX_WEIGHTS_BYTES = 12 * MAX_PARAMS + 2**20

# Declared (uncompressed) size allowed for each member. The record holds at most 200
# epochs of six figures each and a dozen parameters: a few KB.
MEMBER_LIMITS = {
    KERAS_META_MEMBER: 16 * 2**10,
    CONFIG_MEMBER: 256 * 2**10,  # about 5 KB for the default network, 15 KB for 10 layers
    META_MEMBER: 2**20,
    WEIGHTS_MEMBER: MAX_WEIGHTS_BYTES,
}
MAX_FILE_BYTES = sum(MEMBER_LIMITS.values()) + 2**20
# Keras and these lessons store members uncompressed; a zip tool may deflate them, which
# shrinks weights a little and JSON about tenfold. A bomb inflates hundreds of times.
MAX_RATIO = 20
RATIO_FLOOR = 64 * 2**10  # members smaller than this may have any ratio

# Layers lesson 04's network is made of, and those that hold no weights.
WEIGHTLESS = {
    "InputLayer",
    "Reshape",
    "RandomTranslation",
    "PixelShift",
    "Flatten",
    "Dropout",
    "Activation",
}


def _problem(reason: str, tag: str):
    """A SavedModelProblem without its path: the caller, which knows it, raises it again."""
    from .saves import SavedModelProblem

    return SavedModelProblem(None, reason, tag)


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MB" if n >= 2**20 else f"{n / 2**10:,.0f} KB"


def check_members(zf: zipfile.ZipFile, file_size: int) -> None:
    """Every member's declared size and compression ratio against what a lesson model can be.

    Raises SavedModelProblem (path filled in by the caller) before anything is inflated.
    """
    if file_size > MAX_FILE_BYTES:
        raise _problem(
            f"is {_mb(file_size)}, larger than any model these lessons can load "
            f"({_mb(MAX_FILE_BYTES)} at most)",
            "too-large",
        )
    infos = zf.infolist()
    if len(infos) > 2 * len(MEMBER_LIMITS):
        raise _problem(f"holds {len(infos):,} files; a lesson model holds 4", "foreign")
    for info in infos:
        limit = MEMBER_LIMITS.get(info.filename)
        if limit is None:
            raise _problem(
                f"holds {info.filename[:60]!r}, which a lesson model never holds", "foreign"
            )
        if info.file_size > limit:
            raise _problem(
                f"declares {_mb(info.file_size)} for its {info.filename}; a lesson model's "
                f"is at most {_mb(limit)}",
                "too-large",
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _problem(
                f"declares {_mb(info.file_size)} for its {info.filename} but stores only "
                f"{_mb(info.compress_size)} (a compression bomb)",
                "too-large",
            )
    bad = zf.testzip()  # reads every member (bounded above) and checks its CRC
    if bad is not None and bad != META_MEMBER:
        raise _problem(f"is damaged (member {bad} fails its checksum)", "damaged")
    if CONFIG_MEMBER not in zf.namelist() or WEIGHTS_MEMBER not in zf.namelist():
        raise _problem("is not a Keras model (no config.json or weights inside)", "foreign")


def read_member(zf: zipfile.ZipFile, name: str) -> bytes | None:
    """A member's bytes (its declared size is already checked); None if its CRC fails."""
    try:
        return zf.read(name)
    except zipfile.BadZipFile:
        return None


def check_config(blob: bytes | None) -> int:
    """The number of weights the model in config.json declares, refused when it is not
    lesson 04's kind of network or is larger than ``MAX_PARAMS``. Keras builds nothing
    before this passes."""
    try:
        config = json.loads(blob)
        layers = config["config"]["layers"]
        if not isinstance(layers, list):
            raise TypeError("layers is not a list")
    except (ValueError, TypeError, KeyError, RecursionError):
        raise _problem("is damaged (its config.json cannot be read)", "damaged") from None
    total, width = 0, None
    for layer in layers:
        kind = layer.get("class_name") if isinstance(layer, dict) else None
        cfg = layer.get("config") if isinstance(layer, dict) else None
        if not isinstance(cfg, dict):
            cfg = {}
        if kind == "InputLayer":
            shape = cfg.get("batch_shape") or cfg.get("batch_input_shape") or []
            width = shape[-1] if shape and isinstance(shape[-1], int) else None
        elif kind == "Flatten":
            width = INPUTS
        elif kind == "Dense":
            units = cfg.get("units")
            if not isinstance(units, int) or isinstance(units, bool) or units < 1:
                raise _problem("is damaged (a Dense layer without a unit count)", "damaged")
            inputs = width if isinstance(width, int) and width > 0 else INPUTS
            total += (inputs + 1) * units
            width = units
        elif kind not in WEIGHTLESS:
            raise _problem(
                f"holds a {str(kind)[:40]} layer, which lesson 04's dense network has not",
                "mismatched",
            )
        if total > MAX_PARAMS:
            break
    if total > MAX_PARAMS:
        raise _problem(
            f"declares more than {MAX_PARAMS / 1e6:.0f} million weights, more than a lesson "
            f"can load within its memory ({_mb(LOAD_BUDGET)} for the model)",
            "too-large",
        )
    return total
