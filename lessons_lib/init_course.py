"""``python -m lessons_lib init FOLDER``: the nine lessons, copied into a course folder.

The lessons ship inside the wheel (``lessons_lib/lessons/*.ipynb``, built from ``notebooks/``),
so a learner who installed only the package (Colab, a JupyterHub, a laptop without a clone)
gets the same notebooks a clone has. In a clone, the repository's ``notebooks/`` is used.
A learner's own notebooks are never overwritten: if any lesson file is already in FOLDER,
nothing is copied.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
FIRST = "00_start_here.ipynb"


class InitRefused(Exception):
    """Why nothing was copied, and what to do instead (one line)."""


def lessons_source() -> Path:
    """The folder holding the lesson notebooks: the wheel's own copy, else a clone's notebooks/."""
    for folder in (PACKAGE / "lessons", PACKAGE.parent / "notebooks"):
        if (folder / FIRST).is_file():
            return folder
    raise InitRefused(
        f"no lessons found beside lessons_lib ({PACKAGE}): this installation is incomplete; "
        "reinstall the wheel (pip install --force-reinstall lessons_lib-*.whl)"
    )


def lesson_files(source: Path | None = None) -> list[Path]:
    """The lesson notebooks, in order: 00_start_here.ipynb ... 08_what_fit_does.ipynb."""
    source = source or lessons_source()
    return sorted(p for p in source.glob("[0-9][0-9]_*.ipynb") if p.is_file())


@dataclass
class Written:
    folder: Path
    files: list[Path]

    def __str__(self) -> str:
        names = "\n".join(f"  {p.name}" for p in self.files)
        return (
            f"wrote {len(self.files)} lessons to {self.folder}:\n{names}\n"
            f"Open {self.folder / FIRST} in Jupyter to begin "
            f"(in a terminal: jupyter lab {self.folder / FIRST})."
        )


def init(folder: str | os.PathLike) -> Written:
    """Copy every lesson into ``folder`` (created if needed); refuse if any is already there.

    Raises InitRefused, having written nothing, when ``folder`` is a file or already holds a
    lesson of the same name (the learner's work, perhaps with answers in it)."""
    folder = Path(folder).expanduser()
    files = lesson_files()
    if not files:
        raise InitRefused(f"no lesson notebooks in {lessons_source()}: reinstall lessons_lib")
    if folder.exists() and not folder.is_dir():
        raise InitRefused(f"{folder} is a file, not a folder: choose another name for the course")
    present = [p.name for p in files if (folder / p.name).exists()]
    if present:
        raise InitRefused(
            f"{folder} already holds {', '.join(present)}; nothing was copied, so your notebooks "
            "are as you left them. Choose a new folder (python -m lessons_lib init another_folder), "
            "or move those files away first."
        )
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for src in files:
        target = folder / src.name
        try:
            # "x": create, never replace, even if the learner saved one since the check above
            with open(target, "xb") as out:
                out.write(src.read_bytes())
        except FileExistsError:
            raise InitRefused(
                f"{target} appeared while copying; kept it. Copied before it: "
                f"{', '.join(p.name for p in written) or 'nothing'}"
            ) from None
        written.append(target)
    return Written(folder, written)
