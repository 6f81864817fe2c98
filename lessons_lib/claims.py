"""What the lessons say about their own output, declared in one place.

A sentence in a lesson that states a figure or a comparison is one of two kinds:

* **Said from the run.** When the figure depends on the run (the data, the seed, the
  epochs), the lesson does not type it: it calls ``say(name, **figures)``, which writes
  the sentence from the figures with the builder registered here under ``name`` and shows
  it as Markdown under the output it describes. The figures travel with the sentence
  (MIME type ``SAID_MIME``), so a test can rebuild it and compare.
* **Stated from a measurement.** A figure measured once and quoted (98.84% on full MNIST)
  is typed in the lesson and declared in ``STATED`` with the committed file it comes from.

``tests/test_claims.py`` checks both against the executed lessons: every sentence a lesson
said is the builder's sentence for the figures the lesson recorded, every stated quote is
still in its lesson and equals its source, and any percentage or loss typed in a lesson's
prose that no claim here covers fails the test. A new sentence with a figure goes here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SAID_MIME = "application/vnd.digit-lessons.said+json"
ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- wording


def pct(x: float) -> str:
    """0.98844 -> '98.84%'."""
    return f"{x:.2%}"


def points(a: float, b: float) -> str:
    """The gap between two accuracies in percentage points: '0.64 points'."""
    gap = abs(a - b) * 100
    return f"{gap:.2f} point" + ("" if f"{gap:.2f}" == "1.00" else "s")


def _epochs(n: int) -> str:
    return f"{n} epoch" + ("" if n == 1 else "s")


# --------------------------------------------------------------------------- builders
# Each takes plain figures (numbers, lists, dicts) and returns Markdown. They never
# describe what the figures do not show: every comparison word is chosen from them.


def untrained_probabilities(rows: Sequence[Sequence[float]]) -> str:
    """Lesson 03: the spread of an untrained network's probabilities for a few images."""
    flat = [float(p) for row in rows for p in row]
    low, high = min(flat), max(flat)
    near = all(abs(p - 0.1) < 0.03 for p in flat)
    if near:
        return (
            f"Here they run from {low:.3f} to {high:.3f}: all close to 0.1 this time, "
            "but only because the random weights happened to give similar scores."
        )
    return (
        f"Here they run from {low:.3f} to {high:.3f}, not 0.1 each. The guesses are uneven, "
        "but they are not informed: nothing has been learnt yet."
    )


def untrained_loss(
    loss: float, accuracy: float, predicted_counts: Sequence[int], classes: int = 10
) -> str:
    """Lesson 03: the untrained loss against ln 10, and the accuracy against chance."""
    ln = math.log(classes)
    counts = [int(c) for c in predicted_counts]
    total = sum(counts)
    order = sorted(range(classes), key=lambda d: -counts[d])
    top = order[:2]
    top_share = (counts[top[0]] + counts[top[1]]) / total if total else 0.0
    chance = 1 / classes
    if loss > ln + 0.005:
        fav, rest = 0.46, (1 - 0.46) / (classes - 1)
        mix = -(math.log(fav) + (classes - 1) * math.log(rest)) / classes
        loss_text = (
            f"The loss, {loss:.3f}, is above ln {classes} = {ln:.3f}. The probabilities add up "
            "to 1, so the more an uninformed network puts on its favourite digit, the less the "
            f"others get, and the true digit is one of the others {classes - 1} times in "
            f"{classes}. Say it gives {fav:.2f} to its favourite and {rest:.2f} to each of the "
            f"others: where the favourite is right the loss is -ln {fav:.2f} = "
            f"{-math.log(fav):.2f}, everywhere else -ln {rest:.2f} = {-math.log(rest):.2f}, "
            f"an average of {mix:.2f}, more than ln {classes}."
        )
    elif loss < ln - 0.005:
        loss_text = (
            f"The loss, {loss:.3f}, is below ln {classes} = {ln:.3f}: by luck its random "
            "guesses lean slightly towards the right digits."
        )
    else:
        loss_text = (
            f"The loss, {loss:.3f}, is about ln {classes} = {ln:.3f}: its guesses are "
            f"nearly 1/{classes} each."
        )
    if abs(accuracy - chance) < 0.02:
        where = "about"
    else:
        where = "below" if accuracy < chance else "above"
    acc_text = f"The accuracy, {accuracy:.1%}, is {where} the {chance:.0%} that guessing gives" + (
        "." if where == "about" else ": chance, not skill."
    )
    if top_share >= 0.5:
        acc_text += (
            f" It reads {top_share:.0%} of the test images as a {top[0]} or a {top[1]}: every "
            "image shares the same background, so the largest part of each score is the same "
            "for every image, and whichever digits the random weights favour win almost "
            f"everywhere. Only images of those digits can come out right."
        )
    return f"{loss_text} {acc_text}"


def learning_curves(
    loss: Sequence[float], val_loss: Sequence[float], stopped_early: bool = False
) -> str:
    """Lesson 04: where the training loss sits against the validation loss, epoch by epoch."""
    n = len(loss)
    above = [t > v for t, v in zip(loss, val_loss, strict=True)]
    best = min(range(n), key=lambda i: val_loss[i]) + 1
    last = f"last epoch: training {loss[-1]:.3f}, validation {val_loss[-1]:.3f}"
    if all(above):
        where = "in its one epoch" if n == 1 else f"in every one of its {n} epochs"
        text = (
            f"In this run the training loss stayed **above** the validation loss {where} ({last})."
        )
    elif not any(above):
        text = (
            f"In this run the training loss stayed **below** the validation loss in every "
            f"epoch ({last})."
        )
    else:
        crossed = next(i for i in range(n) if not above[i]) + 1
        text = (
            f"In this run the training loss started above the validation loss and first fell "
            f"below it in epoch {crossed} of {n} ({last})."
        )
    text += f" The validation loss was lowest in epoch {best}"
    if best < n:
        text += f" and did not improve in the {_epochs(n - best)} after it"
    text += "."
    if stopped_early:
        text += " Early stopping ended the training and restored that epoch's weights."
    return text


SCALING_RANGES = ("raw 0..255", "[0, 1]", "[-1, 1]")  # lesson 02's experiment, in its order


def scaling_race(results: Sequence[Sequence]) -> str:
    """Lesson 02: the three input ranges, ranked as this run ranked them.

    ``results``: ``[name, test accuracy]`` pairs in the order the lesson ran them (a list,
    not a dict: a notebook stores JSON objects with their keys sorted).
    """
    results = {str(name): float(value) for name, value in results}
    order = sorted(results, key=lambda k: -results[k])
    shown = ", ".join(f"{k} {pct(results[k])}" for k in results)
    text = f"This run: {shown}. "
    missing = [k for k in SCALING_RANGES if k not in results]
    if missing:  # the experiment cell was interrupted: rank only what ran, and say so
        text += (
            f"{' and '.join(missing)} did not run: the experiment cell stopped before "
            f"{'it' if len(missing) == 1 else 'them'}. Run it again to compare all three. "
        )
    raw = next((k for k in results if k.startswith("raw")), None)
    scaled = [k for k in results if k != raw]
    if raw is not None and scaled:  # raw alone (an interrupted run) has nothing to rank against
        if order[-1] == raw:
            best = max(scaled, key=lambda k: results[k])
            text += (
                f"Raw pixels trained worst, {points(results[best], results[raw])} behind {best}. "
            )
        else:
            text += f"Raw pixels were not the worst this time ({order[-1]} was). "
    if len(scaled) == 2:
        a, b = sorted(scaled, key=lambda k: -results[k])
        if results[a] == results[b]:
            text += f"{a} and {b} tied."
        else:
            text += f"Of the two scaled versions, {a} led {b} by {points(results[a], results[b])}."
    return text.strip()


def dense_vs_cnn(dense: float, cnn: float, n_test: int) -> str:
    """Lesson 07: the two models on the same test set, in this run."""
    dense_wrong, cnn_wrong = round((1 - dense) * n_test), round((1 - cnn) * n_test)
    text = (
        f"In this run, on these {n_test:,} test digits: the CNN {pct(cnn)} "
        f"({cnn_wrong:,} wrong), the dense network {pct(dense)} ({dense_wrong:,} wrong). "
    )
    if cnn > dense:
        text += f"The CNN is ahead by {points(cnn, dense)}."
    elif dense > cnn:
        text += (
            f"The dense network is ahead by {points(cnn, dense)}: the CNN has not trained "
            "long enough in this run to overtake it."
        )
    else:
        text += "They tie."
    return text


def fashion_vs_digits(
    fashion: Mapping[str, float], digits: Mapping[str, float], epochs: int, n_train: int
) -> str:
    """Lesson 07: Fashion-MNIST against the digits, both models, as this run measured them."""
    f_dense, f_cnn = fashion["dense"], fashion["CNN"]
    d_dense, d_cnn = digits["dense"], digits["CNN"]
    text = (
        f"After {_epochs(epochs)} on {n_train:,} clothing images: dense {pct(f_dense)}, "
        f"CNN {pct(f_cnn)} (on the digits: dense {pct(d_dense)}, CNN {pct(d_cnn)}). "
    )
    harder = f_dense < d_dense and f_cnn < d_cnn
    if harder:
        text += "Clothes are harder than digits for both models. "
    else:
        text += "Clothes were not harder than digits for both models in this run. "
    f_gap, d_gap = f_cnn - f_dense, d_cnn - d_dense
    if f_gap > 0 and d_gap > 0:
        change = "grows" if f_gap > d_gap else "shrinks"
        text += (
            f"The CNN leads on both; its lead {change} from {points(d_cnn, d_dense)} on digits "
            f"to {points(f_cnn, f_dense)} on clothes."
        )
    elif f_gap <= 0 < d_gap:
        text += (
            f"On the digits the CNN leads by {points(d_cnn, d_dense)}, but on clothes the dense "
            f"network is ahead by {points(f_cnn, f_dense)} after only {_epochs(epochs)}: "
            "one short run does not settle which model suits clothes better."
        )
    elif f_gap > 0 >= d_gap:
        text += (
            f"On clothes the CNN leads by {points(f_cnn, f_dense)}; on the digits it did not "
            "lead in this run ("
            + (f"{points(d_cnn, d_dense)} behind" if d_gap < 0 else "level")
            + ")."
        )
    else:
        text += "The dense network is level or ahead on both in this run."
    return text


def first_layer(fires: Sequence[float], shown: int, n_images: int) -> str:
    """Lesson 06: which first-layer units never fire, and so still look like noise.

    ``fires``: for each unit, the share of the ``n_images`` test digits it fires on (> 0).
    """
    silent = [i for i, f in enumerate(fires) if f == 0]
    in_view = sum(1 for i in silent if i < shown)
    n = len(fires)
    if not silent:
        return (
            f"Every one of the {n} units fires on some of the {n_images:,} test digits, "
            "so each has been trained."
        )
    return (
        f"{len(silent)} of the {n} units ({in_view} of the {min(shown, n)} above) fire on none of "
        f"the {n_images:,} test digits: their ReLU gives 0 every time, so they pass nothing on. "
        "A unit that does not fire gets no gradient, so training hardly changed these: their "
        "weights still look like the random noise they started as. The units that do fire "
        "learnt the patterns you see."
    )


BUILDERS: dict[str, Callable[..., str]] = {
    "03.untrained_probabilities": untrained_probabilities,
    "03.untrained_loss": untrained_loss,
    "02.scaling_race": scaling_race,
    "04.learning_curves": learning_curves,
    "07.dense_vs_cnn": dense_vs_cnn,
    "07.fashion_vs_digits": fashion_vs_digits,
    "06.first_layer": first_layer,
}


def _plain(value):
    if hasattr(value, "tolist"):
        value = value.tolist()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class Said(str):
    """A sentence shown as Markdown, with the figures it was written from attached."""

    name: str
    figures: dict

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {
            "text/markdown": str(self),
            "text/plain": str(self),
            SAID_MIME: {"claim": self.name, "figures": self.figures},
        }


def say(name: str, **figures) -> Said:
    """The sentence ``name`` (a key of ``BUILDERS``) for these figures; a cell's value shows it."""
    if name not in BUILDERS:
        raise KeyError(f"no sentence named {name!r}; declare its builder in lessons_lib/claims.py")
    plain = {k: _plain(v) for k, v in figures.items()}
    said = Said(BUILDERS[name](**plain))
    said.name, said.figures = name, plain
    return said


def read_said(notebook) -> list[dict]:
    """Every sentence an executed notebook said: ``{"claim", "figures", "text"}``."""
    found = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if SAID_MIME in data:
                payload = data[SAID_MIME]
                payload = json.loads(payload) if isinstance(payload, str) else dict(payload)
                found.append({**payload, "text": "".join(data.get("text/markdown", ""))})
    return found


# --------------------------------------------------------------------------- stated figures


@dataclass(frozen=True)
class Stated:
    """A figure typed in a lesson's prose, and the committed measurement it must equal.

    ``quote``: the words as they stand in one markdown cell of ``lesson`` (line breaks and
    runs of spaces count as one space). ``source``: a JSON file under the project, or
    ``"reference"`` for the reference project's published figures (``evaluation.REFERENCE``).
    ``path``: where the value sits in it (``configs.lesson_dense.test_accuracy``,
    ``rows.8.val_accuracy``). ``shown``: how the quote writes it (``"{:.2%}"``); ``error``:
    the quote gives 1 - value. ``about``: fields the measured entry must have, so the quote
    names the right configuration (``{"shift": 0, "epochs": 8}``).
    """

    lesson: str
    quote: str
    source: str
    path: str
    shown: str
    error: bool = False
    about: Mapping = field(default_factory=dict)

    def entry(self) -> Mapping:
        """The JSON object that holds the value (``{}`` for the reference figures)."""
        if self.source == "reference":
            return {}
        node = json.loads((ROOT / self.source).read_text())
        for part in self.path.split(".")[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        return node

    def value(self) -> float:
        if self.source == "reference":
            from .evaluation import REFERENCE

            value = float(REFERENCE[self.path])
        else:
            value = float(self.entry()[self.path.split(".")[-1]])
        return 1 - value if self.error else value

    def expected_text(self) -> str:
        return self.shown.format(self.value())


ONECORE = "benchmarks/results/mnist-onecore.json"  # the current defaults, dense and CNN
TUNING = "benchmarks/results/dense-tuning.json"
CNN_TUNING = "benchmarks/results/cnn-tuning.json"
# lesson 07's quoted tune_cnn rows (seed 42): where each sits in cnn-tuning.json, and what it is
_CNN_RUN_F = "runs.deskewing and a higher rate, process F (core 0; rows 23-27)"
_CNN_RUN_G = "runs.deskewing and a higher rate, process G (core 1; rows 28-31)"
CNN_ROWS = {
    24: (_CNN_RUN_F, 1, {"straighten": False, "learning_rate": 0.004, "epochs": 6}),
    25: (_CNN_RUN_F, 2, {"straighten": True, "learning_rate": 0.002, "epochs": 6}),
    28: (_CNN_RUN_G, 0, {"straighten": True, "learning_rate": 0.004, "epochs": 6}),
}


def _reference(lesson: str, quote: str, key: str) -> Stated:
    return Stated(lesson, quote, "reference", key, "{:.2%}" if "accuracy" in key else "{:.2f}")


def _onecore(lesson: str, quote: str, config: str, key: str) -> Stated:
    shown = "{:.2%}" if "accuracy" in key else "{:.3f}"
    return Stated(lesson, quote, ONECORE, f"configs.{config}.{key}", shown)


def _tuning(quote: str, row: int, **about) -> Stated:
    return Stated("04", quote, TUNING, f"rows.{row}.val_accuracy", "{:.2%}", True, about)


def _cnn_tuning(quote: str, row: int) -> Stated:
    """Lesson 07: a validation accuracy from benchmarks/tune_cnn.py, row ``row`` of its GRID
    (``CNN_ROWS``: the run and place it sits in, and the settings it must have, so a reordered
    run fails)."""
    run, index, settings = CNN_ROWS[row]
    about = {"row": row, "seed": 42, **settings}
    return Stated(
        "07", quote, CNN_TUNING, f"{run}.rows.{index}.val_accuracy", "{:.2%}", False, about
    )


STATED: list[Stated] = [
    # the reference project's published figures
    _reference("00", "reached **97.50%** test accuracy", "test_accuracy"),
    _reference("00", "(loss about 0.14)", "test_loss"),
    _reference("05", "the reference project's 97.50%", "test_accuracy"),
    _reference("07", "reference project reported 97.50%", "test_accuracy"),
    _reference("07", "(loss about 0.14)", "test_loss"),
    # the lessons' defaults on full MNIST (benchmarks/bench_models.py)
    _onecore("00", "network reaches **98.86%**", "lesson_dense", "test_accuracy"),
    _onecore("00", "**98.86%** (loss 0.035)", "lesson_dense", "test_loss"),
    _onecore("00", "network **99.50%**", "lesson_cnn", "test_accuracy"),
    _onecore("00", "**99.50%** (loss 0.016)", "lesson_cnn", "test_loss"),
    _onecore("05", "this cell shows **98.86%**", "lesson_dense", "test_accuracy"),
    _onecore("05", "a loss of **0.035**", "lesson_dense", "test_loss"),
    _onecore("07", "the CNN reaches **99.50%**", "lesson_cnn", "test_accuracy"),
    _onecore("07", "**99.50%** (loss 0.016)", "lesson_cnn", "test_loss"),
    _onecore("07", "lesson 04 **98.86%**", "lesson_dense", "test_accuracy"),
    _onecore("07", "**98.86%** (loss 0.035)", "lesson_dense", "test_loss"),
    # lesson 04's augmentation figures: validation error (benchmarks/tune_dense.py)
    _tuning("error from 2.05%", 11, hidden_units=192, epochs=8, shift=0),
    _tuning("to 1.80%", 8, hidden_units=192, epochs=8, shift=1),
    _tuning("defaults reach 1.38%", 6, hidden_units=320, epochs=18, shift=1, batch_size=384),
    # lesson 07's CNN: deskewing and the starting rate (benchmarks/tune_cnn.py, seed 42)
    _cnn_tuning(
        "scored 99.28% on the 6,000 training images held out for validation without deskewing", 24
    ),
    _cnn_tuning("and 99.45% with it", 28),
    _cnn_tuning("starting from 0.002 scored 99.28%", 25),
    _cnn_tuning("starting from 0.004 99.45%", 28),
]

# Lesson 08's loop by hand, with the lesson's defaults (3 epochs of 128, rate 0.05, seed 42):
# measured by tests/test_claims.py on the offline sample and, where it is present, full MNIST.
HAND_LOOP = {
    "full": ("**94.0% on full MNIST", "{:.1%}"),
    "sample": ("about 89% on the 4,000-image offline sample", "{:.0%}"),
}

# Colours named in the prose, by their Okabe-Ito names, and the figure that must show them:
# (lesson, quote, colour, the code that draws the figure under the quote).
OKABE_ITO = {"blue": "#0072B2", "vermillion": "#D55E00", "bluish green": "#009E73"}
COLOURS: list[tuple[str, str, str, str]] = [
    (
        "06",
        "Blue with ✓: the predicted digit, when it is right",
        "blue",
        "predictions_with_probabilities",
    ),
    (
        "06",
        "Vermillion with ✗: the predicted digit, when it is wrong",
        "vermillion",
        "predictions_with_probabilities",
    ),
    (
        "06",
        "the true digit is then bluish green and striped",
        "bluish green",
        "predictions_with_probabilities",
    ),
]

# Lesson 01's class balance: "close" bars (the rarest digit has at least 80% of the
# commonest's images, checked on every run), and on full MNIST which digit is which.
BALANCE = {"quote": "The bars are close: no digit is rare.", "rarest_share": 0.8}
FULL_BALANCE = {
    "quote": "In the full set, 1 is the most common and 5 the least.",
    "most": 1,
    "least": 5,
}

# Comparisons typed in the prose without a figure: (lesson, quote, the measurement that must be
# larger, the one it must beat), both in benchmarks/results/mnist-full.json.
BEATS: list[tuple[str, str, str, str]] = [
    (
        "07",
        "on the complete MNIST, with the defaults, that takes the test accuracy past the dense "
        "network's",
        "configs.lesson_cnn.test_accuracy",
        "configs.lesson_dense.test_accuracy",
    ),
]
