"""What a time was measured on: the CPU, its cores, its vector instructions and TensorFlow's threads.

A time in seconds means little without the machine: the same lesson takes three to five
times longer on an older CPU without AVX-512 than on a newer one (issue #19). Every
benchmark and every lesson's recorded metrics carry ``describe()`` beside their times.
"""

from __future__ import annotations

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


def usable_cores() -> int:
    """Cores this process may run on (``taskset -c 0`` makes it 1), else all of them."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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
    if info.get("tf_threads"):
        used.append(f"{info['tf_threads']} TF thread{'s' if info['tf_threads'] != 1 else ''}")
    cores = f"{info['cores']} cores" + (f" ({', '.join(used)})" if used else "")
    return f"{info['cpu']}, {cores}, {isa}"


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None
