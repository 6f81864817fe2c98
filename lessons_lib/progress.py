"""Which exercises exist, and the progress file that records each one a learner has passed.

Lesson 00 summarises it; every check in :mod:`lessons_lib.checks` records into it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import time
import warnings
from pathlib import Path

# lesson -> [(exercise key, short title)], in the order the lessons present them.
EXERCISES: dict[str, list[tuple[str, str]]] = {
    "00": [("pixels", "pixels in one image"), ("classes", "number of classes")],
    "01": [("count", "count the training images"), ("most_common", "the most common digit")],
    "02": [("flatten", "flatten to (n, 784)"), ("normalize", "normalize to [-1, 1]")],
    "03": [
        ("params", "parameters of a dense layer"),
        ("model", "build a small network"),
        ("initial_loss", "the loss before training"),
    ],
    "04": [("compile", "compile with the right loss"), ("best_epoch", "find the best epoch")],
    "05": [("accuracy", "accuracy from predictions"), ("confusion", "read the confusion matrix")],
    "06": [
        ("predicted_labels", "labels from probabilities"),
        ("least_confident", "the least confident digit"),
    ],
    "07": [
        ("conv_output", "size after a convolution"),
        ("conv_params", "parameters of a convolution"),
    ],
    "08": [
        ("batch_loss", "the loss of one batch by hand"),
        ("bias_gradient", "a gradient by hand"),
        ("sgd_step", "one gradient-descent step"),
    ],
}

LESSON_TITLES = {
    "00": "Start here",
    "01": "Loading the data",
    "02": "Flatten and normalize",
    "03": "Building the model",
    "04": "Training",
    "05": "Evaluating",
    "06": "Visualizing predictions",
    "07": "Going further",
    "08": "What fit does",
}


def progress_path() -> Path:
    """$LESSONS_PROGRESS, else <project>/artifacts/progress.json, else ~/.digit-lessons-progress.json."""
    if os.environ.get("LESSONS_PROGRESS"):
        return Path(os.environ["LESSONS_PROGRESS"])
    from .params import project_root

    root = project_root()
    if root is not None:
        return root / "artifacts" / "progress.json"
    return Path.home() / ".digit-lessons-progress.json"


class ProgressWarning(UserWarning):
    """The progress file could not be read or written; the lesson goes on."""


def _tell(message: str) -> None:
    # Python shows a warning once per message and place: the learner is told once.
    warnings.warn(message, ProgressWarning, stacklevel=3)


# --------------------------------------------------------------------------- the lock


@contextlib.contextmanager
def _locked(path: Path, timeout: float = 20.0):
    """Hold ``<path>.lock`` exclusively (fcntl.flock on Linux and macOS, msvcrt.locking on
    Windows). The system drops the lock when its holder dies, even by kill -9."""
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                if os.name == "nt":
                    import msvcrt

                    os.lseek(fd, 0, os.SEEK_SET)
                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                else:
                    import fcntl

                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EDEADLK):
                    raise
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        errno.ETIMEDOUT, f"another kernel held {path}.lock for {timeout:.0f} s"
                    ) from None
                time.sleep(0.002)
        yield
    finally:
        with contextlib.suppress(OSError):
            if os.name == "nt":
                import msvcrt

                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# --------------------------------------------------------------------------- reading

_ENTRY = re.compile(rb'"(\d\d\.[A-Za-z_]\w{0,40})"\s*:\s*(true|false)')
_LIMIT = 1 << 20  # a progress file of every exercise is under 1 KB


class _Unreadable(Exception):
    def __init__(self, why: str, salvage: dict[str, bool] | None, may_set_aside: bool = True):
        super().__init__(why)
        self.why, self.salvage, self.may_set_aside = why, salvage or {}, may_set_aside


def _parse(blob: bytes) -> dict[str, bool]:
    if len(blob) > _LIMIT:
        raise _Unreadable(f"it is {len(blob):,} bytes, not a progress file", None)
    try:
        data = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        found = {k.decode(): v == b"true" for k, v in _ENTRY.findall(blob)}
        raise _Unreadable("it is cut short or damaged", found) from None
    if not isinstance(data, dict):
        raise _Unreadable(f"it holds a {type(data).__name__}, not the table of passes", None)
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, bool)}


def _read(path: Path) -> dict[str, bool]:
    """{} when there is no file; raises _Unreadable when there is one that cannot be used."""
    try:
        with open(path, "rb") as fh:
            blob = fh.read(_LIMIT + 1)
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise _Unreadable("a folder has its name", None) from None
    except PermissionError:
        raise _Unreadable("you may not read it", None, may_set_aside=False) from None
    except OSError as exc:
        if path.is_dir():
            raise _Unreadable("a folder has its name", None) from None
        raise _Unreadable(exc.strerror or type(exc).__name__, None, False) from None
    return _parse(blob)


def _set_aside(path: Path, problem: _Unreadable) -> dict[str, bool]:
    """Rename the unreadable file (never delete it); return what could be salvaged from it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        target = path.with_name(f"{path.name}.unreadable-{stamp}" + (f"-{n}" if n else ""))
        if not target.exists():
            break
    os.replace(path, target)
    kept = (
        f" {sum(problem.salvage.values())} passes found in it are kept." if problem.salvage else ""
    )
    _tell(
        f"Your progress file {path} could not be read ({problem.why}); it was kept as "
        f"{target.name} and a new one started.{kept}"
    )
    return problem.salvage


def load_progress() -> dict[str, bool]:
    """{"02.flatten": True, ...} for every exercise attempted so far.

    Never raises: a file that cannot be read is set aside (renamed, with whatever passes
    can be read from it carried over) and the learner is told once.
    """
    path = progress_path()
    try:
        return _read(path)
    except _Unreadable as problem:
        if not problem.may_set_aside:
            _tell(f"Your progress file {path} cannot be read ({problem.why}); it is left as it is.")
            return {}
    try:
        with _locked(path):
            try:
                return _read(path)  # another kernel may have set it aside meanwhile
            except _Unreadable as problem:
                salvage = _set_aside(path, problem)
                if salvage:
                    _write(path, salvage)
                return salvage
    except OSError as exc:
        _tell(f"Your progress file {path} cannot be read or set aside ({exc}).")
        return {}


# --------------------------------------------------------------------------- writing


def _write(path: Path, progress: dict[str, bool]) -> None:
    """Write to a temporary file beside ``path`` and rename it into place: a kill at any
    moment leaves the old file or the new one, whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(progress, indent=1, sort_keys=True))
            fh.flush()
            os.fsync(fh.fileno())
        for attempt in range(50):  # Windows refuses while another process reads the file
            try:
                os.replace(tmp, path)
                break
            except PermissionError:
                if os.name != "nt" or attempt == 49:
                    raise
                time.sleep(0.02)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _clean_stale_temporaries(path: Path) -> None:
    """Remove temporaries left by a kernel killed mid-write (their process is gone)."""
    import psutil

    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            pid = int(tmp.name[len(path.name) + 2 :].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not psutil.pid_exists(pid):
            with contextlib.suppress(OSError):
                tmp.unlink()


def record(exercise: str, passed: bool) -> None:
    """Record one attempt: a pass stays a pass. Safe when several kernels record at once
    (one lock, one atomic rename); never raises: when the file cannot be written the
    learner is told once and the lesson goes on."""
    path = progress_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            try:
                progress = _read(path)
            except _Unreadable as problem:
                if not problem.may_set_aside:
                    _tell(
                        f"Your progress file {path} cannot be read ({problem.why}), so this "
                        "attempt is not recorded there; the file is left as it is."
                    )
                    return
                progress = _set_aside(path, problem)
            progress[exercise] = progress.get(exercise, False) or bool(passed)
            _write(path, progress)
            _clean_stale_temporaries(path)
    except OSError as exc:
        from .params import why_not_written

        _tell(
            f"Your progress could not be saved in {path} ({why_not_written(exc)}); the "
            "lessons go on, but lesson 00 will not show the passes made meanwhile."
        )


def progress_table() -> str:
    """Markdown table: each lesson's exercises passed out of its total."""
    progress = load_progress()
    lines = ["| lesson | exercises passed |", "|---|---|"]
    done = total = 0
    for lesson, items in EXERCISES.items():
        passed = sum(progress.get(f"{lesson}.{key}", False) for key, _ in items)
        done += passed
        total += len(items)
        ticks = " ".join("✓" if progress.get(f"{lesson}.{k}") else "○" for k, _ in items)
        lines.append(f"| {lesson} {LESSON_TITLES[lesson]} | {passed} / {len(items)} {ticks} |")
    lines.append(f"| **all lessons** | **{done} / {total}** |")
    return "\n".join(lines)
