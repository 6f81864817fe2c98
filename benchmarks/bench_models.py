"""Accuracy, speed and memory of four models, trained one after another in one process.

    python benchmarks/bench_models.py --data ../shared/data/mnist-partial.npz [--only NAME,...] [--json PATH]

(a) reference:    flatten, [-1, 1], Dense 64 ReLU x2, softmax; Adam; 5 epochs, batch 32
(b) quickstart:   TensorFlow's beginner quickstart: [0, 1], Dense 128 ReLU, Dropout 0.2,
                  Dense 10 logits; Adam; 5 epochs, batch 32
(c) lesson_dense: the lessons' default: deskew, flatten, [-1, 1], random shifts of up to 1
                  pixel, Dense 320 x2 with dropout 0.15, Adam + cosine decay, 18 epochs of
                  384, steps_per_execution 32: lesson 04's training
(d) lesson_cnn:   lesson 07's convolutional network with its default training on deskewed
                  images (models.CNN_DEFAULTS, models.CNN_TRAINING)

Every config sees the same data and the same seed. train_seconds is the wall time of
``fit`` alone and train_cpu_seconds the process's CPU time (user + system, all threads)
over it, with the load average beside them: on a shared machine compare CPU seconds, and
only within one run. prep_seconds is the preprocessing of the training images;
peak_rss_mb is the process's peak resident memory while that config ran (sampled every
50 ms). The run's JSON names the machine (``lessons_lib.machine.describe()``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402

from lessons_lib import machine, models, training  # noqa: E402
from lessons_lib.data import load_mnist  # noqa: E402
from lessons_lib.preprocess import prepare, prepare_images  # noqa: E402

CONFIGS = ["reference", "quickstart", "lesson_dense", "lesson_cnn"]


def cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads) so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class PeakRSS:
    """Peak resident memory of this process between enter and exit."""

    def __enter__(self):
        self._proc = psutil.Process()
        self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def mb(self) -> float:
        return self.peak / 2**20


def _run(name, x, y, xt, yt, seed):
    """Train and evaluate one config; return its figures."""
    training.set_seed(seed)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    if name == "reference":
        xin, xtest = prepare(x, straighten=False), prepare(xt, straighten=False)
        prep = time.perf_counter() - start
        model, fit = models.reference_model(), dict(epochs=5, batch_size=32)
    elif name == "quickstart":
        xin, xtest = (x / 255.0).astype("float32"), (xt / 255.0).astype("float32")
        prep = time.perf_counter() - start
        model, fit = models.quickstart_model(), dict(epochs=5, batch_size=32)
    elif name == "lesson_dense":
        xin = prepare(x)
        prep = time.perf_counter() - start
        xtest = prepare(xt)
        cpu = cpu_seconds()
        result = training.train_lesson_model(
            xin, y, seed=seed, verbose=0, **models.DENSE_DEFAULTS, **models.TRAINING_DEFAULTS
        )
        train_cpu = cpu_seconds() - cpu
        model, train_seconds, epochs = result.model, result.seconds, result.epochs_run
    elif name == "lesson_cnn":
        xin = prepare_images(x)  # deskewed uint8 (n, 28, 28, 1): the model rescales inside
        prep = time.perf_counter() - start
        xtest = prepare_images(xt)
        model = models.cnn_model()
        t, cpu = time.perf_counter(), cpu_seconds()
        epochs_wanted = models.CNN_TRAINING["epochs"]
        history = model.fit(
            xin,
            y,
            validation_split=0.1,
            epochs=epochs_wanted,
            batch_size=models.CNN_TRAINING["batch_size"],
            callbacks=[
                training.cosine_schedule(epochs_wanted, models.CNN_DEFAULTS["learning_rate"])
            ],
            verbose=0,
        )
        train_seconds, epochs = time.perf_counter() - t, len(history.history["loss"])
        train_cpu = cpu_seconds() - cpu
    else:
        raise ValueError(name)
    if name in ("reference", "quickstart"):
        t, cpu = time.perf_counter(), cpu_seconds()
        model.fit(xin, y, verbose=0, **fit)
        train_seconds, epochs = time.perf_counter() - t, fit["epochs"]
        train_cpu = cpu_seconds() - cpu
    loss, acc = model.evaluate(xtest, yt, batch_size=1000, verbose=0)
    return {
        "test_accuracy": round(float(acc), 4),
        "test_error": round(1 - float(acc), 4),
        "test_loss": round(float(loss), 4),
        "train_seconds": round(train_seconds, 2),
        "train_cpu_seconds": round(train_cpu, 2),
        "seconds_per_epoch": round(train_seconds / epochs, 3),
        "cpu_seconds_per_epoch": round(train_cpu / epochs, 3),
        "load_1min": round(load, 2),
        "epochs": epochs,
        "prep_seconds": round(prep, 2),
        "params": model.count_params(),
    }


def _warm_up(x, y) -> None:
    """One small untimed fit, so no config pays TensorFlow's one-time start-up costs."""
    model = models.reference_model()
    model.fit(prepare(x, straighten=False), y, epochs=1, batch_size=32, verbose=0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", default="auto", help="any load_mnist source: auto, keras, sample or a path"
    )
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(CONFIGS)}")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    names = CONFIGS if not args.only else [n.strip() for n in args.only.split(",")]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        print(
            f"error: unknown config {', '.join(unknown)}; choose from {', '.join(CONFIGS)}",
            file=sys.stderr,
        )
        return 2
    data = load_mnist(args.data)
    (x, y), (xt, yt) = data
    print(f"data: {data.info.describe()}")
    info = machine.describe()
    print(
        f"machine: {info['summary']}, {psutil.virtual_memory().total / 2**30:.0f} GB; "
        f"seed {args.seed}\n"
    )
    _warm_up(x[:512], y[:512])
    results = {}
    for name in names:
        print(f"training {name} ...", flush=True)
        with PeakRSS() as mem:
            results[name] = _run(name, x, y, xt, yt, args.seed)
        results[name]["peak_rss_mb"] = round(mem.mb, 1)
    for base in ("reference", "quickstart"):
        if base in results:
            for r in results.values():
                r[f"error_vs_{base}"] = round(r["test_error"] / results[base]["test_error"], 3)
                r[f"time_vs_{base}"] = round(r["train_seconds"] / results[base]["train_seconds"], 3)
                r[f"cpu_time_vs_{base}"] = round(
                    r["train_cpu_seconds"] / results[base]["train_cpu_seconds"], 3
                )
    cols = [
        "test_accuracy",
        "test_loss",
        "train_seconds",
        "train_cpu_seconds",
        "seconds_per_epoch",
        "prep_seconds",
        "peak_rss_mb",
        "error_vs_reference",
        "time_vs_reference",
        "error_vs_quickstart",
        "time_vs_quickstart",
        "cpu_time_vs_quickstart",
    ]
    cols = [c for c in cols if any(c in r for r in results.values())]
    print("\n| config | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for name, r in results.items():
        cells = [f"{r[c]:.2%}" if c == "test_accuracy" else str(r.get(c, "")) for c in cols]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "data": data.info.describe(),
                    "seed": args.seed,
                    "cores": os.cpu_count(),
                    "machine": info,
                    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "configs": results,
                },
                indent=2,
            )
        )
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
