"""What tf.data's autotuner costs when a lesson trains on NumPy arrays: Keras' own pipeline
against lessons_lib's (``lessons_lib.tfdata``: the same pipeline with autotuning off), for
lesson 07's CNN and lesson 04's dense network, in one process.

    taskset -c 0 env TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 OMP_NUM_THREADS=1 \\
        python benchmarks/bench_autotune.py --data ../shared/data/mnist-full.npz [--json PATH]

Each network trains as its lesson does (``fit`` on arrays with ``validation_split=0.1`` and
the cosine schedule; the CNN its 4 epochs, the dense network the first ``--dense-epochs`` of
lesson 04's 18) and then predicts the 10,000 test images, once with each pipeline, the two
taking turns for ``--repeats`` rounds. Figures: wall seconds, the process's CPU seconds
(user + system, all threads) and their difference, the time no thread of the process ran;
the median of the rounds. The validation accuracies of every epoch are recorded too: the two
pipelines must give the same ones.
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

from bench_models import cpu_seconds  # noqa: E402  (this folder is on sys.path)

from lessons_lib import machine, models, tfdata, training  # noqa: E402
from lessons_lib.data import load_mnist  # noqa: E402
from lessons_lib.preprocess import prepare  # noqa: E402

PIPELINES = ("Keras' own (autotuning on)", "lessons_lib (autotuning off)")


def run(net: str, pipeline: str, inputs: dict, epochs: dict) -> dict:
    """Train ``net`` as its lesson does and predict the test set with ``pipeline``."""
    (tfdata.uninstall if pipeline == PIPELINES[0] else tfdata.install)()
    build, x, y, x_test, batch = inputs[net]
    training.set_seed(42)
    model = build()
    n = epochs[net]
    lr = models.CNN_DEFAULTS if net == "cnn" else models.DENSE_DEFAULTS
    cpu, wall = cpu_seconds(), time.perf_counter()
    history = model.fit(
        x, y, validation_split=0.1, epochs=n, batch_size=batch, verbose=0,
        callbacks=[training.cosine_schedule(n, lr["learning_rate"])],
    )  # fmt: skip
    fit = (cpu_seconds() - cpu, time.perf_counter() - wall)
    cpu, wall = cpu_seconds(), time.perf_counter()
    model.predict(x_test, batch_size=512, verbose=0)
    predict = (cpu_seconds() - cpu, time.perf_counter() - wall)
    return {
        "fit_wall": round(fit[1], 2), "fit_cpu": round(fit[0], 2),
        "predict_wall": round(predict[1], 2), "predict_cpu": round(predict[0], 2),
        "val_accuracy": [round(v, 6) for v in history.history["val_accuracy"]],
    }  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="auto")
    parser.add_argument("--dense-epochs", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    data = load_mnist(args.data)
    (x, y), (x_test, _) = data
    inputs = {
        "cnn": (models.cnn_model, x[..., None], y, x_test[..., None], models.CNN_TRAINING["batch_size"]),
        "dense": (models.dense_model, prepare(x), y, prepare(x_test), models.TRAINING_DEFAULTS["batch_size"]),
    }  # fmt: skip
    epochs = {"cnn": models.CNN_TRAINING["epochs"], "dense": args.dense_epochs}
    print(f"data: {data.info.describe()}\nmachine: {machine.describe()['summary']}", flush=True)
    load_before = round(os.getloadavg()[0], 2)
    runs = {net: {p: [] for p in PIPELINES} for net in inputs}
    for round_ in range(args.repeats):
        for net in inputs:
            for pipeline in PIPELINES:
                r = run(net, pipeline, inputs, epochs)
                runs[net][pipeline].append(r)
                print(f"round {round_ + 1} {net:5} {pipeline:29} fit wall {r['fit_wall']:6.2f} s, "
                      f"CPU {r['fit_cpu']:6.2f} s; predict wall {r['predict_wall']:5.2f} s, "
                      f"CPU {r['predict_cpu']:5.2f} s", flush=True)  # fmt: skip
    tfdata.install()
    summary = {}
    for net, by_pipeline in runs.items():
        summary[net] = {}
        for pipeline, rs in by_pipeline.items():
            f = {k: round(statistics.median(r[k] for r in rs), 2)
                 for k in ("fit_wall", "fit_cpu", "predict_wall", "predict_cpu")}  # fmt: skip
            f["fit_idle"] = round(f["fit_wall"] - f["fit_cpu"], 2)
            f["predict_idle"] = round(f["predict_wall"] - f["predict_cpu"], 2)
            summary[net][pipeline] = f
        accuracies = {json.dumps(r["val_accuracy"]) for rs in by_pipeline.values() for r in rs}
        summary[net]["same_val_accuracy_every_run"] = len(accuracies) == 1
    print(
        "\n| network | pipeline | fit wall s | fit CPU s | idle s | predict wall s | predict CPU s |"
    )
    print("|---|---|---|---|---|---|---|")
    for net, by_pipeline in summary.items():
        for pipeline in PIPELINES:
            f = by_pipeline[pipeline]
            print(f"| {net} ({epochs[net]} epochs) | {pipeline} | {f['fit_wall']:.1f} | "
                  f"{f['fit_cpu']:.1f} | {f['fit_idle']:.1f} | {f['predict_wall']:.2f} | "
                  f"{f['predict_cpu']:.2f} |")  # fmt: skip
        print(
            f"same validation accuracies in every run: {by_pipeline['same_val_accuracy_every_run']}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "what": __doc__.split("\n\n")[0].replace("\n", " "),
            "data": data.info.describe(), "machine": machine.describe(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_1min_before": load_before,
            "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
            "epochs": epochs, "repeats": args.repeats,
            "summary": summary, "runs": runs,
        }, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
