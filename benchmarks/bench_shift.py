"""What the random-shift augmentation costs in training: Keras' RandomTranslation against
lessons_lib's PixelShift (the same bilinear shifts, computed as array arithmetic) and no
shifts at all, for lesson 04's dense network and lesson 07's CNN, in one process.

    taskset -c 0 env TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 OMP_NUM_THREADS=1 \\
        python benchmarks/bench_shift.py --data ../shared/data/mnist-full.npz [--json PATH]

Each configuration trains ``--epochs`` epochs on the first 54,000 training images (lesson
04's share after its validation split) after an untimed warm-up epoch on 3,840 of them
(Keras builds and traces the step there); the configurations take turns, ``--repeats``
rounds, so a machine whose speed drifts shifts every one alike. Figures are the process's
CPU seconds per epoch (user + system) and wall seconds per epoch, the median of the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
from bench_models import cpu_seconds  # noqa: E402  (this folder is on sys.path)
from keras import layers  # noqa: E402

from lessons_lib import machine, models, training  # noqa: E402
from lessons_lib.data import load_mnist  # noqa: E402
from lessons_lib.preprocess import prepare  # noqa: E402

AUGMENTATIONS = ("RandomTranslation", "PixelShift", "none")


def _translation() -> layers.Layer:
    return layers.RandomTranslation(1 / 28, 1 / 28, fill_mode="constant", fill_value=-1.0)


def dense(kind: str) -> keras.Model:
    """Lesson 04's network (``models.dense_model``'s defaults) with ``kind`` of shifts."""
    if kind != "RandomTranslation":
        return models.dense_model(shift=1 if kind == "PixelShift" else 0)
    base = models.dense_model(shift=0)
    model = keras.Sequential([keras.Input((784,)), layers.Reshape((28, 28, 1)), _translation(),
                              layers.Flatten(), *base.layers])  # fmt: skip
    return models._compile(
        model, models.DENSE_DEFAULTS["learning_rate"], models.STEPS_PER_EXECUTION
    )


def cnn(kind: str) -> keras.Model:
    """Lesson 07's CNN (``models.cnn_model``'s defaults) with ``kind`` of shifts."""
    if kind != "PixelShift":
        return models.cnn_model(shift=1 if kind == "RandomTranslation" else 0)
    base = models.cnn_model(shift=0)  # Rescaling first, then the convolutions
    model = keras.Sequential([keras.Input((28, 28, 1)), base.layers[0], models.PixelShift(1),
                              *base.layers[1:]])  # fmt: skip
    return models._compile(model, models.CNN_DEFAULTS["learning_rate"], models.STEPS_PER_EXECUTION)


def time_epochs(build, kind: str, x, y, epochs: int, batch: int) -> tuple[float, float]:
    """(CPU s, wall s) per epoch of ``build(kind)`` on x, y, after a warm-up epoch."""
    training.set_seed(0)
    model = build(kind)
    model.fit(x[:3840], y[:3840], batch_size=batch, epochs=1, verbose=0)
    cpu, wall = cpu_seconds(), time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
    return (cpu_seconds() - cpu) / epochs, (time.perf_counter() - wall) / epochs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="auto")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    data = load_mnist(args.data)
    (x, y), _ = data
    x, y = x[:54_000], y[:54_000]
    inputs = {"dense": (dense, prepare(x), 384), "cnn": (cnn, x[..., None], 128)}
    print(f"data: {data.info.describe()}\nmachine: {machine.describe()['summary']}", flush=True)
    runs: dict[str, dict[str, list]] = {net: {k: [] for k in AUGMENTATIONS} for net in inputs}
    for round_ in range(args.repeats):
        for net, (build, xin, batch) in inputs.items():
            for kind in AUGMENTATIONS:
                cpu, wall = time_epochs(build, kind, xin, y, args.epochs, batch)
                runs[net][kind].append((round(cpu, 3), round(wall, 3)))
                print(f"round {round_ + 1} {net:5} {kind:17} CPU {cpu:6.2f} s/epoch, "
                      f"wall {wall:6.2f} s/epoch", flush=True)  # fmt: skip
    summary = {}
    for net, kinds in runs.items():
        summary[net] = {}
        for kind, pairs in kinds.items():
            cpu = statistics.median(p[0] for p in pairs)
            wall = statistics.median(p[1] for p in pairs)
            summary[net][kind] = {"cpu_seconds_per_epoch": round(cpu, 3),
                                  "wall_seconds_per_epoch": round(wall, 3)}  # fmt: skip
        base = summary[net]["none"]["cpu_seconds_per_epoch"]
        for kind in AUGMENTATIONS:
            summary[net][kind]["cpu_vs_none"] = round(
                summary[net][kind]["cpu_seconds_per_epoch"] / base, 3
            )
    print("\n| network | augmentation | CPU s / epoch | wall s / epoch | CPU against no shifts |")
    print("|---|---|---|---|---|")
    for net, kinds in summary.items():
        for kind, f in kinds.items():
            print(f"| {net} | {kind} | {f['cpu_seconds_per_epoch']:.2f} | "
                  f"{f['wall_seconds_per_epoch']:.2f} | {f['cpu_vs_none']:.2f} |")  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "what": __doc__.split("\n\n")[0].replace("\n", " "),
            "data": data.info.describe(), "machine": machine.describe(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
            "epochs": args.epochs, "repeats": args.repeats,
            "summary": summary, "runs": runs,
        }, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
