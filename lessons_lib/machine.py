"""What a time was measured on: the CPU, its cores, its vector instructions and TensorFlow's threads.

A time in seconds means little without the machine: the same lesson takes three to five
times longer on an older CPU without AVX-512 than on a newer one (issue #19). Every
benchmark and every lesson's recorded metrics carry ``describe()`` beside their times.
"""

from __future__ import annotations

import math
import os
import platform
from pathlib import Path

_CPUINFO = Path("/proc/cpuinfo")


def _cpuinfo() -> tuple[str, set[str]]:
    """(model name, flags) from /proc/cpuinfo; ("", set()) where there is none (macOS, Windows)."""
    model, flags = "", set()
    try:
        text = _CPUINFO.read_text(errors="replace")
    except OSError:
        return model, flags
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    return model, flags


_PROC_CGROUP = Path("/proc/self/cgroup")
_CGROUP_ROOT = Path("/sys/fs/cgroup")
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


def affinity_cores() -> int:
    """Cores this process may be scheduled on (``taskset -c 0`` makes it 1), else all of them."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpu_quota(proc_cgroup: Path = _PROC_CGROUP, root: Path = _CGROUP_ROOT) -> float | None:
    """How many CPUs' worth of time this process's cgroup allows (CFS quota / period), or None
    when nothing limits it (or this is not Linux).

    Docker's ``--cpus`` and a Kubernetes CPU limit (Binder, JupyterHub on Kubernetes) set this
    quota. It throttles time but leaves every core of the host visible, so TensorFlow, which
    sizes its thread pools from the visible cores, starts a thread per host core and the quota
    stalls them all (tensorflow/tensorflow#17206; moby/moby#38839 measured 4 times slower
    than a cpuset of the same size). Reads cgroup v2 ``cpu.max`` and v1
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``, from the process's cgroup up to the root:
    the tightest limit counts."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        controllers, path = parts[1], parts[2].strip()
        if controllers == "":
            bases, read = (root, root / "unified"), _v2_quota
        elif "cpu" in controllers.split(","):
            bases, read = (root / controllers, root / "cpu", root / "cpu,cpuacct"), _v1_quota
        else:
            continue
        for base in dict.fromkeys(bases):
            folder = base / path.lstrip("/")
            while True:
                limit = read(folder)
                if limit:
                    limits.append(limit)
                if folder == base or base not in folder.parents:
                    break
                folder = folder.parent
    return min(limits) if limits else None


def v1_cgroup(controller: str, proc_cgroup: Path = _PROC_CGROUP, root: Path = _CGROUP_ROOT):
    """This process's own folder in the cgroup-v1 hierarchy of ``controller`` (``"cpu"``,
    ``"memory"``), where root can make a child cgroup with a limit; None when there is none
    (cgroup v2 only, not Linux). The benchmarks and the attack tests put lessons in one."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3 and controller in parts[1].split(","):
            for mount in dict.fromkeys((parts[1], controller)):
                if (root / mount).is_dir():
                    return root / mount / parts[2].strip().lstrip("/")
    return None


def _v2_quota(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]
        return int(quota) / int(period) if quota != "max" and int(period) > 0 else None
    except (OSError, ValueError):
        return None


def _v1_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def usable_cores() -> int:
    """Cores' worth of CPU this process may use: the cores it may run on, fewer when a CPU
    quota allows less (a quota of 1.5 CPUs counts as 2)."""
    cores = affinity_cores()
    quota = cpu_quota()
    return min(cores, max(1, math.ceil(quota - 1e-9))) if quota else cores


def cap_threads(environ=None) -> int | None:
    """Size TensorFlow's and OpenMP's thread pools to a CPU quota, before TensorFlow is imported.

    When a quota allows fewer cores than the process can see, and none of
    ``THREAD_VARIABLES`` is set, sets all three to the quota's cores. Returns that count, or
    None when it changed nothing (no quota, a quota as large as the cores, a thread count
    someone chose). The kernel hook (``session.install``) calls it at kernel start."""
    environ = os.environ if environ is None else environ
    if any(environ.get(name) for name in THREAD_VARIABLES):
        return None
    threads = usable_cores()
    if threads >= affinity_cores():
        return None
    for name in THREAD_VARIABLES:
        environ[name] = str(threads)
    return threads


def describe() -> dict:
    """The CPU and threading settings, as plain JSON values.

    ``cpu`` is the model name, ``cores`` the machine's count and ``usable_cores`` this
    process's share of them; ``avx512`` and ``avx2`` say which vector units the CPU has;
    ``isa_cap`` is ``ONEDNN_MAX_CPU_ISA`` when set (oneDNN then uses no more than that,
    e.g. ``AVX2`` on an AVX-512 machine); ``tf_threads`` is TF_NUM_INTRAOP_THREADS (None
    when unset: TensorFlow then uses every core). ``summary`` says it all in one line.
    """
    model, flags = _cpuinfo()
    model = model or platform.processor() or platform.machine() or "unknown CPU"
    info = {
        "cpu": model,
        "cores": os.cpu_count() or 1,
        "usable_cores": usable_cores(),
        "avx512": "avx512f" in flags,
        "avx2": "avx2" in flags,
        "isa_cap": os.environ.get("ONEDNN_MAX_CPU_ISA") or None,
        "tf_threads": _int_or_none(os.environ.get("TF_NUM_INTRAOP_THREADS")),
        "cpu_quota": cpu_quota(),
    }
    info["summary"] = summary(info)
    return info


def summary(info: dict) -> str:
    """One line, e.g. 'AMD EPYC, 2 cores (1 used, 1 TF thread), AVX-512 (capped at AVX2)'."""
    isa = "AVX-512" if info["avx512"] else "AVX2, no AVX-512" if info["avx2"] else "no AVX2"
    if info.get("isa_cap"):
        isa += f" (oneDNN capped at {info['isa_cap']})"
    used = []
    if info["usable_cores"] != info["cores"]:
        used.append(f"{info['usable_cores']} used")
    if info.get("cpu_quota"):
        used.append(f"CPU quota {info['cpu_quota']:g}")
    if info.get("tf_threads"):
        used.append(f"{info['tf_threads']} TF thread{'s' if info['tf_threads'] != 1 else ''}")
    cores = f"{info['cores']} cores" + (f" ({', '.join(used)})" if used else "")
    return f"{info['cpu']}, {cores}, {isa}"


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None
