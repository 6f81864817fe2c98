"""Lessons under a CPU quota, as Binder runs them: TensorFlow's own thread count against the
kernel hook's (``lessons_lib.machine.cap_threads``: as many threads as the quota has cores).

    sudo python benchmarks/bench_quota.py --data ../shared/data/mnist-full.npz \\
        [--quota 1.0] [--only 04,07] [--repeats 2] [--json PATH]

Makes a cgroup-v1 CPU cgroup with the quota (root only; Linux), and runs the series runner in
it, so the runner and every lesson's kernel share the quota as in a Binder pod. Each round
runs the lessons twice, taking turns: once with ``TF_NUM_INTRAOP_THREADS``,
``TF_NUM_INTEROP_THREADS`` and ``OMP_NUM_THREADS`` set to every core the machine shows (what
TensorFlow picks by itself: the quota hides no core), once with none of them set, so the kernel
hook sizes them to the quota. Figures: the runner's seconds and the kernel's CPU seconds per
lesson (its metrics.json), the median of the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lessons_lib import machine  # noqa: E402

MODES = ("TensorFlow's own threads (every core)", "threads sized to the quota (kernel hook)")


def make_group(quota: float) -> Path:
    own = machine.v1_cgroup("cpu")
    if own is None:
        raise SystemExit("this machine has no cgroup-v1 cpu hierarchy to make a quota in")
    group = own / f"lessons-bench-quota-{os.getpid()}"
    group.mkdir(exist_ok=True)
    (group / "cpu.cfs_period_us").write_text("100000")
    (group / "cpu.cfs_quota_us").write_text(str(int(quota * 100000)))
    return group


def run(group: Path, mode: str, args, out: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in machine.THREAD_VARIABLES}
    if mode == MODES[0]:
        env.update({name: str(machine.affinity_cores()) for name in machine.THREAD_VARIABLES})
    command = [sys.executable, "-m", "lessons_lib", "run", "--only", args.only,
               "-p", "data_source", args.data, "--out", str(out)]  # fmt: skip

    def enter():
        (group / "cgroup.procs").write_text(str(os.getpid()))

    result = subprocess.run(command, cwd=ROOT, env=env, preexec_fn=enter, capture_output=True,
                            text=True)  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"the runner failed ({result.returncode}): {result.stderr[-2000:]}")
    books = json.loads((out / "metrics.json").read_text())["notebooks"]
    return {
        book[:2]: {
            "seconds": r["seconds"],
            "kernel_cpu_seconds": r["metrics"].get("kernel_cpu_seconds"),
            "tf_threads": r["metrics"]["machine"]["tf_threads"],
            "machine": r["metrics"]["machine"]["summary"],
        }
        for book, r in books.items()
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="auto")
    parser.add_argument("--quota", type=float, default=1.0)
    parser.add_argument("--only", default="04,07")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench-quota")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    group = make_group(args.quota)
    load_before = round(os.getloadavg()[0], 2)
    print(f"machine: {machine.describe()['summary']}; quota {args.quota:g} CPU", flush=True)
    runs = {mode: [] for mode in MODES}
    try:
        for round_ in range(args.repeats):
            for i, mode in enumerate(MODES):
                got = run(group, mode, args, args.out / f"round{round_ + 1}-{i}")
                runs[mode].append(got)
                print(f"round {round_ + 1}, {mode}: "
                      + ", ".join(f"{b} {g['seconds']:.1f} s ({g['kernel_cpu_seconds']} CPU s, "
                                  f"{g['tf_threads']} TF threads)" for b, g in got.items()),
                      flush=True)  # fmt: skip
    finally:
        group.rmdir()
    summary = {
        mode: {
            book: {
                key: round(statistics.median(r[book][key] for r in rs), 1)
                for key in ("seconds", "kernel_cpu_seconds")
            }
            for book in rs[0]
        }
        for mode, rs in runs.items()
    }
    print("\n| lesson | " + " | ".join(f"{m}, s" for m in MODES) + " |")
    print("|---|---|---|")
    for book in summary[MODES[0]]:
        print(
            f"| {book} | " + " | ".join(f"{summary[m][book]['seconds']:.1f}" for m in MODES) + " |"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "what": __doc__.split("\n\n")[0].replace("\n", " "),
            "machine": machine.describe(), "quota": args.quota, "data": args.data,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_1min_before": load_before, "command": " ".join(["python", *sys.argv]),
            "summary": summary, "runs": runs,
        }, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
