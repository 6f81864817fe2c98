"""Choose lesson 07's CNN on validation figures only: accuracy against time on ONE core.

    taskset -c 0 env TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 OMP_NUM_THREADS=1 \\
        python benchmarks/tune_cnn.py --data ../shared/data/mnist-full.npz --json PATH [--only 0,3]
    (add ONEDNN_MAX_CPU_ISA=AVX2 to the env to keep oneDNN to AVX2 on an AVX-512 CPU)

Every configuration is ``models.cnn_model`` trained as lesson 07 trains it (raw uint8 images,
Adam with the cosine schedule, ``validation_split=0.1``: the last 6,000 training images are
held out and scored, never the test set, which scores the final choice once in
bench_models.py). Row 0 is the lesson's previous default, so every run carries its own
reference: the machine is shared and only ratios within one run compare fairly.

Each row records the wall time of ``fit`` and the process's CPU time (user + system) over
it, with the load average. Pinned to one core with one TensorFlow thread, CPU time is what a
learner alone on that core would wait, and neighbours disturb it far less than wall time.
``--speed`` instead trains one epoch of each distinct architecture and batch on the first
``--speed-images`` images: a quick per-epoch cost, no accuracy. ``--fashion`` trains lesson
07's Fashion-MNIST part (the dense network and CNNs with and without shifts, 3 epochs on a
stratified 20,000 of the first 54,000 training images) and scores each on the last 6,000.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lessons_lib import machine, models, training  # noqa: E402
from lessons_lib.data import load_mnist  # noqa: E402
from lessons_lib.preprocess import prepare_images  # noqa: E402

# The measured slow-kind figure for row 0 (2 cores, AVX2, no AVX-512; 1 core, 1 thread).
SLOW_ROW0_SECONDS = 386.7
BUDGET_SLOW_SECONDS = 120.0

# (filters, dense_units, dropout, shift, epochs, batch_size, learning_rate[, steps_per_execution]
#  [, {"straighten": True}]): the dict's rows train on deskewed images (preprocess.deskew)
GRID = [
    (32, 128, 0.3, 2, 10, 128, 2e-3),  # 0: the default before this sweep
    (32, 128, 0.3, 2, 4, 128, 2e-3),
    (32, 128, 0.3, 2, 4, 256, 3e-3),
    (16, 128, 0.3, 2, 6, 128, 2e-3),
    (16, 128, 0.25, 1, 5, 128, 3e-3),
    (16, 64, 0.25, 2, 8, 256, 3e-3),
    (16, 64, 0.2, 1, 6, 256, 3e-3),
    (24, 128, 0.3, 2, 5, 128, 2e-3),
    (12, 64, 0.2, 1, 8, 128, 3e-3),
    (8, 64, 0.2, 1, 10, 128, 3e-3),
    (16, 128, 0.3, 2, 10, 128, 2e-3),
    (32, 128, 0.3, 0, 4, 128, 2e-3),  # no shifts: what the augmentation costs
    (16, 128, 0.3, 2, 6, 128, 2e-3, 1),  # one batch per call: what steps_per_execution saves
    (16, 64, 0.2, 1, 4, 256, 3e-3),
    (16, 128, 0.3, 2, 8, 128, 2e-3),
    (16, 128, 0.3, 2, 4, 128, 2e-3),  # 15
    (16, 128, 0.3, 2, 3, 128, 2e-3),
    (16, 128, 0.3, 1, 4, 128, 2e-3),
    (16, 128, 0.3, 1, 10, 128, 2e-3),
    (16, 128, 0.3, 1, 6, 128, 2e-3),  # 19
    (16, 128, 0.3, 1, 8, 128, 2e-3),
    (16, 128, 0.3, 1, 7, 128, 2e-3),
    (16, 128, 0.3, 1, 5, 128, 2e-3),
    # 2026-12-04 afternoon: a higher learning rate, and the digits deskewed as lesson 04 does
    (16, 128, 0.3, 1, 5, 128, 4e-3),  # 23
    (16, 128, 0.3, 1, 6, 128, 4e-3),
    (16, 128, 0.3, 1, 6, 128, 2e-3, {"straighten": True}),  # 25: deskewing alone
    (16, 128, 0.3, 1, 4, 128, 4e-3, {"straighten": True}),
    (16, 128, 0.3, 1, 5, 128, 4e-3, {"straighten": True}),
    (16, 128, 0.3, 1, 6, 128, 4e-3, {"straighten": True}),  # 28
    (16, 128, 0.3, 1, 7, 128, 4e-3, {"straighten": True}),
    (16, 128, 0.3, 1, 8, 128, 4e-3, {"straighten": True}),
    (16, 128, 0.3, 1, 10, 128, 4e-3, {"straighten": True}),  # 31
]


def cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads) so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def unpack(row: tuple) -> dict:
    filters, units, dropout, shift, epochs, batch, lr, *more = row
    spe = [m for m in more if isinstance(m, int)]
    extra = next((m for m in more if isinstance(m, dict)), {})
    return {
        "filters": filters, "dense_units": units, "dropout": dropout, "shift": shift,
        "epochs": epochs, "batch_size": batch, "learning_rate": lr,
        "steps_per_execution": spe[0] if spe else models.STEPS_PER_EXECUTION,
        "straighten": extra.get("straighten", False),
    }  # fmt: skip


def build(cfg: dict, seed: int):
    training.set_seed(seed)
    return models.cnn_model(
        filters=cfg["filters"], dense_units=cfg["dense_units"], dropout=cfg["dropout"],
        learning_rate=cfg["learning_rate"], shift=cfg["shift"],
        steps_per_execution=cfg["steps_per_execution"],
    )  # fmt: skip


def train_one(cfg: dict, x, y, seed: int, straight=None) -> dict:
    """Train ``cfg`` as lesson 07 does; validation figures and times. ``straight``: the
    deskewed images, for the rows that ask for them."""
    if cfg["straighten"]:
        x = straight
    model = build(cfg, seed)
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), cpu_seconds()
    history = model.fit(
        x, y, validation_split=0.1, epochs=cfg["epochs"], batch_size=cfg["batch_size"],
        callbacks=[training.cosine_schedule(cfg["epochs"], cfg["learning_rate"])], verbose=0,
    ).history  # fmt: skip
    cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
    return {
        **cfg,
        "val_accuracy": round(history["val_accuracy"][-1], 4),
        "val_loss": round(history["val_loss"][-1], 4),
        "cpu_seconds": round(cpu, 1),
        "wall_seconds": round(wall, 1),
        "load_1min": round(load, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "params": model.count_params(),
        "seed": seed,
    }


def speed_one(cfg: dict, x, y, seed: int, n: int) -> dict:
    """CPU seconds for one epoch of ``n`` images, scaled to an epoch of 54,000."""
    model = build(cfg, seed)
    model.fit(x[:512], y[:512], epochs=1, batch_size=cfg["batch_size"], verbose=0)  # compile
    wall, cpu = time.perf_counter(), cpu_seconds()
    model.fit(x[:n], y[:n], epochs=1, batch_size=cfg["batch_size"], verbose=0)
    cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
    return {
        **cfg,
        "cpu_seconds_per_epoch": round(cpu * 54000 / n, 2),
        "wall_seconds_per_epoch": round(wall * 54000 / n, 2),
        "load_1min": round(os.getloadavg()[0], 2),
        "params": model.count_params(),
    }


def fashion(seed: int, epochs: int = 3, size: int = 20000) -> list[dict]:
    """Lesson 07's Fashion-MNIST comparison, scored on held-out training images."""
    from lessons_lib import data as data_module
    from lessons_lib.preprocess import prepare

    full = data_module.load_fashion("auto")
    (fx, fy), _ = full
    held = data_module.MnistData((fx[:54000], fy[:54000]), (fx[54000:], fy[54000:]), full.info)
    (tx, ty), (vx, vy) = data_module.take_subset(held, size, seed)
    rows = []
    candidates = [("dense", None)] + [
        (f"cnn, shifts of up to {s} pixels", {"shift": s})
        for s in (models.CNN_DEFAULTS["shift"], 0)
    ]
    for name, kwargs in candidates:
        training.set_seed(seed)
        wall, cpu = time.perf_counter(), cpu_seconds()
        if kwargs is None:  # as lesson 07 trains it: lesson 04's network without shifts
            model = models.dense_model(**models.DENSE_DEFAULTS)
            model.fit(prepare(tx, straighten=False), ty, epochs=epochs, batch_size=384, verbose=0)
            acc = model.evaluate(prepare(vx, straighten=False), vy, verbose=0)[1]
        else:
            model = models.cnn_model(**kwargs)
            model.fit(tx[..., None], ty, epochs=epochs, batch_size=128, verbose=0)
            acc = model.evaluate(vx[..., None], vy, verbose=0)[1]
        row = {
            "model": name, "epochs": epochs, "train_images": size,
            "val_accuracy": round(float(acc), 4),
            "cpu_seconds": round(cpu_seconds() - cpu, 1),
            "wall_seconds": round(time.perf_counter() - wall, 1),
            "load_1min": round(os.getloadavg()[0], 2),
        }  # fmt: skip
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def plot(runs: dict[str, dict], path: Path) -> None:
    """Validation accuracy against CPU seconds, one marker per ISA setting, with the 99.4%
    target and the 120 s slow-core budget scaled to this machine by row 0's measured ratio."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5.5))
    styles = [("#0072B2", "s"), ("#D55E00", "o"), ("#009E73", "^")]
    for (label, run), (color, marker) in zip(runs.items(), styles, strict=False):
        rows = run["rows"]
        ax.scatter([r["cpu_seconds"] for r in rows], [100 * r["val_accuracy"] for r in rows],
                   color=color, marker=marker, s=36, label=f"{label}: {run['machine']['summary']}")  # fmt: skip
        for r in rows:
            ax.annotate(
                f"f{r['filters']} d{r['dense_units']} s{r['shift']} e{r['epochs']} b{r['batch_size']}"
                f" lr{r['learning_rate']:g}"
                + ("" if r["steps_per_execution"] == models.STEPS_PER_EXECUTION else " spe1")
                + (" deskewed" if r.get("straighten") else ""),
                (r["cpu_seconds"], 100 * r["val_accuracy"]), fontsize=6,
                xytext=(4, -3), textcoords="offset points", color=color,
            )  # fmt: skip
        base = next((r for r in rows if r["filters"] == 32 and r["shift"] == 2), None)
        if base:  # the previous default's architecture: its cost per epoch, scaled to 10 epochs
            here = base["cpu_seconds"] * 10 / base["epochs"]
            budget = BUDGET_SLOW_SECONDS * here / SLOW_ROW0_SECONDS
            ax.axvline(budget, color=color, linestyle="--", linewidth=1,
                       label=f"{label}: 120 s on the slow machine, scaled by the 32/64-filter "
                       f"row ({budget:.0f} s)")  # fmt: skip
    import lesson_times  # beside this file: the ratio the lesson headers use

    calibration = json.loads(lesson_times.CALIBRATION.read_text())
    ratio = lesson_times.slow_factor(calibration, "07_going_further")
    ax.axvline(BUDGET_SLOW_SECONDS / ratio, color="black", linestyle="--", linewidth=1,
               label=f"120 s on the slower machine at lesson 07's measured ratio {ratio:.2f} "
               f"({BUDGET_SLOW_SECONDS / ratio:.0f} s; a quiet run)")  # fmt: skip
    ax.axhline(99.4, color="black", linestyle=":", linewidth=1, label="target 99.4%")
    ax.set_xlabel("CPU seconds of fit, one core, one TensorFlow thread")
    ax.set_ylabel("validation accuracy (%), last 6,000 training images")
    ax.set_title("Lesson 07's CNN on full MNIST: validation accuracy against training time")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="auto")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--seeds", help="comma-separated seeds: every row once per seed")
    parser.add_argument("--only", help="comma-separated row numbers of GRID")
    parser.add_argument("--speed", action="store_true", help="one epoch each: cost only")
    parser.add_argument("--speed-images", type=int, default=10240)
    parser.add_argument("--fashion", action="store_true", help="lesson 07's Fashion-MNIST part")
    parser.add_argument("--plot", type=Path, help="draw the frontier of the --runs files here")
    parser.add_argument("--runs", nargs="*", type=Path, default=[], help="LABEL=JSON files to plot")
    args = parser.parse_args(argv)
    if args.plot:
        runs = {}
        for item in args.runs:
            label, _, file = str(item).partition("=")
            runs[label] = json.loads(Path(file).read_text())
        plot(runs, args.plot)
        return 0
    if args.fashion:
        rows = fashion(args.seed)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(
                json.dumps({"machine": machine.describe(), "fashion": rows}, indent=2)
            )
        return 0
    data = load_mnist(args.data)
    (x, y), _ = data
    picked = range(len(GRID)) if not args.only else [int(i) for i in args.only.split(",")]
    straight = None
    if any(unpack(GRID[i])["straighten"] for i in picked):  # deskewed once, outside the timing
        straight = prepare_images(x)
    x = prepare_images(x, straighten=False)  # (n, 28, 28, 1) uint8: the model rescales inside
    info = machine.describe()
    print(f"data: {data.info.describe()}\nmachine: {info['summary']}", flush=True)
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    rows = []
    for i, seed in [(i, s) for i in picked for s in seeds]:
        cfg = unpack(GRID[i])
        row = {"row": i}
        if args.speed:
            row |= speed_one(cfg, x, y, seed, args.speed_images)
        else:
            row |= train_one(cfg, x, y, seed, straight)
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.json:  # after every row: a long sweep stopped early keeps what it measured
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(
                json.dumps(
                    {
                        "data": data.info.describe(),
                        "machine": info,
                        "shared_machine_note": "measured while other jobs loaded the machine: "
                        "compare CPU seconds, and only within one run",
                        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                        "rows": rows,
                    },
                    indent=2,
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
