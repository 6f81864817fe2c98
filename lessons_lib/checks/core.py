"""The rules every check follows, written once.

- **How a number is shown**: :func:`number` writes it as a person would (``0.3178``, ``60,000``,
  ``NaN``), never ``np.float32(0.3178...)``; :func:`describe` names any other answer in words
  (``the text '784'``, ``an array of shape (10,), dtype float32``, ``a TensorFlow tensor``).
- **What a blank answer gets**: ``not answered yet`` and the exercise's hint, a nudge toward the
  idea that is the same words as the notebook's *Hint* block (a test holds them equal, and holds
  both clear of the worked solution's code).
- **When a misconception may be named**: a check lists the common slips of its exercise as
  :class:`Slip` values (what that slip computes on this data). The right answer always wins; a
  slip is named only when it alone gives the learner's value. When several slips give the same
  value, the message says so and names them all as possibilities, never one as if it knew.
- **Types first**: an answer of the wrong type (text, a bool, a list, a TensorFlow tensor, an
  array where one number is asked...) is refused with what it is and what is wanted, before any
  value is compared, so no wrong type can pass.
- **Never raise**: every check runs inside :func:`check`, which turns an unexpected error into a
  ``Not yet`` that says so (and marks it, so the tests can tell a check bug from feedback).
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..progress import record as _record


@dataclass
class CheckResult:
    """Outcome of one check: ``passed`` and a message in plain words."""

    exercise: str
    passed: bool
    message: str
    #: set only when the check itself failed on this answer (a bug to fix, not feedback)
    check_error: str | None = field(default=None, compare=False)
    #: what the learner sees, the heading above the cell ("Exercise 4.1"); else the id
    label: str = field(default="", compare=False)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mark = "✓ Correct" if self.passed else "✗ Not yet"
        return f"{mark} ({self.label or self.exercise}): {self.message}"

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        colour = "green" if self.passed else "#b00"
        mark = "✓ **Correct**" if self.passed else "✗ **Not yet**"
        text = self.message.replace("<", "&lt;").replace(">", "&gt;")
        return f"<span style='color:{colour}'>{mark}</span> ({self.label or self.exercise}): {text}"


# --------------------------------------------------------------------------- showing values


def number(x) -> str:
    """A real number as a person writes it: ``784``, ``60,000``, ``0.3178``, ``2.303``, ``NaN``."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        n = int(x)
        if abs(n) >= 10**308:
            return "a number too large to hold"
        if abs(n) >= 10**15:
            return np.format_float_scientific(float(n), precision=3, trim="-")
        return f"{n:,}"
    try:
        f = float(x)
    except OverflowError:
        return "a number too large to hold"
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "infinity" if f > 0 else "minus infinity"
    if f.is_integer() and abs(f) < 1e15:
        return f"{int(f):,}"
    a = abs(f)
    if a < 1e-4 or a >= 1e15:
        return np.format_float_scientific(f, precision=3, trim="-")
    if a >= 1000:
        return f"{f:,.1f}"
    own = x if isinstance(x, np.floating) else np.float64(f)
    shortest = np.format_float_positional(own, unique=True, trim="-")
    if len(shortest.lstrip("-").replace(".", "").lstrip("0")) <= 6:
        return shortest  # as typed: 0.1, 2.5, 0.98765
    return np.format_float_positional(f, precision=4, unique=True, fractional=False, trim="-")


def _is_tensor(x) -> bool:
    """A TensorFlow/Keras/JAX/PyTorch tensor or variable (without importing any of them)."""
    root = type(x).__module__.split(".")[0]
    return root in ("tensorflow", "keras", "torch", "jax", "jaxlib") and hasattr(x, "shape")


def _shape(x) -> str:
    try:
        return str(tuple(int(d) if d is not None else None for d in x.shape))
    except (TypeError, ValueError, AttributeError):
        return "unknown"


def describe(answer) -> str:
    """Any answer in words, for echoing it back: never a raw repr such as ``np.int64(4)``."""
    if answer is None:
        return "None"
    if isinstance(answer, (bool, np.bool_)):
        return f"{bool(answer)} (a yes/no value)"
    if isinstance(answer, numbers.Number) or (
        isinstance(answer, np.ndarray) and answer.ndim == 0 and answer.dtype.kind in "iuf"
    ):
        try:
            return number(answer.item() if isinstance(answer, np.ndarray) else answer)
        except (TypeError, ValueError):
            return f"a {type(answer).__name__}"
    if isinstance(answer, (str, bytes)):
        text = answer if isinstance(answer, str) else answer.decode("latin-1")
        short = text[:30] + ("…" if len(text) > 30 else "")
        short = short.replace("`", "'").replace("\n", " ")
        return f"the text '{short}'"
    if _is_tensor(answer):
        return f"a TensorFlow tensor of shape {_shape(answer)}"
    if isinstance(answer, np.ndarray):
        return f"an array of shape {answer.shape}, dtype {answer.dtype}"
    if isinstance(answer, (list, tuple, set, dict, range)):
        kind = {"list": "Python list", "dict": "dictionary"}.get(
            type(answer).__name__, type(answer).__name__
        )
        n = len(answer)
        return f"a {kind} of {n:,} item{'s' if n != 1 else ''}"
    if isinstance(answer, type):
        return f"the class {answer.__name__} itself"
    if callable(answer):
        return f"the function {getattr(answer, '__name__', '?')} itself"
    return f"a {type(answer).__name__}"


# --------------------------------------------------------------------------- type gates


class Refused(Exception):
    """An answer of the wrong type: the message says what it is and what is wanted."""


def _refuse_common(answer, wanted: str) -> None:
    if isinstance(answer, (bool, np.bool_)):
        raise Refused(f"{answer} is a yes/no value, not {wanted}.")
    if isinstance(answer, (str, bytes)):
        raise Refused(f"that is {describe(answer)}, not {wanted}: {_unquote(answer)}")
    if _is_tensor(answer):
        raise Refused(
            f"that is {describe(answer)}; this exercise works in plain Python and NumPy: "
            "compute it with NumPy (or convert with .numpy())."
        )


def _unquote(text: str | bytes) -> str:
    """What to type instead of quoted text: leaving out only the quotes must give Python a
    number, so a % sign or a thousands comma is named too ('98.86%' unquoted is a syntax
    error, 60,000 a pair of numbers)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    plain = text.strip()
    if plain.endswith("%"):
        try:
            value = float(plain[:-1].replace(",", "")) / 100
        except ValueError:
            return "leave out the quotes and the % sign: a percentage p% is the number p / 100."
        return f"leave out the quotes and the % sign: {plain} is the number {value:.6g}."
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", plain):
        return (
            f"leave out the quotes and the commas: Python reads {plain} as several numbers; "
            f"write {plain.replace(',', '')}."
        )
    return "leave out the quotes."


def as_whole(answer) -> int:
    """A count or a position: int, NumPy integer, or a float with nothing after the point."""
    wanted = "a whole number"
    _refuse_common(answer, wanted)
    if isinstance(answer, np.ndarray) and answer.ndim == 0:
        answer = answer[()]
    if isinstance(answer, (int, np.integer)):
        return int(answer)
    if isinstance(answer, (float, np.floating)):
        f = float(answer)
        if math.isnan(f) or math.isinf(f):
            raise Refused(f"{number(f)} is not a count: {wanted} is wanted.")
        if not f.is_integer():
            raise Refused(f"{number(f)} has a fractional part; the answer is {wanted}.")
        return int(f)
    raise Refused(_not_one_number(answer))


def as_real(answer) -> float:
    """One real number: int, float, NumPy scalar or 0-d array; not NaN, not infinite."""
    wanted = "one number"
    _refuse_common(answer, wanted)
    if isinstance(answer, np.ndarray) and answer.ndim == 0:
        answer = answer[()]
    if isinstance(answer, (int, float, np.integer, np.floating)) and not isinstance(
        answer, (bool, np.bool_)
    ):
        try:
            f = float(answer)
        except OverflowError:
            raise Refused(f"{number(answer)} is far too large to be the answer.") from None
        if math.isnan(f):
            raise Refused(
                "NaN (not a number): something was undefined on the way, "
                "such as the log of 0 or 0 / 0."
            )
        if math.isinf(f):
            raise Refused(f"{number(f)}: a log of 0 or a division by 0 on the way?")
        return f
    raise Refused(_not_one_number(answer))


def _not_one_number(answer) -> str:
    if isinstance(answer, np.ndarray) and answer.size == 1:
        return (
            f"that is {describe(answer)} holding one number; take the number out of it "
            "with .item()."
        )
    if isinstance(answer, (np.ndarray, list, tuple, set, dict, range)):
        return f"that is {describe(answer)}; the answer is one number."
    return f"that is {describe(answer)}, not a number."


def as_array(answer, wanted: str = "a NumPy array") -> np.ndarray:
    """A numeric NumPy array (integers or floats): not a list, a tensor, text or one number."""
    _refuse_common(answer, wanted)
    if isinstance(answer, np.ndarray):
        if answer.dtype.kind not in "iuf":
            raise Refused(f"that is {describe(answer)}; {wanted} of numbers is wanted.")
        return np.asarray(answer)
    if isinstance(answer, (list, tuple)):
        raise Refused(
            f"that is {describe(answer)}; the answer is {wanted}: "
            "NumPy operations on arrays give one."
        )
    raise Refused(f"that is {describe(answer)}, not {wanted}.")


# --------------------------------------------------------------------------- slips


@dataclass(frozen=True)
class Slip:
    """A common wrong answer: what it computes (``what``), its value here, and why it is not it.

    ``value`` may be a function of no arguments, computed only when needed (large arrays).
    The message shown when this slip alone fits is ``"<answer> is <what>: <why>"``.
    """

    what: str
    value: Any
    why: str

    def get(self):
        return self.value() if callable(self.value) else self.value


@dataclass(frozen=True)
class Refusal:
    """An answer of a recognisable wrong type or form, named before any value is compared."""

    test: Callable[[Any], bool]
    message: str

    def fits(self, answer) -> bool:
        """Whether the answer has this form; an answer the test cannot even look at has not."""
        try:
            return bool(self.test(answer))
        except (TypeError, ValueError, AttributeError, IndexError):
            return False


Close = Callable[[Any, Any], bool]


def close_scalar(rel: float = 0.0, abs_: float = 0.0) -> Close:
    def close(a, b) -> bool:
        try:
            return b is not None and math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)
        except (TypeError, ValueError, OverflowError):
            return False

    return close


def close_array(atol: float = 1e-6, rtol: float = 1e-5) -> Close:
    def close(a, b) -> bool:
        if b is None:
            return False
        b = np.asarray(b)
        if a.shape != b.shape:
            return False
        with np.errstate(all="ignore"):
            return bool(np.allclose(a, b, atol=atol, rtol=rtol))

    return close


# --------------------------------------------------------------------------- exercises


ALL: dict[str, Exercise] = {}


class Exercise:
    """One exercise: its id, its number, its hint, and the ways a check answers.

    The id (``04.compile``) is what progress files and grading record; the number is what the
    learner reads, the one in the notebook's heading: lesson 04's first exercise is 4.1. It
    counts the lesson's exercises in the order they are defined, which is their order in the
    notebook (``tests/test_checks.py`` holds the two together)."""

    def __init__(self, lesson: str, key: str, hint: str):
        self.lesson, self.key, self.hint = lesson, key, hint
        self.id = f"{lesson}.{key}"
        before = ALL.get(self.id)  # defined again (a module reloaded): keeps its number
        count = sum(e.lesson == lesson for e in ALL.values())
        self.number = before.number if before else f"{int(lesson)}.{count + 1}"
        ALL[self.id] = self

    def result(self, passed: bool, message: str, check_error: str | None = None) -> CheckResult:
        _record(self.id, passed)
        return CheckResult(self.id, passed, message, check_error, label=f"Exercise {self.number}")

    def right(self, message: str) -> CheckResult:
        return self.result(True, message)

    def wrong(self, message: str, hint: bool = False) -> CheckResult:
        return self.result(False, f"{message} Hint: {self.hint}" if hint else message)

    def blank(self) -> CheckResult:
        return self.wrong("not answered yet: replace `None` with your code.", hint=True)

    def named(self, subject: str, matched: Sequence[Slip]) -> CheckResult:
        """The rule for naming: one slip fits, name it; several fit, say so; none, the hint."""
        distinct: list[Slip] = []
        for slip in matched:
            if all(slip.why != s.why for s in distinct):
                distinct.append(slip)
        if len(distinct) == 1:
            return self.wrong(f"{subject} is {distinct[0].what}: {distinct[0].why}")
        if distinct:
            options = "; or ".join(s.what for s in distinct)
            return self.wrong(
                f"{subject} is not it. More than one slip gives that, so which one is yours "
                f"cannot be told from the value: {options}.",
                hint=True,
            )
        return self.wrong(f"{subject} is not it.", hint=True)

    def matches(
        self, value, right, slips: Sequence[Slip], close: Close, slip_close: Close | None = None
    ) -> list[Slip] | None:
        """None if ``value`` is right; else the slips whose value it is (the right answer wins).

        ``slip_close`` may be tighter than ``close``: slips of one exercise can lie close together.
        """
        if close(value, right):
            return None
        matched = []
        for slip in slips:
            v = slip.get()
            if v is not None and (slip_close or close)(value, v) and not close(v, right):
                matched.append(slip)
        return matched

    def judge_number(
        self,
        answer,
        right,
        ok: str,
        slips: Sequence[Slip] = (),
        *,
        whole: bool,
        close: Close | None = None,
        refusals: Sequence[Refusal] = (),
        unnamed: Callable[[float], str | None] | None = None,
        slip_close: Close | None = None,
    ) -> CheckResult:
        """A check whose answer is one number (a count or position if ``whole``)."""
        for refusal in refusals:
            if refusal.fits(answer):
                return self.wrong(refusal.message)
        try:
            value = as_whole(answer) if whole else as_real(answer)
        except Refused as why:
            return self.wrong(str(why))
        matched = self.matches(value, right, slips, close or close_scalar(), slip_close)
        if matched is None:
            return self.right(ok)
        message = unnamed(value) if unnamed is not None and not matched else None
        return self.wrong(message) if message else self.named(number(value), matched)

    def judge_array(
        self,
        answer,
        right: np.ndarray,
        ok: str,
        slips: Sequence[Slip] = (),
        *,
        close: Close | None = None,
        refusals: Sequence[Refusal] = (),
        wrong_shape: Callable[[tuple], str] | None = None,
        dtype: Callable[[np.ndarray], str | None] | None = None,
        unnamed: Callable[[np.ndarray], str] | None = None,
        wanted: str = "a NumPy array",
    ) -> CheckResult:
        """A check whose answer is an array: type, then value and slips, then shape, then dtype."""
        for refusal in refusals:
            if refusal.fits(answer):
                return self.wrong(refusal.message)
        try:
            value = as_array(answer, wanted)
        except Refused as why:
            return self.wrong(str(why))
        matched = self.matches(value, right, slips, close or close_array())
        if matched is None:
            problem = dtype(value) if dtype is not None else None
            return self.wrong(problem) if problem else self.right(ok)
        if not matched and value.shape != right.shape:
            default = f"shape {value.shape}; expected {right.shape}."
            return self.wrong((wrong_shape or (lambda s: default))(value.shape), hint=True)
        if not matched and unnamed is not None:
            return self.wrong(unnamed(value), hint=True)
        return self.named("this array", matched)


def check(exercise: Exercise, blank: bool = True):
    """Decorator for every check: None is a blank answer, and no error escapes to the learner."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(answer, *args, **kwargs) -> CheckResult:
            if blank and answer is None:
                return exercise.blank()
            try:
                return fn(answer, *args, **kwargs)
            except Exception as error:  # noqa: BLE001 - a check must never stop the lesson
                return exercise.result(
                    False,
                    f"the check could not read {describe(answer)} ({type(error).__name__}: "
                    f"{str(error)[:120]}). Run the cells above this one again, then this one; "
                    "if it still says this, it is a bug in the lesson: please report it.",
                    check_error=f"{type(error).__name__}: {error}",
                )

        wrapper.exercise = exercise
        return wrapper

    return decorate
