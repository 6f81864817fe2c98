"""Attack: a notebook with scripts, handlers, iframes and a hostile file name, fed to the book."""

from __future__ import annotations

import re

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
