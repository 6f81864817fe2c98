"""Attack: the progress file written by many kernels at once, killed mid-write, and damaged.

Progress is never lost and never breaks a check: every pass a writer reported is in the
file, an unreadable file is kept aside byte for byte (with the passes still legible in
it carried over), and the learner is told once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from lessons_lib import progress

WRITER = textwrap.dedent(
    """
    import sys
    from lessons_lib import progress
    tag, count = sys.argv[1], int(sys.argv[2])
    for i in range(count):
        key = f"{tag}.ex{i}"
        progress.record(key, True)
        print(key, flush=True)
    """
)


def _writer(path, tag: str, count: int) -> subprocess.Popen:
    env = {**os.environ, "LESSONS_PROGRESS": str(path), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, tag, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def test_six_kernels_recording_at_once_keep_all_600_passes(tmp_path):
    path = tmp_path / "progress.json"
    procs = [_writer(path, f"{n:02d}", 100) for n in range(6)]
    reported = set()
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        reported |= set(out.split())
    kept = json.loads(path.read_text())
    assert len(reported) == 600 and set(kept) == reported and all(kept.values())
    assert not list(tmp_path.glob(".progress.json.*.tmp")), "no temporary file is left"


def test_twenty_kill_9_while_recording_lose_no_reported_pass(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LESSONS_PROGRESS", str(path))
    rng = random.Random(7)
    reported: set[str] = set()
    mid_write = 0
    for kill in range(20):
        proc = _writer(path, f"{kill:02d}", 10_000)
        first = proc.stdout.readline().strip()  # it is recording now
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        reported |= {first, *out.split()}
        mid_write += any(tmp_path.glob(".progress.json.*.tmp"))
        kept = progress.load_progress()  # whole JSON every time: the rename is atomic
        missing = reported - set(kept)
        assert not missing, f"after kill {kill + 1}: lost {sorted(missing)[:5]}"
    assert not list(tmp_path.glob("progress.json.unreadable-*")), "no kill left a torn file"
    print(f"20 kills ({mid_write} mid-write), {len(reported)} passes reported, all kept")
    assert mid_write >= 3, "too few kills landed mid-write to prove anything"
    progress.record("00.pixels", True)
    assert not list(tmp_path.glob(".progress.json.*.tmp")), "the next record cleans up"


# --------------------------------------------------------------------------- damaged files

GOOD = json.dumps({"00.pixels": True, "02.flatten": True, "03.model": False}, indent=1)


def _aside(folder):
    return sorted(folder.glob("progress.json.unreadable-*"))


def _record_quietly(*args):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        progress.record(*args)
    return [str(w.message) for w in seen if issubclass(w.category, progress.ProgressWarning)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    blob=st.one_of(
        st.binary(max_size=300),
        st.integers(0, len(GOOD)).map(lambda n: GOOD.encode()[:n]),  # cut short anywhere
        st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), max_size=4).map(
            lambda edits: bytes(
                b if i not in dict(edits) else dict(edits)[i] for i, b in enumerate(GOOD.encode())
            )
        ),
    )
)
def test_fuzz_any_bytes_in_the_progress_file_never_break_a_check(tmp_path_factory, blob):
    folder = tmp_path_factory.mktemp("p")
    path = folder / "progress.json"
    path.write_bytes(blob)
    os.environ["LESSONS_PROGRESS"] = str(path)
    try:
        before = progress.load_progress()
        _record_quietly("08.sgd_step", True)
        after = progress.load_progress()
    finally:
        os.environ.pop("LESSONS_PROGRESS")
    assert after["08.sgd_step"] is True
    aside = _aside(folder)
    if aside:  # the file was unreadable: kept byte for byte, passes still legible carried over
        assert len(aside) == 1 and aside[0].read_bytes() == blob
        legible = {k.decode(): v == b"true" for k, v in progress._ENTRY.findall(blob)}
        assert all(after.get(k) for k, v in legible.items() if v)
    else:  # it was readable: every pass in it is still there
        assert all(after.get(k) for k, v in before.items() if v)


def test_a_truncated_file_keeps_its_passes_and_is_kept_aside(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LESSONS_PROGRESS", str(path))
    path.write_text(GOOD[: GOOD.index("03.model")])  # cut mid-file, as a full disk would
    told = _record_quietly("05.accuracy", True)
    assert progress.load_progress() == {"00.pixels": True, "02.flatten": True, "05.accuracy": True}
    assert len(told) == 1 and "could not be read (it is cut short or damaged)" in told[0]
    assert "2 passes found in it are kept" in told[0] and len(_aside(tmp_path)) == 1


def test_a_folder_in_its_place_is_moved_aside_not_deleted(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LESSONS_PROGRESS", str(path))
    (path / "inside").mkdir(parents=True)
    (path / "inside" / "keep.txt").write_text("mine")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert progress.load_progress() == {}
    assert "a folder has its name" in str(seen[0].message)
    (aside,) = _aside(tmp_path)
    assert (aside / "inside" / "keep.txt").read_text() == "mine"
    assert not _record_quietly("00.pixels", True) and progress.load_progress() == {
        "00.pixels": True
    }


def test_a_file_it_may_not_read_is_left_alone_and_the_learner_told_once(tmp_path, monkeypatch):
    """As root, chmod does not stop a read, so the refusal is injected where the file is opened."""
    path = tmp_path / "progress.json"
    path.write_text(GOOD)
    monkeypatch.setenv("LESSONS_PROGRESS", str(path))
    real_open = open

    def denied(file, *args, **kwargs):
        if os.fspath(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(progress, "open", denied, raising=False)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")  # Python's own rule: one warning per message and place
        for _ in range(5):
            progress.record("00.classes", True)
            assert progress.load_progress() == {}
    told = [w for w in seen if issubclass(w.category, progress.ProgressWarning)]
    assert len({str(w.message) for w in told}) == len(told) == 2  # record's and load's, once each
    assert "you may not read it" in str(told[0].message)
    assert path.read_text() == GOOD and not _aside(tmp_path), "left exactly as it was"


def test_a_folder_it_cannot_write_never_breaks_a_check(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LESSONS_PROGRESS", str(path))

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(progress.os, "open", read_only)
    told = _record_quietly("00.pixels", True)
    assert len(told) == 1 and "the folder is on a read-only disk" in told[0]
    assert not path.exists()


@pytest.mark.parametrize("value", ["[1, 2]", '"text"', "3", "null"])
def test_json_that_is_not_a_table_of_passes_is_kept_aside(tmp_path, monkeypatch, value):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LESSONS_PROGRESS", str(path))
    path.write_text(value)
    _record_quietly("00.pixels", True)
    assert progress.load_progress() == {"00.pixels": True}
    assert _aside(tmp_path)[0].read_text() == value
