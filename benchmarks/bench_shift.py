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
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
from keras import layers  # noqa: E402

from lessons_lib import machine, models, training  # noqa: E402
from lessons_lib.data import load_mnist  # noqa: E402
from lessons_lib.preprocess import prepare  # noqa: E402

AUGMENTATIONS = ("RandomTranslation", "PixelShift", "none")


def _augment(kind: str) -> list:
    if kind == "RandomTranslation":
        return [layers.RandomTranslation(1 / 28, 1 / 28, fill_mode="constant", fill_value=-1.0)]
    if kind == "PixelShift":
        return [models.PixelShift(1)]
    return []


def dense(kind: str) -> keras.Model:
    """Lesson 04's network (320 x 2, dropout 0.15) on (n, 784) input, with ``kind``."""
    shape = [layers.Reshape((28, 28, 1))] if kind == "RandomTranslation" else []
    back = [layers.Flatten()] if kind == "RandomTranslation" else []
    hidden = [[layers.Dense(320, activation="relu"), layers.Dropout(0.15)] for _ in range(2)]
    model = keras.Sequential(
        [keras.Input((784,)), *shape, *_augment(kind), *back, *hidden[0], *hidden[1],
         layers.Dense(10, activation="softmax")]
    )  # fmt: skip
    return models._compile(model, 2e-3, models.STEPS_PER_EXECUTION)


def cnn(kind: str) -> keras.Model:
    """Lesson 07's CNN (16/32 filters, 128 units) on (n, 28, 28, 1) uint8, with ``kind``."""
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Rescaling(1 / 127.5, offset=-1),
            *_augment(kind),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    return models._compile(model, 2e-3, models.STEPS_PER_EXECUTION)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def time_epochs(build, kind: str, x, y, epochs: int, batch: int) -> tuple[float, float]:
    """(CPU s, wall s) per epoch of ``build(kind)`` on x, y, after a warm-up epoch."""
    training.set_seed(0)
    model = build(kind)
    model.fit(x[:3840], y[:3840], batch_size=batch, epochs=1, verbose=0)
    cpu, wall = _cpu(), time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
    return (_cpu() - cpu) / epochs, (time.perf_counter() - wall) / epochs


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
