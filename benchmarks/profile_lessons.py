"""Where each lesson's time goes: CPU seconds per cause, lesson by lesson, with its defaults.

    taskset -c 0 env TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 OMP_NUM_THREADS=1 \\
        python benchmarks/profile_lessons.py --data ../shared/data/mnist-full.npz \\
        --json benchmarks/results/profile-onecore.json [--only 04,07]

Each notebook runs with papermill as the runner runs it, with one cell added before its
first: that cell times the first import of TensorFlow or Keras on its own, and wraps
the library calls that take time (loading data, deskewing, ``fit``, ``evaluate`` and
``predict``, the explorer's maps, saving and loading models, drawing figures, the
self-check, lesson 08's hand-made training) with timers. Times are the kernel process's
CPU seconds (user + system, all threads: ``time.process_time``), exclusive: a call timed
inside another (``fit`` inside ``load_or_train``) counts once, under its own cause.
"kernel start" is the CPU the kernel had used before its first cell; "other" is the rest
of the lesson (the lesson's own NumPy, small cells, displaying widgets). On a pinned single
thread, CPU time is what a learner alone on that core would wait; wall time, also recorded,
includes whatever else the machine was doing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lessons_lib import machine  # noqa: E402

MARK = "PROFILE-JSON:"

# The cell run first in every profiled notebook (its own CPU time is part of the figures).
PROBE = r"""
import time as _pt

_PROFILE = {"kernel start": _pt.process_time()}


def _install_profile():
    import builtins
    import functools
    import importlib
    import sys

    stack = []  # [label, start] of the timed calls under way, innermost last

    def charge(label, seconds):
        _PROFILE[label] = _PROFILE.get(label, 0.0) + seconds

    def timed(label, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            now = _pt.process_time()
            if stack:  # pause the caller's clock: times are exclusive
                charge(stack[-1][0], now - stack[-1][1])
            stack.append([label, now])
            try:
                return func(*args, **kwargs)
            finally:
                label_, start = stack.pop()
                now = _pt.process_time()
                charge(label_, now - start)
                if stack:
                    stack[-1][1] = now

        return wrapper

    targets = {
        "lessons_lib.data": {"load_mnist": "data loading", "load_fashion": "Fashion-MNIST loading"},
        "lessons_lib.preprocess": {"deskew": "deskewing", "prepare": "scaling, flattening"},
        "lessons_lib.attribution": {
            "explorer_maps": "explorer precomputation (maps)",
            "input_gradients": "attribution maps",
        },
        "lessons_lib.saves": {"save_trained": "saving the model", "load_trained": "loading the model"},
        "lessons_lib.training": {"save_trained": "saving the model", "load_trained": "loading the model"},
        "lessons_lib.selfcheck": {"run": "self-check"},
        "lessons_lib.handmade": {"train": "hand-made training (lesson 08)"},
        "lessons_lib.widgets": {"PredictionExplorer.__init__": "explorer precomputation (widget)"},
        "keras": {
            "Model.fit": "fit", "Model.train_on_batch": "fit",
            "Model.evaluate": "evaluate, predict", "Model.predict": "evaluate, predict",
            "models.load_model": "loading the model",
        },
        "matplotlib.backend_bases": {"FigureCanvasBase.print_figure": "drawing figures"},
    }
    patched = set()

    def patch_imported():
        for module_name, funcs in targets.items():
            if module_name in patched or module_name not in sys.modules:
                continue
            patched.add(module_name)
            module = importlib.import_module(module_name)
            for dotted, label in funcs.items():
                *path, name = dotted.split(".")
                owner = module
                for part in path:
                    owner = getattr(owner, part)
                setattr(owner, name, timed(label, getattr(owner, name)))

    real_import = builtins.__import__
    depth = [0]
    heavy = ("tensorflow", "keras")

    def profiled_import(name, *args, **kwargs):
        root = name.partition(".")[0]
        # the first import of TensorFlow or Keras, at any depth (lessons_lib imports keras)
        first = root in heavy and root not in sys.modules and not any(
            label == "import TensorFlow + Keras" for label, _ in stack
        )
        depth[0] += 1
        try:
            if first:
                return timed("import TensorFlow + Keras", real_import)(name, *args, **kwargs)
            return real_import(name, *args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                patch_imported()

    builtins.__import__ = profiled_import


_t = _pt.process_time()
_install_profile()
_PROFILE["profiler set-up"] = _pt.process_time() - _t
"""

REPORT = r"""
import json as _json
_PROFILE["total"] = _pt.process_time()
print("PROFILE-JSON:" + _json.dumps(_PROFILE))
"""


def profile(notebook: Path, out_dir: Path, parameters: dict) -> dict:
    """Run one notebook with the probe; its CPU seconds per cause and its wall time."""
    import nbformat
    import papermill

    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(PROBE))
    nb.cells.append(nbformat.v4.new_code_cell(REPORT))
    for i, cell in enumerate(nb.cells):  # new cells need ids that differ from the lesson's
        cell.setdefault("id", f"profile-{i}")
    src = out_dir / f"{notebook.stem}.profile-in.ipynb"
    out = out_dir / notebook.name
    nbformat.write(nb, src)
    accepted = papermill.inspect_notebook(str(src))
    wall = time.perf_counter()
    load = os.getloadavg()[0]
    papermill.execute_notebook(
        str(src), str(out), parameters={k: v for k, v in parameters.items() if k in accepted},
        cwd=str(notebook.parent), progress_bar=False, kernel_name="python3",
    )  # fmt: skip
    wall = time.perf_counter() - wall
    executed = nbformat.read(out, as_version=4)
    for output in executed.cells[-1].get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(MARK):
                cpu = json.loads(line[len(MARK) :])
                break
    total = cpu.pop("total")
    cpu["other"] = total - sum(cpu.values())
    return {
        "cpu_seconds": {k: round(v, 2) for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])},
        "cpu_total": round(total, 1),
        "wall_seconds": round(wall, 1),
        "load_1min_before": round(load, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="auto", help="data_source for every lesson")
    parser.add_argument("--only", help="comma-separated lesson numbers, e.g. 04,07")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "profile")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    parameters = {"data_source": args.data, "artifacts_dir": "build/profile-artifacts"}
    parameters |= {name: _value(value) for name, value in args.p}
    wanted = set(args.only.split(",")) if args.only else None
    lessons = {}
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        number = notebook.name[:2]
        if wanted and number not in wanted:
            continue
        print(f"profiling {notebook.name} ...", flush=True)
        lessons[number] = profile(notebook, args.out, parameters)
        print(json.dumps(lessons[number]), flush=True)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(
                json.dumps(
                    {
                        "command": " ".join(sys.argv),
                        "machine": machine.describe(),
                        "shared_machine_note": "measured while other jobs loaded the machine: "
                        "CPU seconds are this kernel's own; wall seconds include waiting",
                        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                        "parameters": parameters,
                        "lessons": lessons,
                    },
                    indent=2,
                )
            )
    return 0


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


if __name__ == "__main__":
    sys.exit(main())
