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
