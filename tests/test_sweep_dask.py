"""Sweeps on a Dask cluster: a scheduler and two workers on 127.0.0.1, one killed mid-sweep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from lessons_lib import runner

pytest.importorskip("distributed", reason="dask is in the test extra: pip install -e '.[test]'")

pytestmark = pytest.mark.notebooks


def _start(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: killed whole, like a lost machine
    )


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two single-threaded workers (no nanny, so a killed worker stays dead)."""
    info = tmp_path / "scheduler.json"
    procs = [
        _start(
            [
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(info),
            ],
            tmp_path / "scheduler.log",
        )
    ]
    deadline = time.time() + 60
    while not info.exists() or not info.read_text().strip():
        assert time.time() < deadline, (tmp_path / "scheduler.log").read_text()
        time.sleep(0.2)
    address = json.loads(info.read_text())["address"]
    for k in range(2):
        procs.append(
            _start(
                [
                    "distributed.cli.dask_worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                    "--name",
                    f"w{k}",
                ],
                tmp_path / f"worker{k}.log",
            )
        )
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=90)
    yield address, procs[1:]
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)


def _kernel_under(worker: subprocess.Popen) -> bool:
    try:
        return any(
            "ipykernel" in " ".join(c.cmdline())
            for c in psutil.Process(worker.pid).children(recursive=True)
        )
    except psutil.Error:
        return False


def test_a_sweep_survives_a_killed_worker(cluster, tmp_path):
    address, workers = cluster
    victim = workers[0]
    killed = threading.Event()

    def kill_when_busy():
        deadline = time.time() + 300
        while time.time() < deadline and victim.poll() is None:
            if _kernel_under(victim):  # a configuration is running on it right now
                os.killpg(victim.pid, signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    out = tmp_path / "sweep"
    lines: list[str] = []
    code = runner.sweep(
        "01",
        {"seed": "1,2,3"},
        fast=True,
        out=out,
        scheduler=address,
        echo=lambda *a, **k: lines.append(" ".join(map(str, a))),
    )
    killer.join()
    assert killed.is_set(), "the worker was never caught running a configuration"
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert code == 0, "\n".join(lines)
    rows = json.loads((out / "sweep.json").read_text())
    assert sorted(str(r["seed"]) for r in rows) == ["1", "2", "3"], "each result once, none lost"
    assert all(r["status"] == "ok" for r in rows)
    assert all(r["threads"]["where"] == f"the Dask cluster at {address}" for r in rows)
    executed = sorted(p.name for p in out.glob("01_*.ipynb"))
    assert len(executed) == 3 and len(set(executed)) == 3
    assert (out / "sweep.md").is_file() and (out / "sweep.png").is_file()


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys):
    from lessons_lib.__main__ import main

    code = main(
        [
            "sweep",
            "01",
            "--fast",
            "-p",
            "seed",
            "1",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--out",
            str(tmp_path / "s"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "could not reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert "Traceback" not in err
