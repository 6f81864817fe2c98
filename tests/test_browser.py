"""Lesson 06 in a real browser: JupyterLab on 127.0.0.1, headless Chromium driven by Playwright.

Runs all cells, moves the explorer's slider, filters to the mistakes, draws a stroke on
the pad, and checks that the shown prediction changes each time, with no error in the
kernel or the browser console. Screenshots go to build/browser/.

In CI (CI=true) this test fails when it cannot run; elsewhere it skips with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import IN_CI, ROOT

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SHOTS = ROOT / "build" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Console noise that is not ours: JupyterLab asking the closed network for news or extensions.
IGNORED_CONSOLE = (
    "Failed to load resource",
    "net::ERR_",
    "favicon",
    "extension manager",
    "The above error occurred",
    "pypi",
)

pytestmark = pytest.mark.browser


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"browser test cannot run in CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a copy of lesson 06 in a scratch folder (its own artifacts and progress)."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    root = tmp_path_factory.mktemp("lab")
    (root / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "06_visualizing_predictions.ipynb", root / "notebooks")
    port = _free_port()
    env = {
        **os.environ,
        "KERAS_HOME": str(root / "keras"),
        "LESSONS_PROGRESS": str(root / "p.json"),
        "JUPYTER_CONFIG_DIR": str(root / "jcfg"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / "ws"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    env.pop("MNIST_PATH", None)
    log = open(root / "lab.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--IdentityProvider.token=",
            "--allow-root",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=root,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                _unavailable(f"JupyterLab did not start: {(root / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
    yield url, root
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_lesson_06_in_a_real_browser(lab):
    from playwright.sync_api import expect, sync_playwright

    url, root = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    console_errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
        page.on("pageerror", lambda e: console_errors.append(f"page error: {e}"))
        page.goto(f"{url}/lab/tree/notebooks/06_visualizing_predictions.ipynb")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle'], "
            ".jp-DebuggerBugButton, .jp-KernelStatus",
            timeout=60_000,
        )
        time.sleep(2)  # let the kernel finish starting
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()

        explorer = page.locator(".prediction-explorer")
        explorer.wait_for(timeout=240_000)
        caption = explorer.locator(".explorer-caption")
        expect(caption).to_contain_text("test digit #0", timeout=30_000)
        page.locator(".drawing-pad").wait_for(timeout=120_000)
        # the last cell records the figures: wait for it so no cell is still running
        expect(page.locator(".jp-OutputArea-output", has_text="Recorded: lesson=06")).to_be_visible(
            timeout=120_000
        )
        explorer.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "06_explorer_start.png"))

        # move the slider: focus its handle and press the arrow key three times
        first_text = caption.inner_text()
        handle = explorer.locator(".noUi-handle").first
        handle.click()
        for _ in range(3):
            handle.press("ArrowRight")
        expect(caption).not_to_have_text(first_text, timeout=10_000)
        expect(caption).to_contain_text("test digit #3")
        page.screenshot(path=str(SHOTS / "06_explorer_moved.png"))

        # filter to the mistakes: the count changes and the digit shown is a mistake
        count = explorer.locator(".widget-html").first
        all_count = count.inner_text()
        explorer.locator("select").first.select_option(label="misclassified only")
        expect(count).to_contain_text("misclassified only", timeout=10_000)
        assert count.inner_text() != all_count
        expect(caption).to_contain_text("wrong")
        page.screenshot(path=str(SHOTS / "06_explorer_mistakes.png"))

        # draw a stroke on the pad: a vertical line, as for a 1
        pad = page.locator(".drawing-pad")
        pad.scroll_into_view_if_needed()
        canvas = pad.locator("canvas").last
        box = canvas.bounding_box()
        assert box and box["width"] > 100
        x = box["x"] + box["width"] * 0.5
        page.mouse.move(x, box["y"] + box["height"] * 0.15)
        page.mouse.down()
        for k in range(1, 21):
            page.mouse.move(x + k * 0.6, box["y"] + box["height"] * (0.15 + 0.035 * k))
        page.mouse.up()
        prediction = pad.locator(".pad-prediction")
        expect(prediction).to_contain_text("The network reads", timeout=30_000)
        page.screenshot(path=str(SHOTS / "06_drawing_pad.png"))

        tracebacks = page.locator(".jp-OutputArea-output", has_text="Traceback").count()
        browser.close()

    assert tracebacks == 0, "a cell raised an error in the kernel"
    ours = [e for e in console_errors if not any(s in e for s in IGNORED_CONSOLE)]
    assert not ours, f"errors in the browser console: {ours}"
