"""The kernel hook: quiet TensorFlow logs and one-line answers where a learner could get stuck.

Loaded into every IPython kernel of the environment as an IPython extension, before any
cell runs, so it works after a restart when nothing of ours has been imported yet:

    python -m lessons_lib.session install      # writes {sys.prefix}/etc/ipython/ipython_kernel_config.json

IPython reads ``ipython_kernel_config.json`` from ``{sys.prefix}/etc/ipython`` (its
``ENV_CONFIG_DIRS``) for every kernel started from that Python, whoever starts it
(JupyterLab, papermill, nbval, VS Code). ``bootstrap.py`` runs the command for ``.venv``,
``binder/postBuild`` for Binder, and the wheel carries the same file as data, so
``pip install lessons_lib-*.whl`` installs it too (an editable install does not install data
files, hence the command). Elsewhere (a conda env made without it, Colab before the wheel is
installed) importing ``lessons_lib`` installs the same hooks from then on, so only the cells
run before the first import go without them.

What the hook does (stdlib only at kernel start; TensorFlow is never imported here):

- ``nativelog.install()``: TensorFlow's C++/absl log lines stay out of the notebook.
- ``machine.cap_threads()``: under a CPU quota (Binder, a JupyterHub on Kubernetes), TensorFlow's
  thread pools are sized to the quota instead of to every core of the host, when nobody chose
  a thread count and TensorFlow is not imported yet.
- A ``NameError`` for a name a lesson defines, raised in a cell, becomes one line saying which
  cell makes it and what to run (after a restart, or a cell run before the ones it needs).
  Any other name (a learner's typo) keeps Python's own error and its "Did you mean" hint.
- A ``KeyboardInterrupt`` that stops ``fit`` becomes one line saying how many epochs ran, that
  the model is not saved, and what running the cell again does (``fitstate``); one anywhere
  else, a line saying the cell stopped part-way and to run it again.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import sys
from pathlib import Path

from . import machine, nativelog

EXTENSION = "lessons_lib.session"
CONFIG_NAME = "ipython_kernel_config.json"
LESSON_FILE = re.compile(r"^\d\d_\w+\.ipynb$")
RUN_ABOVE = "Run ▸ Run All Above Selected Cell"
# A Kernel ▸ Interrupt anywhere but in fit (there, fitstate says more): where the cell stopped,
# deep in a library, is no use to a learner; that it stopped part-way is.
INTERRUPTED = (
    "this cell was stopped (Kernel ▸ Interrupt) before its end, so what it makes may be missing "
    "or only partly done. Run it again to finish it."
)


# --------------------------------------------------------------------------- installing


def config_file(prefix: str | os.PathLike | None = None) -> Path:
    """Where IPython looks for kernel config in the environment at ``prefix``."""
    return Path(prefix or sys.prefix) / "etc" / "ipython" / CONFIG_NAME


def install_config(prefix: str | os.PathLike | None = None) -> Path:
    """Add this extension to the environment's kernel config (kept: anything else in it)."""
    path = config_file(prefix)
    config = {}
    if path.is_file():
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            config = {}
    if not isinstance(config, dict):
        config = {}
    app = config.setdefault("InteractiveShellApp", {})
    extensions = app.setdefault("extensions", [])
    if EXTENSION not in extensions:
        extensions.append(EXTENSION)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_ipython_extension(shell) -> None:
    """IPython's entry point (``%load_ext lessons_lib.session`` or the kernel config)."""
    install(shell)


def install(shell=None) -> bool:
    """Put the hooks in place in this kernel (once). False outside IPython."""
    if shell is None:
        ipython = sys.modules.get("IPython")  # not imported: not in IPython (and no cost)
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if getattr(shell, "_lessons_session", False):
        return True
    if "ipykernel" in sys.modules:  # a terminal IPython shows descriptor 2 itself: leave it
        nativelog.install()
    if "tensorflow" not in sys.modules:  # read once, when TensorFlow starts its thread pools
        machine.cap_threads()
    if not shell.custom_exceptions:  # never take the slot from someone else's handler
        shell.set_custom_exc((NameError, KeyboardInterrupt), _on_exception)
    shell._lessons_session = True
    return True


# --------------------------------------------------------------------------- the handler


def _on_exception(shell, etype, value, tb, tb_offset=None):
    """IPython's custom exception handler: one line where we know better, else the default."""
    line = None
    try:
        cell = _current_cell(shell)
        if (
            issubclass(etype, NameError)
            and not issubclass(etype, UnboundLocalError)  # a local in the learner's function
            and _raised_in_cell(tb, shell)
        ):
            line = name_hint(getattr(value, "name", None), cell, _session_notebook(shell))
        elif issubclass(etype, KeyboardInterrupt):
            from .fitstate import describe_interrupt

            line = describe_interrupt(tb, shell.user_ns, top_level_names(cell)) or INTERRUPTED
    except Exception:  # a hint must never hide the real error
        line = None
    if line is None:
        return shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    stb = [f"{etype.__name__}: {line}"]
    shell._showtraceback(etype, value, stb)
    return stb


def _current_cell(shell) -> str:
    try:
        return shell.history_manager.input_hist_raw[-1]
    except (AttributeError, IndexError):
        return ""


def _raised_in_cell(tb, shell) -> bool:
    """Whether the innermost frame runs code from a cell (globals are the user's namespace)."""
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    return last is not None and last.tb_frame.f_globals is shell.user_ns


def _session_notebook(shell) -> Path | None:
    """The notebook this kernel was started for (JupyterLab sets ``__session__``)."""
    name = shell.user_ns.get("__session__") or os.environ.get("JPY_SESSION_NAME")
    if isinstance(name, str) and name.endswith(".ipynb"):
        path = Path(name)
        return path if path.is_absolute() else Path.cwd() / path
    return None


# --------------------------------------------------------------------------- which cell makes a name


def top_level_names(source: str) -> set[str]:
    """Names a cell binds at module level: assignments, imports, for/with targets, defs."""
    tree = _parse(source)
    if tree is None:
        return set()
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            return
        if isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp):
            return
        if isinstance(node, ast.GeneratorExp):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def _parse(source: str) -> ast.Module | None:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:
        pass
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


@functools.lru_cache(maxsize=32)
def _lesson_cells(path: str, mtime: float) -> tuple[tuple[str, str, frozenset[str]], ...]:
    """(source, heading above it, names bound) of each code cell of a lesson notebook."""
    with open(path, encoding="utf-8") as fh:
        notebook = json.load(fh)
    heading, cells = "", []
    for cell in notebook.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "markdown":
            for text in source.splitlines():
                if text.startswith("#"):
                    heading = text.lstrip("#").strip()
                    break
        elif cell.get("cell_type") == "code":
            cells.append((source, heading, frozenset(top_level_names(source))))
    return tuple(cells)


def lesson_cells(path: Path) -> tuple[tuple[str, str, frozenset[str]], ...]:
    try:
        return _lesson_cells(str(path), path.stat().st_mtime)
    except (OSError, ValueError):
        return ()


def _lesson_folders(notebook: Path | None) -> list[Path]:
    folders = [notebook.parent] if notebook else []
    folders.append(Path.cwd())
    from .params import project_root

    root = project_root()
    if root:
        folders.append(root / "notebooks")
    unique = []
    for folder in folders:
        if folder.is_dir() and folder not in unique:
            unique.append(folder)
    return unique


def name_hint(name: str | None, cell: str, notebook: Path | None = None) -> str | None:
    """One line for a NameError of ``name`` raised in ``cell``; None when no lesson defines it.

    ``notebook`` is the lesson the kernel runs, when known; otherwise the lesson whose cell
    has exactly this source is taken.
    """
    if not name:
        return None
    lessons = [p for folder in _lesson_folders(notebook) for p in sorted(folder.glob("*.ipynb"))]
    lessons = [p for p in dict.fromkeys(lessons) if LESSON_FILE.match(p.name)]
    here = notebook if notebook and LESSON_FILE.match(notebook.name) else None
    bare = cell.strip()
    if here is None and bare:
        here = next(
            (p for p in lessons if any(s.strip() == bare for s, _, _ in lesson_cells(p))), None
        )
    if here is not None:
        cells = lesson_cells(here)
        position = next(
            (i for i, (s, _, _) in enumerate(cells) if bare and s.strip() == bare), None
        )
        makers = [i for i, (_, _, names) in enumerate(cells) if name in names and i != position]
        if makers:
            above = [i for i in makers if position is None or i < position]
            where = cells[(above or makers)[0]][1]
            under = f' (under "{where}")' if where else ""
            if above or position is None:
                return (
                    f"`{name}` is made by an earlier cell of this lesson{under}, which has not "
                    f"run to its end since the kernel started; run the cells above this one: "
                    f"{RUN_ABOVE}."
                )
            return (
                f"`{name}` is made by a later cell of this lesson{under}; run the lesson's "
                "cells in order, from the top."
            )
    elsewhere = [p for p in lessons if p != here and any(name in n for _, _, n in lesson_cells(p))]
    if not elsewhere:
        return None
    if here is None:
        return (
            f"`{name}` is made by an earlier cell of the lesson, which has not run to its end "
            f"since the kernel started; run the cells above this one: {RUN_ABOVE}."
        )
    other = elsewhere[0].name
    return (
        f"`{name}` is made in another lesson ({other}), not in this one; each lesson runs in "
        "its own kernel, so names from one are not defined in another."
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "install":
        print("usage: python -m lessons_lib.session install [PREFIX]", file=sys.stderr)
        return 2
    path = install_config(argv[1] if len(argv) > 1 else None)
    print(f"kernel hook: {path} loads {EXTENSION} in every kernel of {path.parents[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
