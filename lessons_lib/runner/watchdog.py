"""What watches a running notebook: its kernel's peak memory, its C++ logs, its time limit."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path


class _MemorySampler:
    """Peak resident memory of this process's children (the kernel), sampled every 0.2 s."""

    def __init__(self):
        import psutil

        self._me = psutil.Process()
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        while not self._stop.is_set():
            total = 0
            for child in self._me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop.wait(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def _kernel_stderr_to(path: Path):
    """Point file descriptor 2 at ``path`` while a kernel starts, so its C++ logs land there."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "w") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


class _Watchdog:
    """Ends the kernel (the child processes started since entering) when a notebook runs
    past ``limit`` seconds."""

    def __init__(self, limit: float | None):
        self.limit = limit
        self.fired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        if self._stop.wait(self.limit):
            return
        self.fired = True
        for child in psutil.Process().children(recursive=True):
            if child.pid not in self._before:  # only what this notebook started: its kernel
                with contextlib.suppress(psutil.Error):
                    child.kill()

    def __enter__(self):
        import psutil

        self._before = {c.pid for c in psutil.Process().children(recursive=True)}
        if self.limit:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
