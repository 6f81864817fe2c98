"""Sweep speed-up: an embedded Dask LocalCluster of 1, 2 and 4 workers against the process pool
the sweep used before Dask, in one run, on this machine's cores.

    .venv/bin/python benchmarks/bench_sweep.py --json benchmarks/results/sweep-speedup.json

Each setting sweeps lesson 04 in --fast mode (offline sample, one epoch) over four seeds; the
figure is the sweep's wall time and its ratio to the process pool's with as many processes as
cores (the old default). The CPU, the thread caps each kernel got and the load average are
recorded with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lessons_lib import runner  # noqa: E402
from lessons_lib.runner.sweeps import usable_cores  # noqa: E402

SEEDS = "1,2,3,4"


def one(label: str, jobs: int, pool: bool) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bench-sweep-")) / "sweep"
    load = os.getloadavg()
    start = time.perf_counter()
    code = runner.sweep(
        "04",
        {"seed": SEEDS},
        fast=True,
        jobs=str(jobs),
        out=out,
        pool=pool,
        echo=lambda *a, **k: None,
    )
    seconds = time.perf_counter() - start
    rows = json.loads((out / "sweep.json").read_text()) if (out / "sweep.json").exists() else []
    shutil.rmtree(out.parent, ignore_errors=True)
    return {
        "setting": label,
        "parallel_kernels": jobs,
        "seconds": round(seconds, 1),
        "ok": code == 0 and len(rows) == 4,
        "threads_per_kernel": rows[0]["threads"] if rows else None,
        "load_average_before": [round(x, 2) for x in load],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    cores = usable_cores()
    runs = [one(f"process pool, {cores} processes (before Dask)", cores, pool=True)]
    for workers in (1, 2, 4):
        runs.append(one(f"Dask LocalCluster, {workers} worker(s)", workers, pool=False))
    base = runs[0]["seconds"]
    for r in runs:
        r["speed_vs_pool"] = round(base / r["seconds"], 2)
        print(
            f"{r['setting']:45s} {r['seconds']:7.1f} s   x{r['speed_vs_pool']:.2f}   ok={r['ok']}"
        )
    try:
        from lessons_lib.machine import describe

        cpu = describe()
    except ImportError:
        cpu = {"cores": cores}
    report = {
        "command": " ".join(["python", *sys.argv]),
        "cpu": cpu,
        "cores": cores,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "runs": runs,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, default=str))
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
