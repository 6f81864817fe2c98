"""Keep TensorFlow's C++ and absl log lines out of the notebook, without hiding real errors.

Why they appear: TensorFlow's C++ core logs through absl straight to file descriptor 2, and
ipykernel forwards whatever reaches that descriptor into the notebook as red stderr. On
import, TensorFlow 2.21 prints absl's "All log messages before absl::InitializeLog() ..."
(once per shared library), "oneDNN custom operations are on" and "cpu_feature_guard ...
rebuild TensorFlow". During ``fit`` it prints ``E0000 ... NodeDef mentions attribute
use_unbounded_threadpool which is not in the op definition``: not a version mismatch (one
TensorFlow 2.21 binary builds and runs the graph) but TensorFlow's own tf.data rewrite for
``enable_op_determinism`` (``make_deterministic.cc``, ``ConvertMapOrInterleave``), which turns
the ``ParallelMapDatasetV2`` Keras builds for array input into a ``MapDataset`` and erases
``deterministic`` and ``sloppy`` but not ``use_unbounded_threadpool``; the runtime then
ignores the unknown attribute and says so at ERROR level. ``TF_CPP_MIN_LOG_LEVEL`` silences
neither the absl start-up lines nor oneDNN's (measured: they print at every level), and at 3
it would also silence real errors.

What this does: :func:`install` puts a pipe in front of descriptor 2 inside the kernel and a
thread that forwards every line to where descriptor 2 pointed before, except TensorFlow's
informational lines (absl prefix ``I``/``W``), absl's start-up notice, and the one ERROR line
known to be harmless (above). Any other ERROR or FATAL line, and everything that is not a
C++ log line, passes unchanged; Python exceptions never go through descriptor 2 at all. The
lines held back are written to the kernel's own terminal (JupyterLab's console, the
runner's kernel log) when ipykernel says where that is, so nothing is lost.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

# absl/glog prefix: severity letter, MMDD, time, thread id, file:line]
LOG_LINE = re.compile(rb"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [^\s:\]]+:\d+\] ")
LOG_START = re.compile(rb"^[IWEF](\d{0,4}$|\d{4} )")
ABSL_NOTICE = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
)
# second lines of held-back messages
CONTINUATIONS = (
    b"To enable the following instructions:",
    b"\t [[",
)  # cpu_feature_guard; node context
# ERROR lines known to be harmless: (file of the log call, words of the message)
HARMLESS_ERRORS = ((b"node_def_util.cc", b"Unknown attributes will be ignored"),)


def is_noise(line: bytes) -> bool:
    """True for a C++/absl log line the learner need not see (one line, without its newline)."""
    if line.startswith(ABSL_NOTICE):
        return True
    if not LOG_LINE.match(line):
        return False
    if line[:1] in (b"I", b"W"):
        return True
    return line[:1] == b"E" and any(f in line and words in line for f, words in HARMLESS_ERRORS)


def split_noise(chunk: bytes) -> tuple[bytes, bytes]:
    """(lines to show, lines held back) of a chunk of complete lines.

    The second line of a held-back message is held back with it when it is one TensorFlow is
    known to write (cpu_feature_guard's "To enable the following instructions ..."); any
    other line without a log prefix is shown.
    """
    show, held = [], []
    holding = False
    for line in chunk.splitlines(keepends=True):
        bare = line.rstrip(b"\r\n")
        if is_noise(bare):
            holding = True
            held.append(line)
        elif holding and bare.startswith(CONTINUATIONS):
            held.append(line)
        else:
            holding = False
            show.append(line)
    return b"".join(show), b"".join(held)


class _Filter:
    """A pipe on descriptor 2 and the thread that sorts what comes through it."""

    def __init__(self) -> None:
        self.show_fd = os.dup(2)  # where descriptor 2 pointed: ipykernel's pipe to the notebook
        self.aside_fd = _terminal_fd()
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self.read_fd = read_fd
        self.thread = threading.Thread(target=self._pump, name="lessons-native-log", daemon=True)
        self.thread.start()
        atexit.register(self.close)

    def close(self) -> None:
        """Put descriptor 2 back and let the thread pass on what is still in the pipe."""
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        os.dup2(self.show_fd, 2)  # the pipe's last write end closes: the thread reads its end
        self.thread.join(timeout=2)

    def _pump(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self.read_fd, 65536)
            except OSError:
                return
            if not chunk:
                _write(self.show_fd, pending)
                return
            pending += chunk
            complete, newline, pending = pending.rpartition(b"\n")
            if newline:
                show, held = split_noise(complete + newline)
                _write(self.show_fd, show)
                if self.aside_fd is not None:
                    _write(self.aside_fd, held)
            if pending and not _may_be_log(pending):
                _write(self.show_fd, pending)  # a partial line that is no log line: show it now
                pending = b""


def _may_be_log(partial: bytes) -> bool:
    """Whether an unfinished line could still become a log line (then wait for its end)."""
    return bool(LOG_START.match(partial)) or ABSL_NOTICE.startswith(partial[: len(ABSL_NOTICE)])


def _write(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data) :]
        except OSError:
            return


def _terminal_fd() -> int | None:
    """The kernel's own stderr before ipykernel captured it (its terminal or log), if known."""
    fd = getattr(sys.stderr, "_original_stdstream_copy", None)
    return fd if isinstance(fd, int) else None


_installed: list[_Filter] = []  # one filter per process; a list so install() can be idempotent


def install() -> bool:
    """Filter descriptor 2 of this process (once). Returns True if a filter is in place."""
    if _installed:
        return True
    if os.name == "nt":  # ipykernel does not forward descriptor 2 on Windows: nothing to filter
        return False
    try:
        _installed.append(_Filter())
    except OSError:
        return False
    return True
