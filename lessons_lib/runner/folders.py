"""The run folder: the one place a run or a sweep writes, and the places it never touches.

A run writes only into a folder of its own: one it creates, an empty one, or one an
earlier run created (proved by the marker file ``.lessons-run`` inside it). It refuses,
before any notebook starts, every ``--out`` that is, holds or lies inside a protected
place: the source notebooks, the project folder, the learner's ``artifacts/`` and
progress file, the home folder. The check is made on the resolved path, so ``.``,
``notebooks/..``, ``~`` and symbolic links are judged by where they lead. A run folder
holding a symbolic link or a hard-linked file is refused too: writing through either
would change a file outside it.

Inside the folder, each run starts a fresh ``progress.json`` (the run's exercise
passes, never the learner's) and unlinks a file's old name before writing it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from .. import params

MARKER = ".lessons-run"
PROGRESS = "progress.json"
MAX_SCANNED = 20_000  # entries looked at for links; a run folder holds a few dozen


def protected_places(folder: Path) -> list[tuple[Path, str, bool]]:
    """(place, what it is, whether a run folder may not lie inside it), all resolved.

    ``folder`` is the folder of source notebooks the run reads.
    """
    from ..progress import progress_path

    places: list[tuple[Path, str, bool]] = []
    roots = {
        params.project_root(folder),
        params.project_root(Path(__file__)),
        params.project_root(),
    }
    for root in sorted(r for r in roots if r is not None):
        places += [
            (root, "the project folder", False),
            (root / "notebooks", "the lessons' source notebooks", True),
            (
                root / params.LEARNER_ARTIFACTS,
                "the learner's own artifacts/ (model, progress)",
                True,
            ),
        ]
    places.append((Path(folder), "the source notebooks", True))
    places.append((Path.home(), "the home folder", False))
    learner_progress = [Path.home() / ".digit-lessons-progress.json"]
    if os.environ.get("LESSONS_PROGRESS"):  # the learner's own, set before any run
        learner_progress.append(progress_path())
    places += [(p, "the learner's progress file", False) for p in learner_progress]
    resolved = []
    for place, what, no_inside in places:
        try:
            resolved.append((place.expanduser().resolve(), what, no_inside))
        except (OSError, RuntimeError):
            continue
    return resolved


def conflict(target: Path, places: list[tuple[Path, str, bool]]) -> str | None:
    """Why ``target`` (resolved) may not be written by a run, or None."""
    for place, what, no_inside in places:
        if target == place:
            return f"is {what} ({place})"
        if place.is_relative_to(target):
            return f"holds {what} ({place})"
        if no_inside and target.is_relative_to(place):
            return f"lies inside {what} ({place})"
    return None


def _links(target: Path) -> str | None:
    """The first symbolic link or hard-linked file inside ``target``, or None."""
    seen = 0
    for here, dirs, files in os.walk(target, followlinks=False):
        for name in dirs + files:
            seen += 1
            path = Path(here, name)
            info = path.lstat()
            if path.is_symlink():
                return f"holds a symbolic link, {path}"
            if name in files and info.st_nlink > 1:
                return f"holds a file with other names (a hard link), {path}"
        if seen > MAX_SCANNED:
            return f"holds more than {MAX_SCANNED:,} files, more than any run writes"
    return None


def check_out(
    out: str | os.PathLike, folder: Path, option: str = "--out", example: str = "build/run-2"
) -> tuple[Path | None, str | None]:
    """(the run folder, resolved; None) or (None, one line saying why not and what to do).

    Writes nothing: call :func:`claim` once every other check has passed.
    """
    shown = params.short(str(out))
    fix = f"give a new folder, e.g. {option} {example}"
    try:
        target = Path(out).expanduser().resolve()
        params.refuse_unusable_name(target)  # before the folders above it exist, too
        problem = conflict(target, protected_places(folder))
        if problem:
            return (
                None,
                f"{option} {shown} {problem}; a run writes only into a folder of its own: {fix}",
            )
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            return None, f"{option} {shown} is a file, not a folder: {fix}"
        if target.is_dir():
            marked = (target / MARKER).is_file() and not (target / MARKER).is_symlink()
            if not marked and any(target.iterdir()):
                return None, (
                    f"{option} {shown} already holds files that no run wrote ({target}); "
                    f"a run writes only into a new or empty folder, or one an earlier run made: {fix}"
                )
            links = _links(target)
            if links:
                return None, f"{option} {shown} {links}; delete it, or {fix}"
        else:
            existing = next(p for p in target.parents if p.exists())
            if not existing.is_dir():
                return None, f"{option} {shown} leads through {existing}, a file: {fix}"
    except OSError as exc:
        return None, f"{option} {shown} cannot be used: {exc.strerror or exc}; {fix}"
    except (RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte
        return None, f"{option} {shown} cannot be used ({exc}); {fix}"
    return target, None


def claim(target: Path, command: str) -> str | None:
    """Create the run folder and its marker, and start its progress afresh; or say why not."""
    try:
        target.mkdir(parents=True, exist_ok=True)
        marker = target / MARKER
        if not marker.is_file():
            marker.write_text(
                json.dumps(
                    {
                        "written_by": f"python -m lessons_lib {command}",
                        "created": datetime.now(UTC).isoformat(timespec="seconds"),
                        "note": "this folder holds only what runs wrote; runs may write here again",
                    },
                    indent=1,
                )
                + "\n"
            )
        (target / PROGRESS).unlink(missing_ok=True)  # this run's passes only
    except OSError as exc:
        return f"--out {target} cannot be written: {exc.strerror or exc}"
    return None


def fresh(path: Path) -> Path:
    """``path``, with any old name removed first, so writing it can never follow a link."""
    if path.is_symlink() or path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
