"""Messages per stroke and mouse-up-to-reading time of the drawing pad, before and after.

python benchmarks/bench_pad.py [--strokes 8] [--moves 40] [--out benchmarks/results/pad-messages.json]

"before" is the pad as it was built on ipycanvas (every mouse event goes to the kernel,
which sends a drawing command back, after which the canvas sends its pixels to the
kernel again); "after" is lessons_lib's pad, drawn in the browser (anywidget), which
sends one PNG of the page per finished stroke. Both run in one JupyterLab, in one
headless Chromium, in one kernel, with the same reading code (``DrawingPad.try_predict``)
and the same stand-in network (a fixed random linear layer and softmax: it takes
microseconds, so the time measured is the transport and the reading, not a model).

Each stroke is ``--moves`` mouse moves down the canvas (a "1"). Counted per stroke, from
mouse-down until the reading is on screen: WebSocket frames the browser sent to the
kernel and received from it (each frame is one Jupyter message), and their bytes.
Timed: from ``mouse.up()`` to the moment the reading's text changes on the page.
The "before" variant needs ipycanvas (``pip install ipycanvas``), no longer a dependency.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

SETUP = """\
import itertools
import numpy as np
from lessons_lib.pad import DrawingPad

_weights = np.random.default_rng(0).normal(0, 0.05, (784, 10))
_calls = itertools.count(1)

def predict(digits):
    # a stand-in network that takes microseconds; the call count moves the top probability
    # a little so that every reading changes the text on the page
    logits = digits.reshape(len(digits), -1) / 255.0 @ _weights
    logits[:, 1] += 3 + (next(_calls) % 20) * 0.1
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
"""

BEFORE = """\
import ipywidgets as w
from ipycanvas import Canvas


class CanvasPad:
    # the pad's drawing as it was on ipycanvas (lessons_lib before the anywidget pad)
    def __init__(self, reader):
        self.reader = reader
        self.canvas = Canvas(width=280, height=280, sync_image_data=True,
                             layout=w.Layout(width="280px", height="280px"))
        self.canvas.line_width, self.canvas.line_cap, self.canvas.line_join = 18, "round", "round"
        self.canvas.stroke_style = "black"
        self.canvas.fill_style = "white"
        self.canvas.fill_rect(0, 0, 280, 280)
        self._drawing, self._prev = False, None
        self.canvas.on_mouse_down(self._down)
        self.canvas.on_mouse_move(self._move)
        self.canvas.on_mouse_up(self._up)
        self.canvas.on_mouse_out(self._up)
        self.canvas.observe(self._on_image_data, names="image_data")
        self.widget = w.VBox([self.canvas, reader.message])
        self.widget.add_class("pad-before")

    def _down(self, x, y):
        self._drawing, self._prev = True, (x, y)
        self.canvas.fill_style = "black"
        self.canvas.fill_circle(x, y, 9)

    def _move(self, x, y):
        if self._drawing and self._prev is not None:
            self.canvas.stroke_line(self._prev[0], self._prev[1], x, y)
            self._prev = (x, y)

    def _up(self, x, y):
        was, self._drawing, self._prev = self._drawing, False, None
        if was:
            self._on_image_data(None)

    def _on_image_data(self, _change):
        if self._drawing:
            return
        data = self.canvas.get_image_data()
        if data is None or not (np.asarray(data)[..., :3].min(axis=2) < 200).any():
            return
        self.reader.try_predict(np.asarray(data))


before = CanvasPad(DrawingPad(predict))
before.widget
"""

AFTER = """\
after = DrawingPad(predict)
after.widget.add_class("pad-after")
after
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _has_ipycanvas() -> bool:
    try:
        import ipycanvas  # noqa: F401
    except ImportError:
        return False
    return True


def measure(page, frames: list, container: str, strokes: int, moves: int) -> dict:
    """Draw ``strokes`` strokes on the canvas in ``container``; per stroke: frames, bytes, ms."""
    pad = page.locator(container)
    pad.scroll_into_view_if_needed()
    canvas = pad.locator("canvas").last
    message = pad.locator(".widget-html-content").last
    box = canvas.bounding_box()
    x = box["x"] + box["width"] * 0.5
    rows = []
    for k in range(strokes + 1):  # the first stroke warms up the kernel's imports
        before_text = message.inner_text()
        first = len(frames)
        page.mouse.move(x, box["y"] + box["height"] * 0.15)
        page.mouse.down()
        for i in range(1, moves + 1):
            y = box["y"] + box["height"] * (0.15 + 0.7 * i / moves)
            page.mouse.move(x + i * 0.3, y)
        start = time.perf_counter()
        page.mouse.up()
        try:
            page.wait_for_function(
                "([sel, prev]) => { const m = [...document.querySelectorAll(sel)].pop();"
                " return m && m.textContent !== prev && m.textContent.includes('reads'); }",
                arg=[f"{container} .widget-html-content", before_text],
                polling="raf",
                timeout=60_000,
            )
        except Exception:
            page.screenshot(path=str(ROOT / "build" / "bench_pad_failure.png"))
            raise
        ms = (time.perf_counter() - start) * 1000
        time.sleep(1.5)  # let the stroke's late messages (pixel syncs) arrive before counting
        mine = frames[first:]
        if k == 0:
            continue
        rows.append(
            {
                "ms": ms,
                "sent": sum(1 for d, _ in mine if d == "sent"),
                "received": sum(1 for d, _ in mine if d == "received"),
                "bytes_sent": sum(n for d, n in mine if d == "sent"),
                "bytes_received": sum(n for d, n in mine if d == "received"),
            }
        )
        page.wait_for_timeout(300)
    return {
        "strokes": len(rows),
        "moves_per_stroke": moves,
        "messages_sent_per_stroke": statistics.median(r["sent"] for r in rows),
        "messages_received_per_stroke": statistics.median(r["received"] for r in rows),
        "kb_sent_per_stroke": round(statistics.median(r["bytes_sent"] for r in rows) / 1024, 1),
        "kb_received_per_stroke": round(
            statistics.median(r["bytes_received"] for r in rows) / 1024, 1
        ),
        "mouse_up_to_reading_ms_median": round(statistics.median(r["ms"] for r in rows), 1),
        "mouse_up_to_reading_ms_max": round(max(r["ms"] for r in rows), 1),
    }


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strokes", type=int, default=8)
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/pad-messages.json")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    variants = ["after"] + (["before"] if _has_ipycanvas() else [])
    if "before" not in variants:
        print("ipycanvas is not installed: only 'after' is measured (pip install ipycanvas)")
    with tempfile.TemporaryDirectory() as tmp:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nb.cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(AFTER)]
        if "before" in variants:
            nb.cells.append(nbformat.v4.new_code_cell(BEFORE))
        nbformat.write(nb, Path(tmp) / "pad.ipynb")
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "JUPYTER_CONFIG_DIR": f"{tmp}/cfg"}
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
             f"--port={port}", "--ip=127.0.0.1", "--IdentityProvider.token=",
             "--ServerApp.password=", f"--ServerApp.root_dir={tmp}", "--LabApp.news_url=None"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(240):
                try:
                    urllib.request.urlopen(f"{url}/api/status", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                )
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                frames: list[tuple[str, int]] = []

                def watch(ws):
                    ws.on("framesent", lambda f: frames.append(("sent", len(f))))
                    ws.on("framereceived", lambda f: frames.append(("received", len(f))))

                page.on("websocket", watch)
                page.goto(f"{url}/lab/tree/pad.ipynb")
                page.wait_for_selector(".jp-Cell", state="attached", timeout=60_000)
                time.sleep(3)
                page.get_by_role("menuitem", name="Run", exact=True).click()
                page.get_by_text("Run All Cells", exact=True).click()
                results = {}
                for variant in variants:
                    print(f"measuring {variant}...", flush=True)
                    page.locator(f".pad-{variant} canvas").last.wait_for(timeout=120_000)
                    time.sleep(2)
                    results[variant] = measure(
                        page, frames, f".pad-{variant}", args.strokes, args.moves
                    )
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    report = {
        "what": "drawing pad: Jupyter messages and time per stroke, headless Chromium, one kernel",
        "cpu": _cpu(),
        "cores": os.cpu_count(),
        "note": "the machine was shared with other work: times are indicative; counts are exact",
        **results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    keys = [k for k in results[variants[0]] if k not in ("strokes",)]
    print(f"{'':32}" + "".join(f"{v:>12}" for v in reversed(variants)))
    for k in keys:
        print(f"{k:32}" + "".join(f"{results[v][k]:>12}" for v in reversed(variants)))
    return report


if __name__ == "__main__":
    main()
