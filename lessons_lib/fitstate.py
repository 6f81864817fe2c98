"""Whether a model's last ``fit`` finished: what an interrupt leaves behind, in one sentence.

A ``fit`` stopped by Kernel ▸ Interrupt leaves the model with the weights it had at that
moment. :func:`describe_interrupt` words that for the learner (the kernel hook in
``session.py`` shows it instead of a KeyboardInterrupt traceback) and marks the model, and
:func:`refuse_unfinished` keeps such a model from replacing a saved one.
"""

from __future__ import annotations

from types import TracebackType

MARK = "_lessons_unfinished"  # (done, asked, optimizer steps) on a model whose fit was cut short


class TrainingUnfinished(Exception):
    """A model whose training was cut short was about to be saved; shown as one line."""

    def _render_traceback_(self) -> list[str]:
        return [f"TrainingUnfinished: {self}"]


def fit_frame(tb: TracebackType | None):
    """The frame of Keras' ``Model.fit`` in a traceback, or None."""
    found = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "fit" and _is_model(frame.f_locals.get("self")):
            found = frame
        tb = tb.tb_next
    return found


def _is_model(obj) -> bool:
    import sys

    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.Model)


def epochs_done(frame) -> tuple[int, int]:
    """(epochs completed, epochs asked for) of the ``fit`` running in ``frame``."""
    local = frame.f_locals
    asked = int(local.get("epochs", 0)) - int(local.get("initial_epoch", 0) or 0)
    done = 0
    for callback in getattr(local.get("callbacks"), "callbacks", []) or []:
        if type(callback).__name__ == "History" and hasattr(callback, "epoch"):
            done = len(callback.epoch)
    return done, asked


def _steps(model) -> int | None:
    try:
        return int(model.optimizer.iterations.numpy())
    except Exception:
        return None


def mark(model, done: int, asked: int) -> None:
    """Remember on ``model`` that its last fit stopped after ``done`` of ``asked`` epochs."""
    object.__setattr__(model, MARK, (done, asked, _steps(model)))  # past Keras' tracking


def unfinished(model) -> tuple[int, int] | None:
    """(done, asked) if the last ``fit`` of ``model`` was cut short, else None.

    From the mark :func:`describe_interrupt` leaves; without one, from Keras' own record of
    the last fit (``model.history``): fewer epochs than asked and no callback (early
    stopping) ended it.
    """
    marked = getattr(model, MARK, None)
    if marked and marked[2] == _steps(model):  # not trained any further since
        return marked[0], marked[1]
    history = getattr(model, "history", None)
    params = getattr(history, "params", None) or {}
    epochs = getattr(history, "epoch", None)
    if not epochs or "epochs" not in params:
        return None
    asked, last = int(params["epochs"]), int(epochs[-1]) + 1
    if last < asked and not getattr(model, "stop_training", False):
        return len(epochs), asked - (last - len(epochs))
    return None


def describe_interrupt(
    tb: TracebackType | None, user_ns: dict, cell_assigns: set[str]
) -> str | None:
    """One line for a KeyboardInterrupt that stopped ``fit``; None if it did not stop a fit.

    The model is marked unfinished. The line says whether running the cell again starts
    from scratch (the cell makes the model it trains) or continues (it trains a model an
    earlier cell made, named in ``user_ns`` and not assigned in the cell).
    """
    frame = fit_frame(tb)
    if frame is None:
        return None
    model = frame.f_locals["self"]
    done, asked = epochs_done(frame)
    mark(model, done, asked)
    names = [k for k, v in user_ns.items() if v is model and not k.startswith("_")]
    kept = f"{done} of {asked} epoch{'s' if asked != 1 else ''}"
    text = (
        f"Training stopped after {kept} (Kernel ▸ Interrupt); the model keeps the weights it "
        "had at that moment and is not saved."
    )
    if names and not (set(names) & cell_assigns):
        name = names[0]
        return (
            f"{text} Running this cell again would continue from those weights; to train "
            f"from the start, first run the cell that makes `{name}`."
        )
    return f"{text} Run this cell again to train from the start."


def refuse_unfinished(model) -> None:
    """Raise TrainingUnfinished if ``model``'s last fit was cut short (before any saving)."""
    state = unfinished(model)
    if state:
        done, asked = state
        raise TrainingUnfinished(
            f"this model's training was stopped after {done} of {asked} epochs, so it is not "
            "saved (a model saved before is kept). Run the training cell again, to the end, "
            "then this cell."
        )
