"""``make book``: executed notebooks -> a static HTML site with a table of contents, usable offline."""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

EXTERNAL_SCRIPT = re.compile(r"<script[^>]+src=\"https?://[^\"]*\"[^>]*>\s*</script>", re.I)
EXTERNAL_CSS = re.compile(r"<link[^>]+href=\"https?://[^\"]*\"[^>]*>", re.I)
# inline module scripts that import from a CDN (the lab template's mermaid loader)
EXTERNAL_IMPORT = re.compile(
    r"<script[^>]*>(?:(?!</script>).)*?(?:from\s+|import\(\s*)[\"']https?://(?:(?!</script>).)*?</script>",
    re.S,
)


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def build_book(src: Path, out: Path) -> Path:
    """Render every ``NN_*.ipynb`` in ``src`` to ``out``; returns the index page's path."""
    from nbconvert import HTMLExporter

    books = sorted(Path(src).glob("[0-9][0-9]_*.ipynb"))
    if not books:
        raise FileNotFoundError(
            f"no executed notebooks in {src}: run `make run` (or `make run ARGS=--fast`) first"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    entries = []
    for book in books:
        nb = nbformat.read(book, as_version=4)
        entries.append((book.stem + ".html", _title(nb, book.stem), nb))
    for i, (page, _, nb) in enumerate(entries):
        body, _ = exporter.from_notebook_node(nb)
        body = EXTERNAL_SCRIPT.sub("", body)  # offline: no CDN scripts (MathJax, require.js)
        body = EXTERNAL_CSS.sub("", body)
        body = EXTERNAL_IMPORT.sub("", body)
        prev_link = f"<a href='{entries[i - 1][0]}'>← previous</a>" if i else ""
        next_link = f"<a href='{entries[i + 1][0]}'>next →</a>" if i + 1 < len(entries) else ""
        nav = (
            f"<nav class='book-nav' style='padding:8px;border-bottom:1px solid #ccc'>"
            f"<a href='index.html'>contents</a> {prev_link} {next_link}</nav>"
        )
        body = re.sub(r"(<body[^>]*>)", r"\1" + nav, body, count=1)
        (out / page).write_text(body, encoding="utf-8")
    items = "\n".join(
        f"<li><a href='{page}'>{html.escape(title)}</a></li>" for page, title, _ in entries
    )
    index = out / "index.html"
    index.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Digit Recognition</title></head>"
        "<body style='font-family:sans-serif;max-width:720px;margin:2em auto'>"
        "<h1>Digit Recognition: the lessons, executed</h1>"
        f"<p>Rendered from {len(entries)} executed notebooks. Interactive widgets need a live "
        "kernel: open the notebooks in JupyterLab to use them.</p>"
        f"<ol>{items}</ol></body></html>",
        encoding="utf-8",
    )
    return index
