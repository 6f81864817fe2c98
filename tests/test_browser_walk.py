"""All nine lessons in JupyterLab (light theme) as a learner, in headless Chromium (issue #15).

Run All of each lesson on the offline sample, with one or two epochs (the parameters set in
copies of the notebooks, as papermill does). In lesson 04, the kernel is restarted and a later
cell run (it must answer in one line what to run, not with a NameError traceback), and
training is interrupted (one line saying how far it got; the saved model is not replaced).
Every lesson: no line of TensorFlow's C++/absl logging, no raw NameError, no traceback the
learner did not cause, no error in the browser console.

No environment variable of ours reaches the kernels (no TF_CPP_MIN_LOG_LEVEL): the kernel
hook is loaded from IPython kernel config, as ``python -m lessons_lib.session install``
writes it (here into a scratch IPYTHONDIR profile, so this venv is left as it is).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest
from test_browser import (
    CHROMIUM,
    IGNORED_CONSOLE,
    SHOTS,
    _free_port,
    _open,
    _run_all,
    _unavailable,
)

from conftest import ROOT
from lessons_lib import runner, session

pytestmark = pytest.mark.browser

# the offline sample, one or two epochs; lesson 04 trains long enough to be interrupted
WALK = {
    "data_source": "sample",
    "epochs": 1,
    "experiment_epochs": 1,
    "experiment_size": 2000,
    "cnn_epochs": 1,
    "fashion_size": 2000,
    "fashion_epochs": 1,
    "hand_epochs": 1,
}
LESSON_04 = {"epochs": 40, "patience": 0}
NOISE = re.compile(
    r"(?m)^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]|absl::InitializeLog|cpu_feature_guard|"
    r"oneDNN custom operations|use_unbounded_threadpool"
)


@pytest.fixture(scope="module")
def walk_lab(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        _unavailable(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    root = tmp_path_factory.mktemp("walk")
    (root / "notebooks").mkdir()
    for book in runner.lesson_notebooks():
        nb = nbformat.read(book, as_version=4)
        known = runner.notebook_parameters(book)
        values = {k: v for k, v in WALK.items() if k in known}
        if book.name.startswith("04"):
            values.update(LESSON_04)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        for name, value in values.items():  # as a learner edits the parameters cell
            cell.source, n = re.subn(
                rf"(?m)^{name} = [^#\n]*", f"{name} = {value!r}  ", cell.source, count=1
            )
            assert n == 1, (book.name, name)
        nbformat.write(nb, root / "notebooks" / book.name)
    profile = root / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / session.CONFIG_NAME).write_text(
        (ROOT / "lessons_lib" / session.CONFIG_NAME).read_text()
    )
    port = _free_port()
    env = {
        **os.environ,
        "KERAS_HOME": str(root / "keras"),
        "LESSONS_PROGRESS": str(root / "p.json"),
        "JUPYTER_CONFIG_DIR": str(root / "jcfg"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / "ws"),
        "IPYTHONDIR": str(root / "ipython"),
        "PYTHONPATH": str(ROOT),
    }
    for name in ("MNIST_PATH", "TF_CPP_MIN_LOG_LEVEL"):
        env.pop(name, None)
    log = open(root / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
         "--ip=127.0.0.1", "--IdentityProvider.token=", "--allow-root", "--ServerApp.password=",
         "--ServerApp.disable_check_xsrf=True",  # the test shuts kernels down through the API
         f"--ServerApp.root_dir={root}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
    )  # fmt: skip
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


def _shut_down_kernels(url: str) -> None:
    """One lesson's kernel at a time: Binder-sized memory for the whole walk."""
    sessions = json.load(urllib.request.urlopen(f"{url}/api/sessions", timeout=10))
    for item in sessions:
        request = urllib.request.Request(f"{url}/api/sessions/{item['id']}", method="DELETE")
        urllib.request.urlopen(request, timeout=30)


def _outputs(page) -> list[str]:
    return page.locator(".jp-OutputArea-output").all_inner_texts()


def _learner_sees_nothing_broken(name: str, texts: list[str], allowed_errors: int = 0) -> None:
    joined = "\n".join(texts)
    assert not NOISE.search(joined), f"{name}: {NOISE.search(joined).group(0)!r} in the output"
    assert "NameError: name '" not in joined, f"{name}: a raw NameError"
    tracebacks = [t for t in texts if "Traceback (most recent call last)" in t]
    assert not tracebacks, f"{name}: {tracebacks[0][:500]}"
    bars = [(int(a), int(b)) for a, b in re.findall(r"(\d+)/(\d+) ━", joined)]
    assert all(a <= b for a, b in bars), f"{name}: a progress bar past its total"


def _kernel_menu(page, item: str) -> None:
    page.get_by_role("menuitem", name="Kernel", exact=True).click()
    page.get_by_text(item, exact=True).first.click()


@pytest.mark.parametrize("book", runner.lesson_notebooks(), ids=lambda b: b.stem)
def test_each_lesson_as_a_learner(walk_lab, book):
    """One lesson per test, so that pytest-xdist can walk several at once (each worker has
    its own JupyterLab; a lesson after 04 trains its own small model if 04 ran elsewhere)."""
    from playwright.sync_api import expect, sync_playwright

    url, root = walk_lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    console: list[str] = []
    lesson = book.name[:2]
    with sync_playwright() as p:
        browser, page = _open(p, url, book.stem, console)
        # this lesson alone: no tab of the last one restored (its kernel is shut down)
        page.goto(f"{url}/lab/workspaces/walk{lesson}/tree/notebooks/{book.name}?reset")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", state="attached", timeout=60_000)
        time.sleep(3)
        try:
            _run_all(page)
            expect(
                page.locator(".jp-OutputArea-output", has_text=f"Recorded: lesson={lesson}")
            ).to_be_visible(timeout=300_000)
            _learner_sees_nothing_broken(book.name, _outputs(page))
            if lesson == "04":
                _restart_then_a_later_cell(page, root)
                _interrupt_while_training(page, root)
        finally:  # what the learner saw, and the server's log, kept for a failure too
            page.screenshot(path=str(SHOTS / f"walk_{lesson}.png"), full_page=True)
            (SHOTS / f"walk_lab_{lesson}.log").write_bytes((root / "lab.log").read_bytes())
        browser.close()
        _shut_down_kernels(url)
    ours = [e for e in console if not any(s in e for s in IGNORED_CONSOLE)]
    assert not ours, f"errors in the browser console: {ours}"


def _restart_then_a_later_cell(page, root) -> None:
    """Kernel ▸ Restart, then the save cell first: one line naming what to run."""
    from playwright.sync_api import expect

    _kernel_menu(page, "Restart Kernel…")
    page.locator(".jp-Dialog .jp-mod-accept").click()  # "Restart"
    expect(page.locator(".jp-Notebook-ExecutionIndicator, .jp-KernelStatus").first).to_be_attached()
    time.sleep(5)  # the new kernel starts
    cell = page.locator(".jp-CodeCell", has_text="training.save_trained(")
    cell.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    output = cell.locator(".jp-OutputArea-output")
    expect(output).to_contain_text("is made by an earlier cell of this lesson", timeout=60_000)
    expect(output).to_contain_text("Run ▸ Run All Above Selected Cell")
    text = output.inner_text()
    assert "Traceback" not in text and len(text.strip().splitlines()) == 1, text
    cell.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "walk_04_after_restart.png"))


def _interrupt_while_training(page, root) -> None:
    """Run All again, Kernel ▸ Interrupt during fit: one line; the saved model is kept."""
    from playwright.sync_api import expect

    saved = root / "notebooks" / "artifacts" / "dense_model.keras"
    saved = saved if saved.exists() else next(root.rglob("dense_model.keras"))
    before = saved.stat().st_mtime_ns
    _run_all(page)
    fit = page.locator(".jp-CodeCell", has_text="history = model.fit(")
    expect(fit.locator(".jp-OutputArea-output", has_text="Epoch 3/40")).to_be_visible(
        timeout=180_000
    )
    _kernel_menu(page, "Interrupt Kernel")
    line = fit.locator(".jp-OutputArea-output", has_text="Training stopped after")
    expect(line).to_be_visible(timeout=60_000)
    text = line.inner_text()
    assert re.search(r"Training stopped after \d+ of 40 epochs", text), text
    assert "is not saved" in text and "Traceback" not in text
    fit.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "walk_04_interrupted.png"))
    time.sleep(3)
    assert saved.stat().st_mtime_ns == before, "the interrupted model replaced the saved one"
    texts = _outputs(page)
    _learner_sees_nothing_broken("04 after the interrupt", texts)
