"""Lesson 06 in a real browser: JupyterLab on 127.0.0.1, headless Chromium driven by Playwright.

Runs all cells, moves the explorer's slider, filters to the mistakes, draws a stroke on
the pad, and checks that the shown prediction changes each time, with no error in the
kernel or the browser console; the pad is drawn on in Jupyter Notebook 7 too, and a
kernel restart must leave words on the page. Screenshots go to build/browser/.

In CI (CI=true) this test fails when it cannot run; elsewhere it skips with the reason.
"""

from __future__ import annotations

import json
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
PARTIAL = ROOT.parent / "shared" / "data" / "mnist-partial.npz"
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

# Notebook 7's own start-up, with JupyterLab's extensions installed beside it (seen with
# notebook 7.6.5: a Lab-only settings schema and the Lab file browser's command).
NOTEBOOK7_CONSOLE = (
    "reading 'schema'",
    "Command 'filebrowser:open-path' not registered",
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
    for name in (
        "00_start_here",
        "02_flatten_and_normalize",
        "06_visualizing_predictions",
        "08_what_fit_does",
    ):
        shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", root / "notebooks")
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
    if PARTIAL.exists():  # the full 10,000-digit test set, for a realistic slider timing
        env["MNIST_PATH"] = str(PARTIAL)
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
    frames: list[tuple[str, int]] = []
    with sync_playwright() as p:
        browser, page = _open(p, url, "06_visualizing_predictions", console_errors, frames=frames)
        _run_until_recorded(page, "06")
        explorer = page.locator(".prediction-explorer")
        caption = explorer.locator(".explorer-caption")
        expect(caption).to_contain_text("test digit #0", timeout=30_000)
        page.locator(".drawing-pad").wait_for(timeout=30_000)
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

        # how long from a key press to the new digit on screen, as the learner sees it
        timings = []
        for _ in range(10):
            before = caption.inner_text()
            start = time.perf_counter()
            handle.press("ArrowRight")
            page.wait_for_function(
                "prev => document.querySelector('.prediction-explorer .explorer-caption')"
                ".textContent !== prev",
                arg=before,
                polling="raf",
                timeout=10_000,
            )
            timings.append((time.perf_counter() - start) * 1000)
        n_digits = int(explorer.locator(".widget-html b").first.inner_text().replace(",", ""))
        (SHOTS / "slider_timing.json").write_text(
            json.dumps(
                {
                    "test_digits": n_digits,
                    "median_ms": sorted(timings)[5],
                    "max_ms": max(timings),
                    "moves": len(timings),
                },
                indent=1,
            )
        )

        # filter to the mistakes: the count changes and the digit shown is a mistake
        count = explorer.locator(".widget-html").first
        all_count = count.inner_text()
        explorer.locator("select").first.select_option(label="misclassified only")
        expect(count).to_contain_text("misclassified only", timeout=10_000)
        assert count.inner_text() != all_count
        expect(caption).to_contain_text("wrong")
        # what the network looked at: the map for the reading and, for a mistake, for the true digit
        expect(explorer).to_contain_text("What the network looked at")
        expect(explorer.locator(".why-caption", has_text="the true digit")).to_be_visible()
        assert explorer.locator("img").count() >= 3, "the digit, and two maps for a mistake"
        page.screenshot(path=str(SHOTS / "06_explorer_mistakes.png"))

        # draw a stroke on the pad: a vertical line, as for a 1
        pad = page.locator(".drawing-pad")
        pad.scroll_into_view_if_needed()
        canvas = pad.locator("canvas").last
        box = canvas.bounding_box()
        assert box and box["width"] > 100
        first_frame = len(frames)
        draw_a_one(page, box)
        prediction = pad.locator(".pad-prediction")
        expect(prediction).to_contain_text("reads 1", timeout=30_000)
        sent = sum(1 for direction, _ in frames[first_frame:] if direction == "sent")
        # drawn in the browser: the finished stroke is one message (ipycanvas sent one per move)
        assert sent <= 2, f"a 21-move stroke sent {sent} messages to the kernel"
        expect(pad).to_contain_text("what it looked at")
        page.screenshot(path=str(SHOTS / "06_drawing_pad.png"))
        ratio = stroke_contrast(page, canvas, SHOTS / "06_pad_light.png")
        (SHOTS / "pad_contrast_light.json").write_text(json.dumps({"contrast_ratio": ratio}))
        assert ratio >= 4.5, f"the stroke's contrast against the canvas is {ratio:.1f}:1"

        tracebacks = page.locator(".jp-OutputArea-output", has_text="Traceback").count()
        browser.close()

    assert tracebacks == 0, "a cell raised an error in the kernel"
    ours = [e for e in console_errors if not any(s in e for s in IGNORED_CONSOLE)]
    assert not ours, f"errors in the browser console: {ours}"


def draw_a_one(page, box) -> None:
    """A stroke with the mouse down the middle of the canvas, slightly slanted: a 1."""
    x = box["x"] + box["width"] * 0.5
    page.mouse.move(x, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for k in range(1, 21):
        page.mouse.move(x + k * 0.6, box["y"] + box["height"] * (0.15 + 0.035 * k))
    page.mouse.up()


def _luminance(rgb) -> float:
    """WCAG relative luminance of an sRGB colour (0..255 channels)."""
    import numpy as np

    c = np.asarray(rgb, dtype=float) / 255
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def stroke_contrast(page, canvas, path) -> float:
    """Contrast ratio (WCAG) of the drawn stroke against the canvas, from a screenshot."""
    import numpy as np
    from PIL import Image

    box = canvas.bounding_box()
    page.screenshot(path=str(path), clip=box)
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3).astype(float)
    light = pixels.sum(axis=1)
    ink = np.median(pixels[light <= np.percentile(light, 3)], axis=0)  # the stroke: darkest 3%
    paper = np.median(pixels[light >= np.percentile(light, 50)], axis=0)  # most of the canvas
    hi, lo = sorted((_luminance(ink), _luminance(paper)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_pad_reads_in_jupyterlab_dark(lab):
    """In JupyterLab Dark the pad is still a white page with black ink (contrast >= 4.5:1)."""
    from playwright.sync_api import expect, sync_playwright

    url, _ = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser, page = _open(p, url, "06_visualizing_predictions")
        page.get_by_role("menuitem", name="Settings", exact=True).click()
        page.get_by_text("Theme", exact=True).hover()
        page.get_by_text("JupyterLab Dark", exact=True).click()
        page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
        _run_until_recorded(page, "06")
        pad = page.locator(".drawing-pad")
        pad.scroll_into_view_if_needed()
        canvas = pad.locator("canvas").last
        draw_a_one(page, canvas.bounding_box())
        expect(pad.locator(".pad-prediction")).to_contain_text("The network", timeout=30_000)
        # the stroke is read the same as in the light theme: the network sees the same digit
        expect(pad.locator(".pad-prediction")).to_contain_text("reads 1", timeout=15_000)
        page.screenshot(path=str(SHOTS / "06_drawing_pad_dark.png"))
        ratio = stroke_contrast(page, canvas, SHOTS / "06_pad_dark.png")
        (SHOTS / "pad_contrast_dark.json").write_text(json.dumps({"contrast_ratio": ratio}))
        # switch back so other tests in this lab see the light theme
        page.get_by_role("menuitem", name="Settings", exact=True).click()
        page.get_by_text("Theme", exact=True).hover()
        page.get_by_text("JupyterLab Light", exact=True).click()
        browser.close()
    assert ratio >= 4.5, f"in the dark theme the stroke's contrast is {ratio:.1f}:1"


def _restart_kernel(page) -> None:
    """Kernel > Restart Kernel..., confirmed, in JupyterLab or Notebook 7."""
    page.get_by_role("menuitem", name="Kernel", exact=True).click()
    page.get_by_text("Restart Kernel…", exact=True).first.click()
    page.locator(".jp-Dialog-button.jp-mod-accept").first.click()


def test_the_pad_reads_in_notebook_7_and_says_when_a_restart_disconnects_it(lab):
    """Jupyter Notebook 7: the pad reads a drawn 1; after a kernel restart the explorer and the
    pad say on the page that they are disconnected and what to do, and a stroke reads nothing."""
    from playwright.sync_api import expect, sync_playwright

    url, _ = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    console_errors: list[str] = []
    with sync_playwright() as p:
        browser, page = _open(p, url, "06_visualizing_predictions", console_errors, ui="notebook")
        assert "/lab" not in page.url, "this is Notebook 7's own page, not JupyterLab"
        _run_until_recorded(page, "06")
        pad = page.locator(".drawing-pad")
        pad.scroll_into_view_if_needed()
        expect(pad.locator("img").first).to_be_visible()
        canvas = pad.locator("canvas").last
        draw_a_one(page, canvas.bounding_box())
        prediction = pad.locator(".pad-prediction")
        expect(prediction).to_contain_text("reads 1", timeout=30_000)
        page.screenshot(path=str(SHOTS / "06_pad_notebook7.png"))
        reading = prediction.inner_text()

        lost = page.locator(".kernel-lost-notice")
        expect(lost.first).to_be_hidden()
        _restart_kernel(page)
        explorer = page.locator(".prediction-explorer")
        expect(explorer.locator(".kernel-lost-notice")).to_contain_text(
            "Disconnected", timeout=30_000
        )
        expect(explorer.locator(".kernel-lost-notice")).to_contain_text("this cell again")
        expect(pad.locator(".pad-status")).to_contain_text("Disconnected")
        expect(pad.locator(".pad-status")).to_contain_text("this cell again")
        # a stroke after the restart: the page says why nothing is read, and nothing is
        page.locator(".pad-clear").click()
        draw_a_one(page, canvas.bounding_box())
        page.wait_for_timeout(3000)
        assert prediction.inner_text() == reading
        pad.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "06_pad_notebook7_after_restart.png"))
        browser.close()
    ours = [
        e for e in console_errors if not any(s in e for s in IGNORED_CONSOLE + NOTEBOOK7_CONSOLE)
    ]
    assert not ours, f"errors in the browser console: {ours}"


def _open(
    p,
    url: str,
    notebook: str,
    console: list | None = None,
    ui: str = "lab",
    frames: list | None = None,
):
    """Chromium on ``notebooks/<notebook>.ipynb``, kernel started. (browser, page).

    ``ui``: "lab" (JupyterLab) or "notebook" (Jupyter Notebook 7, served by the same server).
    ``frames``: if given, every WebSocket frame the page sends ("sent") or gets ("received")
    is appended to it as (direction, bytes), e.g. to count the messages of a stroke.
    """
    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    if console is not None:
        page.on("console", lambda m: m.type == "error" and console.append(m.text))
        page.on("pageerror", lambda e: console.append(f"page error: {e}"))
    if frames is not None:

        def watch(ws):
            ws.on("framesent", lambda f: frames.append(("sent", len(f))))
            ws.on("framereceived", lambda f: frames.append(("received", len(f))))

        page.on("websocket", watch)
    path = {"lab": "lab/tree", "notebook": "notebooks"}[ui]
    page.goto(f"{url}/{path}/notebooks/{notebook}.ipynb")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", state="attached", timeout=60_000)
    time.sleep(2)  # let the kernel finish starting
    _accept_kernel_choice(page, wait_s=8)
    return browser, page


def _accept_kernel_choice(page, wait_s: float = 0.0) -> None:
    """On a loaded machine the kernel list can arrive after the notebook, and the front end
    then asks which kernel to start: take the preselected one (the notebook's own)."""
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    deadline = time.time() + wait_s
    while True:
        if dialog.count():
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
            time.sleep(2)
            return
        if time.time() >= deadline:
            return
        time.sleep(0.5)


def _run_until_recorded(page, lesson: str) -> None:
    """Run All, then wait for the lesson's last cell (its record) so no cell is still running."""
    from playwright.sync_api import expect

    _run_all(page)
    expect(
        page.locator(".jp-OutputArea-output", has_text=f"Recorded: lesson={lesson}")
    ).to_be_visible(timeout=240_000)


def _run_all(page):
    _accept_kernel_choice(page)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()


def _answer(page, check_call: str, code: str):
    """Replace the code of the exercise cell that calls ``check_call`` and run it."""
    cell = page.locator(".jp-CodeCell", has_text=check_call)
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    return cell


def test_a_learner_tries_an_exercise_and_sees_progress(lab):
    """Lesson 02 as a learner: blank, wrong, then right; lesson 00 then shows the pass."""
    from playwright.sync_api import expect, sync_playwright

    url, _ = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    check = "checks.check_normalize(my_norm, x_test_flat)"
    with sync_playwright() as p:
        browser, page = _open(p, url, "02_flatten_and_normalize")
        _run_until_recorded(page, "02")
        cell = page.locator(".jp-CodeCell", has_text=check)
        expect(cell.locator(".jp-OutputArea-output")).to_contain_text("not answered yet")
        expect(cell.locator(".jp-OutputArea-output")).to_contain_text("Hint:")

        cell = _answer(
            page,
            check,
            f"### START CODE HERE ###\nmy_norm = x_test_flat / 255\n### END CODE HERE ###\n{check}",
        )
        expect(cell.locator(".jp-OutputArea-output")).to_contain_text(
            "your values run from 0 to 1; the lesson maps pixels to [-1, 1]", timeout=30_000
        )
        cell.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "02_wrong_answer.png"))

        cell = _answer(
            page,
            check,
            "### START CODE HERE ###\n"
            'my_norm = x_test_flat.astype("float32") / 127.5 - 1\n'
            f"### END CODE HERE ###\n{check}",
        )
        expect(cell.locator(".jp-OutputArea-output")).to_contain_text("Correct", timeout=30_000)
        page.screenshot(path=str(SHOTS / "02_right_answer.png"))

        page.goto(f"{url}/lab/tree/notebooks/00_start_here.ipynb")
        title = page.locator(".jp-RenderedMarkdown h1", has_text="00 · Start here")
        expect(title).to_be_visible(timeout=60_000)
        time.sleep(2)
        _run_all(page)
        # the progress table's row (the lesson table above also names lesson 02)
        row = page.locator(".jp-RenderedMarkdown tr", has_text="02 Flatten and normalize").filter(
            has_text=" / 2"
        )
        expect(row).to_contain_text("1 / 2", timeout=120_000)
        row.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "00_progress.png"))
        browser.close()


def test_lesson_08_start_to_finish_as_a_learner(lab):
    """Lesson 08 in the browser: Run All with the exercises blank, then one answered; no dead end."""
    from playwright.sync_api import expect, sync_playwright

    url, _ = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    check = "checks.check_sgd_step(new_W, W, dW.numpy(), hand_learning_rate)"
    with sync_playwright() as p:
        browser, page = _open(p, url, "08_what_fit_does")
        _run_until_recorded(page, "08")
        expect(
            page.locator(".jp-OutputArea-output", has_text="equals Keras' step: True")
        ).to_be_visible()
        cell = page.locator(".jp-CodeCell", has_text=check)
        expect(cell.locator(".jp-OutputArea-output")).to_contain_text("not answered yet")
        cell = _answer(
            page,
            check,
            "### START CODE HERE ###\nnew_W = W + hand_learning_rate * dW.numpy()\n"
            f"### END CODE HERE ###\n{check}",
        )
        expect(cell.locator(".jp-OutputArea-output")).to_contain_text("goes uphill", timeout=30_000)
        cell = _answer(
            page,
            check,
            "### START CODE HERE ###\nnew_W = W - hand_learning_rate * dW.numpy()\n"
            f"### END CODE HERE ###\n{check}",
        )
        expect(cell.locator(".jp-OutputArea-output")).to_contain_text("Correct", timeout=30_000)
        page.screenshot(path=str(SHOTS / "08_step_answered.png"))
        tracebacks = page.locator(".jp-OutputArea-output", has_text="Traceback").count()
        browser.close()
    assert tracebacks == 0, "a cell raised an error in the kernel"
