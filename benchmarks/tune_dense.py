"""Choose the lessons' dense default on validation figures only: a sweep on full MNIST.

    python benchmarks/tune_dense.py --data ../shared/data/mnist-full.npz [--json PATH] [--plot PATH]

Every configuration trains lesson 04's recipe (deskew, flatten, [-1, 1], Dense x N with
dropout, Adam with the cosine schedule) on the same 90% of the training images, seed 42,
and is scored on the held-out 10% (never on the test set, which scores the final choice
once, in bench_models.py). The plot is the accuracy-against-time frontier.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lessons_lib import machine, training  # noqa: E402
from lessons_lib.data import load_mnist  # noqa: E402
from lessons_lib.preprocess import prepare  # noqa: E402

# (hidden_units, hidden_layers, dropout, learning_rate, epochs, batch_size)
GRID = [
    (192, 2, 0.2, 2e-3, 15, 256),  # the default before this sweep
    (256, 2, 0.25, 2e-3, 15, 256),
    (256, 2, 0.3, 3e-3, 20, 256),
    (384, 2, 0.3, 2e-3, 12, 256),
    (512, 2, 0.35, 2e-3, 12, 512),
    (512, 1, 0.3, 2e-3, 15, 256),
    (1024, 1, 0.4, 2e-3, 12, 512),
    (256, 3, 0.25, 2e-3, 15, 256),
    (320, 2, 0.3, 3e-3, 16, 384),
    (256, 2, 0.2, 2e-3, 15, 256, 1),  # with random shifts of up to 1 or 2 pixels
    (256, 2, 0.2, 2e-3, 15, 256, 2),
    (512, 2, 0.25, 2e-3, 15, 512, 2),
    (256, 2, 0.1, 2e-3, 20, 256, 1),
    (384, 2, 0.2, 3e-3, 15, 512, 1),
    (256, 2, 0.2, 3e-3, 24, 512, 1),
    (512, 2, 0.3, 3e-3, 12, 512, 1),
    (320, 2, 0.15, 2e-3, 18, 384, 1),
    (256, 2, 0.15, 3e-3, 30, 512, 1),
    (320, 2, 0.2, 3e-3, 28, 512, 1),
    (256, 2, 0.2, 4e-3, 32, 1024, 1),
    # fast points, for the frontier near the quickstart's training time
    (192, 2, 0.1, 3e-3, 8, 256, 1),
    (256, 2, 0.1, 3e-3, 6, 512, 1),
    (128, 2, 0.1, 3e-3, 10, 256, 1),
    (192, 2, 0.1, 3e-3, 8, 256, 0),
    (320, 2, 0.15, 2e-3, 8, 384, 1),
    (256, 2, 0.1, 4e-3, 10, 512, 1),
]


def plot(rows: list[dict], path: Path, when: str = "") -> None:
    """Validation accuracy against training time, with the 98.8% target as a guide. Times
    compare only within one run (the machine's speed changes from day to day), so nothing
    from another run is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.transforms import Bbox

    fig, ax = plt.subplots(figsize=(10, 5.5))
    span = max(r["train_seconds"] for r in rows)
    ax.set_xlim(0, span * 1.25)
    low, high = (100 * f(r["val_accuracy"] for r in rows) for f in (min, max))
    ax.set_ylim(min(low, 98.8) - 0.08, max(high, 98.8) + 0.08)
    ax.set_xlabel("training time on 2 cores (s)" + (f", {when}" if when else ""))
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("Dense network on full MNIST: validation accuracy against training time")
    fig.tight_layout()  # before the labels are placed: it moves the axes
    renderer = fig.canvas.get_renderer()
    points = sorted(rows, key=lambda r: (r["train_seconds"], r["val_accuracy"]))
    markers = []  # each point's marker, as a box in pixels: labels keep off them
    for r in points:
        x, y = r["train_seconds"], 100 * r["val_accuracy"]
        shifted = bool(r.get("shift"))
        ax.scatter(x, y, s=36, color="#D55E00" if shifted else "#0072B2",
                   marker="o" if shifted else "s")  # fmt: skip
        px, py = ax.transData.transform((x, y))
        markers.append(Bbox.from_extents(px - 5, py - 5, px + 5, py + 5))
    boxes = []
    for i, r in enumerate(points):
        x, y = r["train_seconds"], 100 * r["val_accuracy"]
        others = boxes + markers[:i] + markers[i + 1 :]
        # a label that would cover another moves up or down, a line at a time
        for dy in (-3, 6, -12, 15, -21, 24):
            label = ax.annotate(
                f"{r['hidden_units']}x{r['hidden_layers']} e{r['epochs']} b{r['batch_size']}",
                (x, y), fontsize=7, xytext=(5, dy), textcoords="offset points",
            )  # fmt: skip
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in others):
                break
            label.remove()
        boxes.append(box)
    ax.axhline(98.8, color="black", linestyle=":", linewidth=1, label="target 98.8%")
    ax.scatter([], [], color="#D55E00", marker="o", label="with random 1-2 pixel shifts")
    ax.scatter([], [], color="#0072B2", marker="s", label="without")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="auto")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", help="comma-separated row numbers of GRID")
    parser.add_argument("--replot", type=Path, help="only redraw --plot from this JSON")
    args = parser.parse_args(argv)
    if args.replot:
        run = json.loads(args.replot.read_text())
        plot(run["rows"], args.plot, run.get("date", ""))
        return 0
    data = load_mnist(args.data)
    (x, y), _ = data
    print(f"data: {data.info.describe()}")
    xin = prepare(x)
    rows = []
    grid = GRID if not args.only else [GRID[int(i)] for i in args.only.split(",")]
    for units, layers, dropout, lr, epochs, batch, *more in grid:
        shift = more[0] if more else 0
        start = time.perf_counter()
        result = training.train_lesson_model(
            xin, y, hidden_units=units, hidden_layers=layers, dropout=dropout, learning_rate=lr,
            epochs=epochs, batch_size=batch, validation_fraction=0.1, patience=0, seed=args.seed,
            verbose=0, shift=shift,
        )  # fmt: skip
        h = result.history
        row = {
            "hidden_units": units, "hidden_layers": layers, "dropout": dropout,
            "learning_rate": lr, "epochs": epochs, "batch_size": batch, "shift": shift,
            "val_accuracy": round(h["val_accuracy"][-1], 4), "val_loss": round(h["val_loss"][-1], 4),
            "train_seconds": round(result.seconds, 1), "params": result.model.count_params(),
        }  # fmt: skip
        rows.append(row)
        print(json.dumps(row), f"({time.perf_counter() - start:.0f} s)", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "data": data.info.describe(),
                    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "command": " ".join(["python", *sys.argv]),
                    "machine": machine.describe(),
                    "rows": rows,
                },
                indent=2,
            )
        )
    if args.plot:
        plot(rows, args.plot, time.strftime("%Y-%m-%d", time.gmtime()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
