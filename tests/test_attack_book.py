"""Attack: a notebook with scripts, handlers, iframes and a hostile file name, fed to the book."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from conftest import ROOT
from lessons_lib.book import build_book

HOSTILE_NAME = "01_a'\"><script>alert(9)<\\script> & x.ipynb"


def _hostile(folder):
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {},
            "version_major": 2,
            "version_minor": 0,
        }
    }
    raw = nbformat.v4.new_raw_cell(
        "<script>alert(4)</script><b>raw</b><iframe src='https://x'></iframe>"
    )
    raw.metadata["raw_mimetype"] = "text/html"
    code = nbformat.v4.new_code_cell(f"print('{ROOT}/artifacts')")
    code.outputs = [
        nbformat.v4.new_output(
            "stream", name="stdout", text=f"saved to {ROOT}/artifacts/m.keras\n"
        ),
        nbformat.v4.new_output(
            "display_data",
            data={"application/javascript": "alert(5)", "text/plain": "<Javascript>"},
        ),
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": "<div onclick='alert(6)'>x</div><script>alert(7)</script>"
                '<a href="javascript:alert(8)">y</a><svg onload=alert(10)></svg>'
                "<img src='https://tracker.example/p.gif'><style>body{display:none}</style>"
            },
        ),
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": {
                    "model_id": "a",
                    "version_major": 2,
                    "version_minor": 0,
                },
                "text/plain": "VBox()",
            },
        ),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg onload='alert(11)'/>"}),
    ]
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# Lesson <script>alert(1)</script>\n\n<img src=x onerror=alert(2)> "
            "<iframe src='https://evil.example'></iframe> [bad](javascript:alert(3))\n\n"
            "<details><summary>Hint</summary>\n\n`np.argmax`\n\n</details>"
        ),
        raw,
        code,
    ]
    nbformat.write(nb, folder / HOSTILE_NAME)


def test_book_of_a_hostile_notebook_has_no_script_handler_frame_or_local_path(tmp_path):
    src = tmp_path / "run" / "notebooks"
    src.mkdir(parents=True)
    _hostile(src)
    index = build_book(src, tmp_path / "book")
    pages = sorted((tmp_path / "book").glob("*.html"))
    assert len(pages) == 2 and all(re.fullmatch(r"[A-Za-z0-9_.-]+\.html", p.name) for p in pages)
    for page in pages:
        text = page.read_text()
        low = text.lower()
        assert "<script" not in low and "<iframe" not in low and "<svg" not in low
        assert not re.search(r"\son[a-z]+\s*=", low), "no event handler attributes"
        # heading anchors are made from the heading's text, and are inert
        inert = re.sub(r'href="#[^"]*"', "", low)
        assert "javascript:" not in low and "alert(" not in inert
        assert "https://evil" not in low and "tracker.example" not in low
        assert "script-src 'none'" in text, "a CSP forbids scripts even if one slipped through"
        assert str(ROOT) not in text and str(tmp_path) not in text
    lesson = next(p for p in pages if p != index).read_text()
    assert "<details>" in lesson and "<summary>Hint</summary>" in lesson, "harmless HTML is kept"
    assert "interactive widget" in lesson and "&lt;project&gt;/artifacts" in lesson


# --------------------------------------------------------------------------- inputs the book refuses or handles

import base64  # noqa: E402
import html.parser  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402

import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lessons_lib.book import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, sanitize  # noqa: E402
from lessons_lib.params import ParameterError  # noqa: E402
from lessons_lib.runner import read_notebook  # noqa: E402


def _png() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (6, 6), "red").save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _lesson(folder, name="01_lesson.ipynb", markdown="# A lesson\n\nText.", attachments=None):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_markdown_cell(markdown)
    if attachments is not None:
        cell.attachments = attachments
    nb.cells = [cell, nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, folder / name)
    return folder / name


def test_pasted_screenshots_are_embedded_and_nothing_else_is(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    png = _png()
    _lesson(
        src,
        markdown="# Pasted\n\n![shot](attachment:image.png) ![s](attachment:my%20shot.png) "
        "![svg](attachment:evil.svg) ![gone](attachment:missing.png) ![bad](attachment:bad.png)",
        attachments={
            "image.png": {"image/png": png},
            "my shot.png": {"image/png": [png[:10], png[10:]]},
            "evil.svg": {"image/svg+xml": "<svg onload='alert(1)'/>"},
            "bad.png": {"image/png": "not base64 !!"},
        },
    )
    build_book(src, tmp_path / "book")
    page = (tmp_path / "book" / "01_lesson.html").read_text()
    sources = re.findall(r"<img[^>]*\bsrc=\"([^\"]*)\"", page)
    assert sources.count(f"data:image/png;base64,{png}") == 2, "both pasted PNGs are shown"
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert "onload" not in page and "<svg" not in page and "attachment:" not in page


def test_a_cut_notebook_stops_the_book_before_anything_is_written(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _lesson(src, "01_good.ipynb")
    text = _lesson(src, "02_cut.ipynb").read_text()
    (src / "02_cut.ipynb").write_text(text[: len(text) // 3])
    with pytest.raises(ParameterError) as err:
        build_book(src, tmp_path / "book")
    assert err.value.problems == [
        f"{src / '02_cut.ipynb'} is not a readable notebook: cut short or not JSON; "
        "run that lesson again (make run) or delete the file"
    ]
    assert not (tmp_path / "book").exists(), "nothing is written"


def test_a_symlink_in_src_is_refused_even_to_a_notebook(tmp_path):
    src, outside = tmp_path / "src", tmp_path / "private"
    src.mkdir()
    outside.mkdir()
    _lesson(src, "01_good.ipynb")
    (src / "02_private.ipynb").symlink_to(_lesson(outside, "secret.ipynb", "# Answers"))
    with pytest.raises(ParameterError, match="02_private.ipynb in --src is a symbolic link"):
        build_book(src, tmp_path / "book")
    assert not (tmp_path / "book").exists()
    linked = tmp_path / "linked-src"  # --src itself may be a link: what is in it is real
    linked.symlink_to(src)
    (src / "02_private.ipynb").unlink()
    assert build_book(linked, tmp_path / "book").is_file()


@pytest.mark.parametrize("kind", ["folder", "fifo", "huge-sparse", "latin-1", "json list"])
def test_a_file_that_is_not_a_notebook_is_named(tmp_path, kind):
    src = tmp_path / "src"
    src.mkdir()
    bad = src / "01_bad.ipynb"
    if kind == "folder":
        bad.mkdir()
    elif kind == "fifo":
        os.mkfifo(bad)  # reading it would wait for ever
    elif kind == "huge-sparse":
        with open(bad, "wb") as fh:
            fh.truncate(300 * 2**20)
    elif kind == "latin-1":
        bad.write_bytes('{"cells": [], "note": "caf\xe9"}'.encode("latin-1"))
    else:
        bad.write_text("[1, 2, 3]")
    with pytest.raises(ParameterError) as err:
        build_book(src, tmp_path / "book")
    assert (
        len(err.value.problems) == 1
        and "01_bad.ipynb is not a readable notebook" in (err.value.problems[0])
    )


@pytest.mark.parametrize("out", [".", "notebooks", "~", "artifacts", "build/run-x/../.."])
def test_book_out_may_not_be_a_place_the_learner_owns(tmp_path, out, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    _lesson(src)
    monkeypatch.chdir(ROOT)
    before = sorted(p.name for p in (ROOT / "notebooks").iterdir())
    with pytest.raises(ParameterError, match="a run writes only into a folder of its own"):
        build_book(src, Path(out))
    assert sorted(p.name for p in (ROOT / "notebooks").iterdir()) == before
    assert not (ROOT / "index.html").exists()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzz_a_damaged_notebook_is_read_or_named_in_one_line(tmp_path, data):
    """Cut short at any byte, or with bytes overwritten: read, or one line naming the file."""
    path = tmp_path / "01_x.ipynb"
    _hostile(tmp_path)
    raw = (tmp_path / HOSTILE_NAME).read_bytes()
    cut = data.draw(st.integers(0, len(raw)))
    junk = data.draw(st.binary(max_size=8))
    where = data.draw(st.integers(0, cut))
    path.write_bytes(raw[:where] + junk + raw[where + len(junk) : cut])
    try:
        nb = read_notebook(path)
    except ParameterError as exc:
        assert len(exc.problems) == 1 and "01_x.ipynb is not a readable notebook" in exc.problems[0]
        assert len(exc.problems[0]) < 400
        return
    assert isinstance(nb.cells, list)


def test_book_cli_gives_one_line_and_exit_2_for_a_cut_notebook(tmp_path):
    import subprocess
    import sys

    src = tmp_path / "src"
    src.mkdir()
    (src / "01_cut.ipynb").write_text('{"cells": [{"cell_type": "mark')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lessons_lib",
            "book",
            "--src",
            str(src),
            "--out",
            str(tmp_path / "b"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {src / '01_cut.ipynb'} is not a readable notebook: cut short or not JSON; "
        "run that lesson again (make run) or delete the file"
    ]


# --------------------------------------------------------------------------- the sanitizer


def _bench():
    """benchmarks/bench_sanitizer.py: it times the sanitizer on these same hostile fragments."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_sanitizer", ROOT / "benchmarks" / "bench_sanitizer.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOSTILE_HTML = _bench().HOSTILE_HTML


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def _assert_inert(fragment: str, cleaned: str):
    parser = _Tags()
    parser.feed(cleaned)
    generic = ALLOWED_ATTRIBUTES["*"]
    for tag, attrs in parser.found:
        assert tag in ALLOWED_TAGS, (fragment, cleaned)
        for name, value in attrs.items():
            assert name in generic | ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel"}, (
                fragment,
                cleaned,
            )
            if name == "src":
                assert value.startswith(("data:image/png;base64,", "data:image/jpeg;base64,"))
            if name == "href":
                scheme = value.split(":", 1)[0].strip().lower() if ":" in value else ""
                assert scheme in ("", "http", "https", "mailto"), (fragment, cleaned)
    assert "<script" not in cleaned.lower(), (fragment, cleaned)  # text may say javascript:


@pytest.mark.parametrize("fragment", HOSTILE_HTML, ids=range(len(HOSTILE_HTML)))
def test_every_hostile_fragment_is_made_inert(fragment):
    cleaned = sanitize(fragment)
    _assert_inert(fragment, cleaned)
    for dangerous in ("<iframe", "<object", "<embed", "<form", "<base", "<meta", "<link", "<svg"):
        assert dangerous not in cleaned.lower()
    if "<style" in fragment:
        assert "display:none" not in cleaned, "a style's content goes with it"


PIECES = st.sampled_from(
    ["<", ">", "/", "=", "'", '"', " ", "script", "img", "a", "svg", "iframe", "style", "src",
     "href", "onerror", "onload", "javascript:", "data:", "alert(1)", "<!--", "-->", "&#x09;",
     "details", "open", "x", "</", "math", "noscript", "title"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(PIECES, max_size=40))
def test_fuzz_sanitizer_output_holds_only_allowed_tags_and_safe_links(parts):
    fragment = "".join(parts)
    _assert_inert(fragment, sanitize(fragment))
