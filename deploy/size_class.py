"""Zero to JupyterHub values and a sizing guide, computed from the measured hub load test.

    python deploy/size_class.py                    # rewrite deploy/z2jh-values.yaml and deploy/SIZING.md
    python deploy/size_class.py --check            # exit 1 if either differs from what the figures give

Every number in both files comes from `benchmarks/results/hub-load.json` (made by
`benchmarks/hub_load.py`) through the arithmetic below, so the guide cannot drift from the
measurement; `tests/test_deploy.py` runs `--check`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "benchmarks" / "results" / "hub-load.json"
VALUES = HERE / "z2jh-values.yaml"
GUIDE = HERE / "SIZING.md"

MARGIN = 1.25  # headroom over the largest peak seen: another run, another lesson open
NODE_RESERVE_GB = 1.5  # what Kubernetes and the system keep on each node (kubelet, daemons)
CPU_GUARANTEE = 0.5  # cores a learner is promised; the kernels use one TensorFlow thread
CPU_LIMIT = 1.0
CLASS_SIZES = (20, 50, 200)
NODE_SHAPES = ((4, 16), (8, 32), (16, 64))  # (cores, GB): common cloud node sizes


def _round_up(value: float, step: float) -> float:
    return round(math.ceil(value / step - 1e-9) * step, 2)


def figures(results: dict) -> dict:
    """The per-learner figures the sizing needs, each with where it came from."""
    runs = {r["learners"]: r for r in results["runs"]}
    kernel = max(r["kernel_peak_mb_max"] for r in runs.values()) / 1024
    server = max(r["server_peak_mb_max"] for r in runs.values()) / 1024
    alone = runs[min(runs)]["lesson_04_s_median"]
    biggest = max(runs)
    crowded = runs[biggest]["lesson_04_s_median"]
    guarantee = _round_up(kernel + server, 0.1)
    limit = _round_up((kernel + server) * MARGIN, 0.25)
    return {
        "kernel_gb": round(kernel, 2),
        "server_gb": round(server, 2),
        "guarantee_gb": guarantee,
        "limit_gb": limit,
        "alone_s": alone,
        "crowded_n": biggest,
        "crowded_s": crowded,
        "cores_measured": results["cpu"]["cores"],
        "epochs": results.get("epochs"),
        "loads": [r["load_average_before"][0] for r in runs.values()],
        "cpu": results["cpu"],
        "slider": {n: (r["slider_ms_median"], r["slider_ms_p95"]) for n, r in sorted(runs.items())},
    }


def values_yaml(f: dict, results: dict) -> str:
    return f"""\
# Zero to JupyterHub (chart 4.x) values for a class taking the Digit Recognition lessons.
# Written by deploy/size_class.py from benchmarks/results/hub-load.json
# (measured {results["created"]} on {f["cpu"]["model"]}, {f["cores_measured"]} cores): do not edit the
# numbers by hand, re-run the load test and the script. See deploy/SIZING.md for the arithmetic.
singleuser:
  image:
    # Build it from this repository's binder/ folder, exactly as Binder does, and push it:
    #   jupyter-repo2docker --no-run --image-name REGISTRY/digit-recognition:TAG .
    name: REGISTRY/digit-recognition
    tag: TAG
  defaultUrl: /lab
  memory:
    guarantee: {f["guarantee_gb"]}G  # kernel peak {f["kernel_gb"]} GB + server {f["server_gb"]} GB
    limit: {f["limit_gb"]}G  # x{MARGIN} headroom: a second lesson open, a larger upload
  cpu:
    guarantee: {CPU_GUARANTEE}
    limit: {CPU_LIMIT}
  extraEnv:
    MNIST_PATH: /srv/mnist/mnist.npz  # one read-only copy for the whole class
    TF_NUM_INTRAOP_THREADS: "1"  # as binder/start: one thread pool per learner
    TF_NUM_INTEROP_THREADS: "1"
  storage:
    capacity: 1Gi  # notebooks, one saved model (~2 MB) and progress per learner
    extraVolumes:
      - name: mnist
        persistentVolumeClaim:
          claimName: mnist-readonly  # holds mnist.npz; see deploy/SIZING.md
          readOnly: true
    extraVolumeMounts:
      - name: mnist
        mountPath: /srv/mnist
        readOnly: true
cull:
  enabled: true
  timeout: 3600  # an hour idle: the server stops, the learner's files stay
  every: 300
"""


def guide_md(f: dict, results: dict) -> str:
    per_node = []
    for cores, gb in NODE_SHAPES:
        by_mem = math.floor((gb - NODE_RESERVE_GB) / f["guarantee_gb"])
        by_cpu = math.floor(cores / CPU_GUARANTEE)
        per_node.append((cores, gb, by_mem, by_cpu, min(by_mem, by_cpu)))
    lines = [
        "# Sizing a class on JupyterHub",
        "",
        "Written by `deploy/size_class.py` from `benchmarks/results/hub-load.json`, which",
        f"`benchmarks/hub_load.py` measured on {results['created']} ({f['cpu']['model']}, "
        f"{f['cores_measured']} cores, AVX-512: {'yes' if f['cpu'].get('avx512') else 'no'}) with",
        f"`{results['command']}`. The values for the Zero to JupyterHub chart are in",
        "`deploy/z2jh-values.yaml`. Kubernetes itself could not run here: the values were checked",
        "against the chart's schema (see the README), not deployed.",
        "",
        "## Per learner, measured",
        "",
        f"- a learner's kernel peaked at **{f['kernel_gb']} GB** (lessons 04 and 06), their Jupyter",
        f"  server at **{f['server_gb']} GB**;",
        f"- lesson 04 ({f['epochs'] or 'its default'} epochs) took **{f['alone_s']} s** for one "
        f"learner and **{f['crowded_s']} s** each",
        f"  with {f['crowded_n']} learners training at once on {f['cores_measured']} cores. The "
        "machine was shared with other",
        f"  work during the runs (load average {min(f['loads'])} to {max(f['loads'])} before "
        "them), so these",
        "  times are an upper bound, not a scaling law: measure again on a quiet machine;",
        "- dragging lesson 06's slider (send to kernel idle, median / p95): "
        + "; ".join(f"{n} learner(s): {m} / {p} ms" for n, (m, p) in f["slider"].items())
        + ".",
        "",
        "## Per learner, asked of Kubernetes",
        "",
        f"- memory guarantee = kernel + server, rounded up to 0.1 GB: {f['kernel_gb']} + "
        f"{f['server_gb']} -> **{f['guarantee_gb']} GB**;",
        f"- memory limit = (kernel + server) x {MARGIN}, rounded up to 0.25 GB -> "
        f"**{f['limit_gb']} GB** (a kernel past it is stopped by Kubernetes; the learner restarts it);",
        f"- CPU guarantee **{CPU_GUARANTEE}** core, limit **{CPU_LIMIT}**: TensorFlow runs one",
        "  thread per kernel, so more than one core does not help a learner; with half a core",
        f"  guaranteed, lesson 04's training takes at most about {1 / CPU_GUARANTEE:.0f}x the time",
        "  it takes alone, in the worst minute when everyone trains at once.",
        "",
        "## Nodes",
        "",
        f"A node keeps about {NODE_RESERVE_GB} GB for Kubernetes and the system. Learners per node =",
        f"min(floor((node GB - {NODE_RESERVE_GB}) / {f['guarantee_gb']}), floor(node cores / "
        f"{CPU_GUARANTEE})):",
        "",
        "| node | by memory | by CPU | learners per node |",
        "|---|---|---|---|",
    ]
    for cores, gb, by_mem, by_cpu, n in per_node:
        lines.append(f"| {cores} cores, {gb} GB | {by_mem} | {by_cpu} | **{n}** |")
    lines += [
        "",
        "| class | " + " | ".join(f"nodes of {c} cores, {g} GB" for c, g, *_ in per_node) + " |",
    ]
    lines.append("|---|" + "---|" * len(per_node))
    for size in CLASS_SIZES:
        cells = [f"{math.ceil(size / n)}" if n else "-" for *_, n in per_node]
        lines.append(f"| {size} learners | " + " | ".join(cells) + " |")
    lines += [
        "",
        "A class of N needs ceil(N / learners per node) nodes (plus one small node for the hub",
        "and the proxy). Idle servers are stopped after an hour (`cull`), so only learners who",
        "are working count.",
        "",
        "## MNIST on a shared read-only volume",
        "",
        "Put `mnist.npz` (11 MB; `load_mnist` checks its SHA-256) on one volume mounted read-only",
        "in every server (`mnist-readonly` above, e.g. a ReadOnlyMany PVC or an NFS share), and",
        "`MNIST_PATH` points the lessons at it: 200 learners do not each download it.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    f = figures(results)
    wanted = {VALUES: values_yaml(f, results), GUIDE: guide_md(f, results)}
    if args.check:
        stale = [p.name for p, text in wanted.items() if not p.exists() or p.read_text() != text]
        if stale:
            print(
                f"out of date with {args.results.name}: {', '.join(stale)}; run {Path(__file__).name}"
            )
            return 1
        return 0
    for path, text in wanted.items():
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
