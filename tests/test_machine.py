"""The CPU description every time figure carries (lessons_lib.machine) and record()'s use of it."""

from __future__ import annotations

import json
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from lessons_lib import machine, metrics

SLOW_KIND = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) CPU E5-2673 v4 @ 2.30GHz
flags\t\t: fpu vme sse sse2 avx fma avx2 bmi2
processor\t: 1
model name\t: Intel(R) Xeon(R) CPU E5-2673 v4 @ 2.30GHz
flags\t\t: fpu vme sse sse2 avx fma avx2 bmi2
"""


def _fake_cpuinfo(monkeypatch, tmp_path, text):
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    monkeypatch.setattr(machine, "_CPUINFO", path)


def test_this_machine_is_described_as_its_cpuinfo_says():
    info = machine.describe()
    flags = set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    assert info["avx512"] == ("avx512f" in flags)
    assert info["cpu"] and info["cpu"] in info["summary"]
    assert 1 <= info["usable_cores"] <= info["cores"] == os.cpu_count()
    assert ("AVX-512" in info["summary"]) == info["avx512"]
    json.dumps(info)


def test_an_avx2_machine_says_no_avx512_and_a_cap_is_named(monkeypatch, tmp_path):
    _fake_cpuinfo(monkeypatch, tmp_path, SLOW_KIND)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    info = machine.describe()
    assert info["cpu"] == "Intel(R) Xeon(R) CPU E5-2673 v4 @ 2.30GHz"
    assert (info["avx512"], info["avx2"], info["isa_cap"], info["tf_threads"]) == (
        False,
        True,
        "AVX2",
        1,
    )
    assert "AVX2, no AVX-512" in info["summary"] and "capped at AVX2" in info["summary"]
    assert "1 TF thread" in info["summary"]


def test_no_cpuinfo_still_describes_something(monkeypatch, tmp_path):
    monkeypatch.setattr(machine, "_CPUINFO", tmp_path / "absent")
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "many")  # not a number: treated as unset
    info = machine.describe()
    assert info["cpu"] and not info["avx512"] and info["tf_threads"] is None
    assert info["isa_cap"] is None and "capped" not in info["summary"]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400))
def test_any_cpuinfo_text_gives_a_json_description(text):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cpuinfo"
        path.write_text(text, errors="surrogateescape")
        old = machine._CPUINFO
        machine._CPUINFO = path
        try:
            info = machine.describe()
        finally:
            machine._CPUINFO = old
    assert isinstance(info["summary"], str) and info["summary"]
    assert info["avx512"] == ("avx512f" in _first_flags(text))
    json.dumps(info)


def _first_flags(text: str) -> set[str]:
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def test_record_carries_the_machine_and_the_cpu_time(capsys):
    payload = metrics.record(lesson="xx", seconds=1.5)
    assert payload["machine"] == machine.describe()
    assert 0 < payload["kernel_cpu_seconds"]
    out = capsys.readouterr().out
    assert "Recorded: lesson=xx" in out and machine.describe()["summary"] in out


def test_record_is_shown_once_not_echoed_again_as_the_cells_value():
    """A lesson's last cell is `record(...)`: Jupyter shows its "Recorded: ..." line, and must
    not print the returned dict (machine and all) a second time under it."""
    from IPython.core.formatters import DisplayFormatter

    payload = metrics.record(lesson="xx")
    assert DisplayFormatter().format(payload) == ({}, {})
    assert DisplayFormatter().format(dict(payload))[0], "a plain dict would be echoed"
    assert json.loads(json.dumps(payload)) == dict(payload)


def test_the_recorded_line_rounds_floats_and_shortens_long_lists_but_keeps_them_whole(capsys):
    """A newcomer saw two lists of 18 unrounded floats under lesson 04's last cell."""
    curve = [1.7481898069381714 / (i + 1) for i in range(18)]
    payload = metrics.record(lesson="xx", val_accuracy=0.986498, loss_curve=curve, epochs=18)
    out = capsys.readouterr().out
    line = out[out.index("Recorded: ") :].split("'")[0]  # the text/plain a notebook shows
    assert "val_accuracy=0.9865" in line and "epochs=18" in line
    assert "loss_curve=[1.748, 0.8741, 0.5827, ... 0.09712] (18 values)" in line
    assert "1.7481898069381714" not in line
    assert payload["loss_curve"] == curve, "the recorded figures stay whole"


# --------------------------------------------------------------------------- CPU quotas


def _tree(tmp_path, proc: str, files: dict[str, str]):
    """A fake /proc/self/cgroup holding ``proc`` and a fake /sys/fs/cgroup holding ``files``."""
    (tmp_path / "proc").write_text(proc)
    root = tmp_path / "sys"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return tmp_path / "proc", root


def test_a_v2_quota_is_read_and_the_tightest_on_the_way_up_counts(tmp_path):
    proc, root = _tree(tmp_path, "0::/kubepods/pod1/box\n", {
        "kubepods/pod1/box/cpu.max": "max 100000\n",  # the container itself: unlimited
        "kubepods/pod1/cpu.max": "150000 100000\n",  # the pod: 1.5 CPUs
        "kubepods/cpu.max": "400000 100000\n",
    })  # fmt: skip
    assert machine.cpu_quota(proc, root) == 1.5


def test_a_v1_quota_is_read_from_the_cpu_controller(tmp_path):
    proc, root = _tree(tmp_path, "5:memory:/x\n4:cpu,cpuacct:/docker/abc\n", {
        "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "50000\n",
        "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
        "cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
        "cpu,cpuacct/cpu.cfs_period_us": "100000\n",
    })  # fmt: skip
    assert machine.cpu_quota(proc, root) == 0.5


def test_the_own_v1_folder_is_found_under_its_controller(tmp_path):
    proc, root = _tree(tmp_path, "0::/\n5:memory:/pod/x\n4:cpu,cpuacct:/pod/x\n", {
        "memory/pod/x/memory.limit_in_bytes": "1\n",
        "cpu,cpuacct/pod/x/cpu.cfs_quota_us": "-1\n",
    })  # fmt: skip
    assert machine.v1_cgroup("memory", proc, root) == root / "memory" / "pod" / "x"
    assert machine.v1_cgroup("cpu", proc, root) == root / "cpu,cpuacct" / "pod" / "x"
    assert machine.v1_cgroup("pids", proc, root) is None
    assert machine.v1_cgroup("cpu", tmp_path / "no-such-file", root) is None


def test_no_quota_no_cgroups_and_no_linux_give_none(tmp_path):
    proc, root = _tree(tmp_path, "0::/\n1:cpu:/\n", {
        "unified/cpu.max": "max 100000\n",
        "cpu/cpu.cfs_quota_us": "-1\n",
        "cpu/cpu.cfs_period_us": "100000\n",
    })  # fmt: skip
    assert machine.cpu_quota(proc, root) is None
    assert machine.cpu_quota(tmp_path / "no-such-file", root) is None


@settings(max_examples=60, deadline=None)
@given(
    proc=st.text(max_size=60),
    cpu_max=st.text(max_size=30),
    quota=st.text(max_size=12),
    period=st.text(max_size=12),
)
def test_whatever_the_cgroup_files_hold_the_quota_is_none_or_positive(proc, cpu_max, quota, period):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        proc_file, root = _tree(Path(folder), f"0::/a\n4:cpu:/a\n{proc}", {
            "a/cpu.max": cpu_max,
            "cpu/a/cpu.cfs_quota_us": quota,
            "cpu/a/cpu.cfs_period_us": period,
        })  # fmt: skip
        got = machine.cpu_quota(proc_file, root)
    assert got is None or (isinstance(got, float) and got > 0)


def _quota(monkeypatch, quota, cores):
    monkeypatch.setattr(machine, "cpu_quota", lambda *a: quota)
    monkeypatch.setattr(machine, "affinity_cores", lambda: cores)


def test_under_a_quota_tensorflow_gets_as_many_threads_as_the_quota_has_cores(monkeypatch):
    _quota(monkeypatch, 1.5, 16)
    env = {}
    assert machine.usable_cores() == 2
    assert machine.cap_threads(env) == 2
    assert env == {name: "2" for name in machine.THREAD_VARIABLES}
    assert "CPU quota 1.5" in machine.summary({**machine.describe(), "cpu_quota": 1.5})


def test_a_thread_count_someone_chose_and_a_roomy_quota_are_left_alone(monkeypatch):
    _quota(monkeypatch, 0.5, 16)
    env = {"TF_NUM_INTRAOP_THREADS": "4"}
    assert machine.cap_threads(env) is None and env == {"TF_NUM_INTRAOP_THREADS": "4"}
    _quota(monkeypatch, 4.0, 4)  # as many cores as the quota: nothing to cap
    assert machine.cap_threads({}) is None
    _quota(monkeypatch, None, 16)
    env = {}
    assert machine.cap_threads(env) is None and env == {}


def test_a_kernel_in_a_real_one_cpu_cgroup_sizes_tensorflow_to_it():
    """Binder's limit, for real: a cgroup-v1 CPU quota of one CPU on this machine of two or
    more cores. A kernel started in it (IPython with the lesson hook) sets one thread for
    TensorFlow, OpenMP and oneDNN before TensorFlow is imported (TensorFlow reads them when it
    starts). Fails where no cgroup can be made: CI runs as root, as the memory attack in
    test_attack_saves does."""
    import subprocess
    import sys

    assert machine.affinity_cores() >= 2, "needs a machine of two cores or more"
    own = machine.v1_cgroup("cpu")
    assert own is not None, "no cgroup-v1 cpu hierarchy on this machine"
    group = own / f"lessons-quota-{os.getpid()}"
    group.mkdir()
    try:
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text("100000")
        code = (
            "import os, json, sys\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "from lessons_lib import session, machine\n"
            "session.install(InteractiveShell.instance())\n"
            "env = {k: os.environ.get(k) for k in machine.THREAD_VARIABLES}\n"
            "print(json.dumps({'env': env, 'quota': machine.cpu_quota(), 'tf': 'tensorflow' in\n"
            "                  sys.modules, 'usable': machine.usable_cores()}))\n"
        )
        env = {k: v for k, v in os.environ.items() if k not in machine.THREAD_VARIABLES}
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"

        def enter():
            (group / "cgroup.procs").write_text(str(os.getpid()))

        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env,
            preexec_fn=enter, timeout=300,
        )  # fmt: skip
    finally:
        group.rmdir()
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["quota"] == 1.0 and got["usable"] == 1 and not got["tf"]
    assert got["env"] == {name: "1" for name in machine.THREAD_VARIABLES}
