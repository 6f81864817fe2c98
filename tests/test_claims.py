"""The lessons' sentences are true of the output under them (lessons_lib/claims.py).

Three kinds of check:

* every sentence a lesson *said* from its run is, word for word, the sentence its builder
  writes for the figures the lesson recorded (the whole series in --fast mode, on the
  offline sample: the run tests/test_runner.py already makes);
* every figure *stated* in a lesson's prose equals the committed measurement it cites, and
  no percentage or loss stands in the prose without a declared claim;
* each builder chooses its comparison words from the figures (hypothesis, fixed counts),
  including the cases the runs here did not produce (a dense network ahead on clothes).
"""

from __future__ import annotations

import base64
import io
import json
import math
import re

import nbformat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from lessons_lib import claims, handmade, runner
from lessons_lib.data import load_mnist
from lessons_lib.metrics import read_recorded
from lessons_lib.preprocess import prepare

BOOKS = {b.name[:2]: b for b in runner.lesson_notebooks()}


def prose(lesson: str) -> str:
    """A lesson's markdown, each run of white space as one space."""
    nb = nbformat.read(BOOKS[lesson], as_version=4)
    return " ".join(" ".join(c.source.split()) for c in nb.cells if c.cell_type == "markdown")


def flat(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- stated figures


@pytest.mark.parametrize("claim", claims.STATED, ids=lambda c: f"{c.lesson}:{c.quote[:30]}")
def test_each_stated_figure_is_in_its_lesson_and_equals_its_source(claim):
    assert flat(claim.quote) in prose(claim.lesson), (
        f"lesson {claim.lesson} no longer says {claim.quote!r}: change the claim with the sentence"
    )
    assert claim.expected_text() in claim.quote, (
        f"lesson {claim.lesson} says {claim.quote!r}, but {claim.source} gives "
        f"{claim.expected_text()}"
    )
    entry = claim.entry()
    for key, value in claim.about.items():
        assert entry[key] == value, f"{claim.quote!r} cites a row with {key}={entry[key]}"


FIGURE = re.compile(r"\d+(?:\.\d+)?\s?%|\bloss\b[^.\d]{0,24}\d\.\d+")


def test_no_figure_in_the_prose_is_undeclared():
    """A percentage or a loss typed in a lesson needs a claim in lessons_lib/claims.py."""
    quotes: dict[str, list[str]] = {}
    for c in claims.STATED:
        quotes.setdefault(c.lesson, []).append(flat(c.quote))
    quotes.setdefault("08", []).extend(flat(q) for q, _ in claims.HAND_LOOP.values())
    undeclared = []
    for lesson in BOOKS:
        text = prose(lesson)
        covered = [
            (m.start(), m.start() + len(q))
            for q in quotes.get(lesson, [])
            for m in re.finditer(re.escape(q), text)
        ]
        for m in FIGURE.finditer(text):
            if not any(a <= m.start() and m.end() <= b for a, b in covered):
                undeclared.append(f"{lesson}: ...{text[max(0, m.start() - 50) : m.end()]}")
    assert not undeclared, "figures in the prose with no claim:\n" + "\n".join(undeclared)


def test_the_figure_scan_finds_figures():
    """The scan itself: it must see the kinds of figure a lesson would type."""
    for text in ("reaches 98.84% on", "a loss of **0.037**", "about 89 % here", "loss 2.632"):
        assert FIGURE.search(text), text
    for text in ("784 x 64 + 64", "ln 10 ≈ 2.303", "x / 127.5 - 1", "Exercise 4.2"):
        assert not FIGURE.search(text), text


def hand_loop_accuracy(source, steps: int | None = None) -> float:
    """Lesson 08's loop with the defaults its parameters cell declares; ``steps``: how many
    mini-batch steps it must have taken."""
    p = {k: v.default for k, v in runner.notebook_parameters(BOOKS["08"]).items()}
    (x, y), (xt, yt) = load_mnist(source)
    W, b, losses = handmade.train(
        prepare(x),
        y,
        epochs=p["hand_epochs"],
        batch_size=p["hand_batch_size"],
        learning_rate=p["hand_learning_rate"],
        seed=p["seed"],
    )
    if steps is not None:
        assert len(losses) == steps
    return handmade.accuracy(W, b, prepare(xt), yt)


def test_lesson_08_states_what_its_loop_reaches_on_the_sample():
    quote, shown = claims.HAND_LOOP["sample"]
    assert flat(quote) in prose("08")
    assert shown.format(hand_loop_accuracy("sample")) in quote


@pytest.mark.realdata
def test_lesson_08_states_what_its_loop_reaches_on_full_mnist(full_npz):
    """(tests/test_handmade.py tries the loop itself on the sample; this is its one full run:
    3 epochs of 469 batches of 128.)"""
    quote, shown = claims.HAND_LOOP["full"]
    assert flat(quote) in prose("08")
    assert shown.format(hand_loop_accuracy(full_npz, steps=3 * 469)) in quote


# --------------------------------------------------------------------------- said from the run


def executed(fast_run, lesson: str):
    out, result = fast_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return nbformat.read(out / "notebooks" / BOOKS[lesson].name, as_version=4)


# For each sentence: the recorded figures it must have been written from (name in the
# sentence's figures -> key in the lesson's record(...)).
AGREES_WITH = {
    "02.scaling_race": {"results": "experiment"},
    "03.untrained_probabilities": {"rows": "untrained_probs"},
    "03.untrained_loss": {
        "loss": "untrained_loss",
        "accuracy": "untrained_accuracy",
        "predicted_counts": "untrained_counts",
    },
    "04.learning_curves": {"loss": "loss_curve", "val_loss": "val_loss_curve"},
    "06.first_layer": {},
    "07.dense_vs_cnn": {"dense": "dense_test_accuracy", "cnn": "cnn_test_accuracy"},
}
# Said only when the lesson has the data for it; the --fast run skips Fashion-MNIST.
CONDITIONAL = {"07.fashion_vs_digits"}


def close(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-4)
    return a == b


def test_every_builder_is_checked_here():
    assert set(claims.BUILDERS) == set(AGREES_WITH) | CONDITIONAL


@pytest.mark.notebooks
@pytest.mark.parametrize("name", sorted(AGREES_WITH))
def test_each_sentence_said_is_the_one_its_recorded_figures_give(fast_run, name):
    nb = executed(fast_run, name[:2])
    said = [s for s in claims.read_said(nb) if s["claim"] == name]
    assert len(said) == 1, f"lesson {name[:2]} said {name} {len(said)} times"
    (s,) = said
    assert s["text"] == claims.BUILDERS[name](**s["figures"])
    recorded = read_recorded(nb)
    for figure, key in AGREES_WITH[name].items():
        value = s["figures"][figure]
        if name == "02.scaling_race":  # said as [name, accuracy] pairs, recorded as a dict
            value = {k: round(v, 4) for k, v in value}
        assert close(value, recorded[key]), (
            f"{name}: the sentence was written from {figure}={value!r}, "
            f"but the lesson recorded {key}={recorded[key]!r}"
        )
    if name == "06.first_layer":
        silent = sum(1 for f in s["figures"]["fires"] if f == 0)
        assert silent == recorded["silent_units"]


@pytest.mark.notebooks
def test_lesson_03_says_its_untrained_loss_is_above_ln_10(fast_run):
    recorded = read_recorded(executed(fast_run, "03"))
    probs = np.array(recorded["untrained_probs"])
    assert recorded["untrained_loss"] > math.log(10), "an uninformed guess costs at least ln 10"
    assert np.abs(probs - 0.1).max() > 0.03, "the prose says the probabilities are uneven"


@pytest.mark.notebooks
def test_lesson_04_training_loss_sits_above_validation_loss_as_the_prose_says(fast_run):
    recorded = read_recorded(executed(fast_run, "04"))
    train, val = recorded["loss_curve"], recorded["val_loss_curve"]
    assert all(t > v for t, v in zip(train, val, strict=True)), (
        "lesson 04 says the training loss is usually above the validation loss"
    )


@pytest.mark.notebooks
def test_lesson_06_figure_shows_sure_unsure_and_wrong_readings(fast_run):
    recorded = read_recorded(executed(fast_run, "06"))
    shown, top = recorded["shown"], recorded["shown_top"]
    assert [len(shown[k]) for k in ("sure", "unsure", "wrong")] == [2, 2, 2]
    sure, unsure = top[:2], top[2:4]
    assert min(sure) > 0.9, "'a confident reading puts nearly everything on one bar'"
    assert max(unsure) < 0.6, "'a hesitant one spreads it'"


def figure_under(nb, code: str) -> np.ndarray:
    """The RGB pixels of the PNG output of the cell whose source contains ``code``."""
    from PIL import Image

    cell = next(c for c in nb.cells if c.cell_type == "code" and code in c.source)
    png = next(o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {}))
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(png))).convert("RGB"))


@pytest.mark.notebooks
@pytest.mark.parametrize("lesson, quote, colour, code", claims.COLOURS, ids=lambda v: str(v)[:20])
def test_each_colour_named_in_the_prose_is_in_the_figure_under_it(
    fast_run, lesson, quote, colour, code
):
    assert flat(quote) in prose(lesson)
    assert colour in quote.lower()
    pixels = figure_under(executed(fast_run, lesson), code)
    rgb = tuple(int(claims.OKABE_ITO[colour][i : i + 2], 16) for i in (1, 3, 5))
    count = int(np.all(pixels == rgb, axis=-1).sum())
    assert count > 100, f"the figure under {quote!r} has {count} pixels of {colour} {rgb}"


def test_the_colour_names_are_the_palette_the_figures_use():
    from lessons_lib import style

    assert claims.OKABE_ITO == {
        "blue": style.RIGHT,
        "vermillion": style.WRONG,
        "bluish green": style.TRUE,
    }


# --------------------------------------------------------------------------- the builders

accuracy = st.floats(0.05, 1.0, allow_nan=False)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.fixed_dictionaries({"dense": accuracy, "CNN": accuracy}), accuracy, accuracy)
def test_fashion_sentence_names_the_model_that_is_ahead(fashion, d_dense, d_cnn):
    text = claims.fashion_vs_digits(fashion, {"dense": d_dense, "CNN": d_cnn}, 3, 20000)
    f_gap, d_gap = fashion["CNN"] - fashion["dense"], d_cnn - d_dense
    assert f"dense {fashion['dense']:.2%}, CNN {fashion['CNN']:.2%}" in text
    harder = fashion["dense"] < d_dense and fashion["CNN"] < d_cnn
    assert ("Clothes are harder than digits for both models" in text) == harder
    assert ("grows" in text) == (f_gap > 0 and d_gap > 0 and f_gap > d_gap)
    assert ("shrinks" in text) == (f_gap > 0 and d_gap > 0 and f_gap <= d_gap)
    assert ("on clothes the dense network is ahead" in text) == (f_gap <= 0 < d_gap)


def test_fashion_sentence_on_the_runs_seen_so_far():
    """The learner's run (dense ahead on clothes) and this machine's (CNN ahead by less)."""
    digits = {"dense": 0.9884, "CNN": 0.9948}
    learner = claims.fashion_vs_digits({"dense": 0.8416, "CNN": 0.8352}, digits, 3, 20000)
    assert "on clothes the dense network is ahead by 0.64 points" in learner
    assert "grows" not in learner
    here = claims.fashion_vs_digits({"dense": 0.8395, "CNN": 0.8455}, digits, 3, 20000)
    assert "its lead shrinks from 0.64 points on digits to 0.60 points on clothes" in here


@settings(max_examples=200, deadline=None, derandomize=True)
@given(accuracy, accuracy, st.sampled_from([1000, 10000]))
def test_dense_vs_cnn_names_the_model_that_is_ahead(dense, cnn, n):
    text = claims.dense_vs_cnn(dense, cnn, n)
    assert f"the CNN {cnn:.2%}" in text and f"the dense network {dense:.2%}" in text
    assert ("The CNN is ahead" in text) == (cnn > dense)
    assert ("The dense network is ahead" in text) == (dense > cnn)


losses = st.lists(st.floats(0.01, 3.0, allow_nan=False), min_size=1, max_size=20)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.data())
def test_learning_curves_sentence_says_where_training_loss_sits(data):
    train = data.draw(losses)
    val = data.draw(st.lists(st.floats(0.01, 3.0), min_size=len(train), max_size=len(train)))
    text = claims.learning_curves(train, val)
    above = [t > v for t, v in zip(train, val, strict=True)]
    assert ("stayed **above**" in text) == all(above)
    assert ("stayed **below**" in text) == (not any(above))
    if any(above) and not all(above):
        first = above.index(False) + 1
        assert f"first fell below it in epoch {first} of {len(train)}" in text
    best = int(np.argmin(val)) + 1
    assert f"lowest in epoch {best}" in text


@pytest.mark.parametrize("ran", [1, 2])
def test_an_interrupted_experiment_is_said_to_be_incomplete(ran):
    """A newcomer stopped lesson 02's experiment during its last run and read a ranking of
    two as if it were the race of three. The sentence names what did not run."""
    results = list(zip(claims.SCALING_RANGES, (0.86, 0.93, 0.91), strict=True))[:ran]
    text = claims.scaling_race(results)
    missing = claims.SCALING_RANGES[ran:]
    assert f"{' and '.join(missing)} did not run" in text and "Run it again" in text
    assert "did not run" not in claims.scaling_race(
        list(zip(claims.SCALING_RANGES, (0.8, 0.9, 0.95), strict=True))
    )


def test_the_experiment_runs_the_ranges_the_sentence_expects():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "02_flatten_and_normalize.ipynb", 4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code" and "inputs = {" in c.source)
    block = cell[cell.index("inputs = {") : cell.index("}", cell.index("inputs = {"))]
    assert tuple(re.findall(r'^\s*"([^"]+)":', block, re.M)) == claims.SCALING_RANGES


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.floats(0.05, 1.0), min_size=3, max_size=3, unique=True))
def test_scaling_sentence_ranks_as_the_figures_do(values):
    results = dict(zip(["raw 0..255", "[0, 1]", "[-1, 1]"], values, strict=True))
    text = claims.scaling_race(list(results.items()))
    assert text.startswith(f"This run: raw 0..255 {values[0]:.2%}, [0, 1] {values[1]:.2%}")
    raw_worst = results["raw 0..255"] == min(values)
    assert ("Raw pixels trained worst" in text) == raw_worst
    leader = "[0, 1]" if results["[0, 1]"] > results["[-1, 1]"] else "[-1, 1]"
    other = "[-1, 1]" if leader == "[0, 1]" else "[0, 1]"
    assert f"{leader} led {other}" in text


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.floats(1.5, 4.0),
    st.floats(0.0, 1.0),
    st.lists(st.integers(0, 1000), min_size=10, max_size=10).filter(lambda c: sum(c) > 0),
)
def test_untrained_sentence_compares_with_ln_10_and_chance(loss, acc, counts):
    text = claims.untrained_loss(loss, acc, counts)
    if loss > math.log(10) + 0.005:
        assert "is above ln 10" in text
    elif loss < math.log(10) - 0.005:
        assert "is below ln 10" in text
    if abs(acc - 0.1) >= 0.02:
        assert (" is below the 10% that guessing gives" in text) == (acc < 0.1)
        assert (" is above the 10% that guessing gives" in text) == (acc > 0.1)
    top2 = sum(sorted(counts)[-2:]) / sum(counts)
    assert ("It reads" in text) == (top2 >= 0.5)


def test_untrained_probabilities_sentence_gives_the_range_shown():
    rows = [[0.072, 0.111, 0.262, 0.201, 0.073, 0.105, 0.031, 0.028, 0.101, 0.017]]
    text = claims.untrained_probabilities(rows)
    assert "from 0.017 to 0.262, not 0.1 each" in text
    assert "close to 0.1" in claims.untrained_probabilities([[0.1] * 10])


def test_first_layer_sentence_counts_the_silent_units():
    text = claims.first_layer([0.0, 0.5, 0.0, 0.2, 0.0], shown=3, n_images=10000)
    assert text.startswith("3 of the 5 units (2 of the 3 above) fire on none of the 10,000")
    assert "Every one of the 2 units" in claims.first_layer([0.1, 0.2], shown=2, n_images=10)


def test_say_refuses_an_undeclared_sentence():
    with pytest.raises(KeyError, match="declare its builder"):
        claims.say("09.nothing")


def test_said_sentence_carries_its_figures_for_the_test():
    said = claims.say("07.dense_vs_cnn", dense=np.float32(0.98), cnn=0.99, n_test=np.int64(1000))
    bundle = said._repr_mimebundle_()
    assert bundle["text/markdown"] == str(said)
    assert bundle[claims.SAID_MIME]["claim"] == "07.dense_vs_cnn"
    assert type(bundle[claims.SAID_MIME]["figures"]["n_test"]) is int


@pytest.mark.notebooks
def test_lesson_01_class_bars_are_close_as_it_says(fast_run):
    assert flat(claims.BALANCE["quote"]) in prose("01")
    counts = read_recorded(executed(fast_run, "01"))["class_counts"]
    assert min(counts) >= claims.BALANCE["rarest_share"] * max(counts)


@pytest.mark.realdata
def test_lesson_01_names_the_commonest_and_rarest_digit_of_full_mnist(full_npz):
    assert flat(claims.FULL_BALANCE["quote"]) in prose("01")
    (_, y), _ = load_mnist(full_npz)
    counts = np.bincount(y, minlength=10)
    assert int(np.argmax(counts)) == claims.FULL_BALANCE["most"]
    assert int(np.argmin(counts)) == claims.FULL_BALANCE["least"]
    assert counts.min() >= claims.BALANCE["rarest_share"] * counts.max()


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.floats(0.0, 1.0))
def test_examples_to_show_are_what_lesson_06_calls_them(seed, n, wrong_share):
    from lessons_lib import evaluation

    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(10, rng.uniform(0.05, 3)), size=n).astype(np.float32)
    y = probs.argmax(axis=1)
    flip = rng.random(n) < wrong_share
    y[flip] = (y[flip] + rng.integers(1, 10, flip.sum())) % 10
    shown = evaluation.examples_to_show(probs, y)
    chosen = [i for group in shown.values() for i in group]
    assert len(chosen) == len(set(chosen)) and all(len(g) <= 2 for g in shown.values())
    top, right = probs.max(axis=1), probs.argmax(axis=1) == y
    assert all(right[i] for i in shown["sure"]) and all(not right[i] for i in shown["wrong"])
    if shown["sure"]:
        others = [top[i] for i in np.flatnonzero(right) if i not in chosen]
        assert not others or min(top[shown["sure"]]) >= max(others)
    if shown["unsure"]:
        rest = [top[i] for i in range(n) if i not in chosen]
        assert not rest or max(top[shown["unsure"]]) <= min(rest)
    assert len(shown["wrong"]) == min(
        2, int((~right).sum()) - len(set(shown["unsure"]) & set(np.flatnonzero(~right)))
    )  # noqa: E501


@pytest.mark.parametrize("lesson, quote, larger, smaller", claims.BEATS, ids=lambda v: str(v)[:20])
def test_each_comparison_in_the_prose_holds_on_full_mnist(lesson, quote, larger, smaller):
    assert flat(quote) in prose(lesson)

    def measured(path):
        node = json.loads((ROOT / claims.ONECORE).read_text())
        for part in path.split("."):
            node = node[part]
        return node

    assert measured(larger) > measured(smaller), f"lesson {lesson} says {quote!r}"


def test_the_probability_figure_draws_one_row_per_chosen_example():
    from lessons_lib import evaluation, plots

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(10, 0.3), size=50).astype(np.float32)
    y = probs.argmax(axis=1)
    y[:5] = (y[:5] + 1) % 10  # five mistakes
    shown = evaluation.examples_to_show(probs, y)
    figure = plots.predictions_with_probabilities(np.zeros((50, 28, 28)), probs, y, indices=shown)
    titles = [ax.get_title() for ax in figure.axes[::2]]
    assert titles == ["sure", "sure", "unsure", "unsure", "wrong", "wrong"]
