"""Recording what a lesson measured, so the headless runner can collect it.

``record(test_accuracy=0.98, ...)`` shows a one-line summary in the notebook and
attaches the values as a JSON output with its own MIME type; the runner reads
them back from the executed notebook (``read_recorded``). Every record also
carries the kernel's peak memory so far, the CPU time it has used so far (user + system,
all threads: on one pinned core with one TensorFlow thread, what a learner alone on that
core waits) and the machine it ran on (``machine.describe()``), so no time is read
without its CPU.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from . import machine

MIME = "application/vnd.digit-lessons.metrics+json"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    On Linux this is VmHWM from /proc/self/status: getrusage's ru_maxrss survives exec,
    so a kernel started by a process that was already large (pytest with TensorFlow
    loaded) would report its parent's size.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def _plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return round(value, 6)
    return value


class Recorded(dict):
    """What :func:`record` attached, as a dict. It is shown once, by ``record`` itself: as
    the value of a lesson's last cell, Jupyter would print the whole dict again under it."""

    def _ipython_display_(self) -> None:
        return None


def _short(value) -> str:
    """A recorded value as the line under a lesson shows it: floats to four significant
    digits, a long list by its first values and its length (metrics.json keeps them whole)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        items = [_short(v) for v in value[:3]]
        if len(value) > 4:
            return f"[{', '.join(items)}, ... {_short(value[-1])}] ({len(value)} values)"
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value)


def record(**values) -> dict:
    """Show and attach ``values`` (numbers, strings, lists) plus ``peak_rss_mb``,
    ``kernel_cpu_seconds`` and ``machine``; returns them (a dict Jupyter does not echo)."""
    payload = Recorded((k, _plain(v)) for k, v in values.items())
    payload["peak_rss_mb"] = peak_rss_mb()
    payload["kernel_cpu_seconds"] = round(time.process_time(), 1)
    payload["machine"] = machine.describe()
    json.dumps(payload)  # fail here, in the lesson, if something is not JSON
    shown = {k: v for k, v in payload.items() if k != "machine"}
    text = "Recorded: " + ", ".join(f"{k}={_short(v)}" for k, v in shown.items())
    text += f"; on {payload['machine']['summary']}"
    try:
        from IPython.display import display

        display({MIME: payload, "text/plain": text}, raw=True)
    except ImportError:  # outside IPython
        print(text)
    return payload


def read_recorded(notebook) -> dict:
    """Merge every recorded payload of an executed notebook (nbformat node or dict)."""
    merged: dict = {}
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME in data:
                payload = data[MIME]
                merged.update(json.loads(payload) if isinstance(payload, str) else payload)
    return merged
