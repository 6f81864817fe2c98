"""``make book``: executed notebooks -> a static HTML site with a table of contents.

The site is safe to publish as it is:

- every piece of HTML that came from a notebook (markdown cells, raw cells, HTML and
  markdown outputs) passes an allow-list sanitizer (bleach): no ``<script>``, no
  ``on...=`` handlers, no ``<iframe>``, no ``javascript:`` links;
- JavaScript outputs and widget views are replaced by a one-line note, and the
  widget state is dropped, so no widget manager is fetched from a CDN;
- every remaining ``<script>`` is removed and a Content-Security-Policy forbids
  scripts and outside resources, so anything a sanitizer might miss still cannot run;
- page names are made from letters, digits, ``_``, ``-`` and ``.``, and every name
  shown is escaped;
- local absolute paths (the project, its parent, the run folder, the home folder,
  the temporary folder) are replaced by short placeholders.
"""

from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path

import nbformat

ALLOWED_TAGS = [
    "a", "abbr", "b", "blockquote", "br", "code", "del", "details", "div", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
]  # fmt: skip
ALLOWED_PROTOCOLS = ["http", "https", "mailto", "data"]
SAFE_MIME = ("text/plain", "text/html", "text/markdown", "image/png", "image/jpeg")
WIDGET_NOTE = "(an interactive widget: open this lesson in JupyterLab to use it)"
SCRIPT_NOTE = "(a JavaScript output, left out of the static book)"
CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; script-src 'none'; frame-src 'none'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)
ANY_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>|<script\b[^>]*/?>", re.I | re.S)
EXTERNAL_LINK = re.compile(r"<link\b[^>]*href=[\"']?(?:https?:)?//[^>]*>", re.I)


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in ("class", "title", "align", "colspan", "rowspan", "open"):
        return True
    if tag == "a" and name == "href":
        return True  # bleach still checks the protocol
    if tag == "img" and name in ("alt", "width", "height"):
        return True
    if tag == "img" and name == "src":
        return value.startswith(("data:image/png;base64,", "data:image/jpeg;base64,"))
    return False


def sanitize(fragment: str) -> str:
    """HTML from a notebook -> HTML with only the allowed tags, attributes and link kinds."""
    import bleach

    return bleach.clean(
        ANY_SCRIPT.sub("", fragment),
        tags=ALLOWED_TAGS,
        attributes=_allowed_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )


def _redactor(places: dict[str, str]):
    """A function replacing each local absolute path (longest first) with its placeholder."""
    pairs = sorted(
        ((str(Path(p).resolve()), label) for p, label in places.items() if p),
        key=lambda item: -len(item[0]),
    )
    pairs = [(p, label) for p, label in pairs if len(p) > 1]

    def redact(text: str) -> str:
        for path, label in pairs:
            text = text.replace(path, label)
        return text

    return redact


def _clean_output(output, redact) -> None:
    data = output.get("data")
    if data is not None:
        if "application/vnd.jupyter.widget-view+json" in data:
            output["data"] = {"text/plain": WIDGET_NOTE}
            return
        kept = {k: v for k, v in data.items() if k in SAFE_MIME}
        if not kept and data:
            kept = {"text/plain": SCRIPT_NOTE}
        for key in ("text/plain", "text/markdown", "text/html"):
            if key in kept:
                value = kept[key]
                kept[key] = redact(value if isinstance(value, str) else "".join(value))
        if "text/markdown" in kept:
            from nbconvert.filters import markdown2html

            kept.setdefault("text/html", markdown2html(kept.pop("text/markdown")))
        if "text/html" in kept:
            kept["text/html"] = sanitize(kept["text/html"])
        output["data"] = kept
        output.get("metadata", {}).clear()
    if "text" in output:
        text = output["text"]
        output["text"] = redact(text if isinstance(text, str) else "".join(text))
    if "traceback" in output:
        output["traceback"] = [redact(line) for line in output["traceback"]]
    if "evalue" in output:
        output["evalue"] = redact(output["evalue"])


def clean_notebook(nb, redact):
    """The notebook made safe to render: sanitized HTML, no scripts, no widgets, no local paths."""
    from nbconvert.filters import markdown2html

    nb.metadata.pop("widgets", None)
    cells = []
    for cell in nb.cells:
        source = redact(cell.source)
        if cell.cell_type in ("markdown", "raw"):
            if cell.cell_type == "raw" and cell.metadata.get("raw_mimetype", "") not in (
                "text/html",
                "text/markdown",
                "",
            ):
                continue
            body = markdown2html(source) if cell.cell_type == "markdown" else source
            raw = nbformat.v4.new_raw_cell(
                "<div class='jp-RenderedHTMLCommon jp-RenderedMarkdown'>"
                + sanitize(body)
                + "</div>"
            )
            raw.metadata["raw_mimetype"] = "text/html"
            cells.append(raw)
            continue
        cell.source = source
        for output in cell.get("outputs", []):
            _clean_output(output, redact)
        cells.append(cell)
    nb.cells = cells
    return nb


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in ANY_SCRIPT.sub("", cell.source).splitlines():
                if line.startswith("# "):
                    return re.sub(r"<[^>]*>", "", line[2:]).strip()
    return fallback


def page_name(stem: str, taken: set[str]) -> str:
    """A file name for a page that needs no escaping anywhere: [A-Za-z0-9_.-] only, unique."""
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).strip(".") or "page"
    name, n = f"{base}.html", 1
    while name in taken or name == "index.html":
        n += 1
        name = f"{base}-{n}.html"
    taken.add(name)
    return name


def _finish(page: str) -> str:
    """Remove every script and outside stylesheet; forbid scripts with a CSP as well."""
    page = ANY_SCRIPT.sub("", page)
    page = EXTERNAL_LINK.sub("", page)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    if re.search(r"<head[^>]*>", page):
        return re.sub(r"(<head[^>]*>)", lambda m: m.group(1) + meta, page, count=1)
    return meta + page


def build_book(src: Path, out: Path) -> Path:
    """Render every ``NN_*.ipynb`` in ``src`` to ``out``; returns the index page's path."""
    from nbconvert import HTMLExporter

    from .params import project_root

    books = sorted(Path(src).glob("[0-9][0-9]_*.ipynb"))
    if not books:
        raise FileNotFoundError(
            f"no executed notebooks in {src}: run `make run` (or `make run ARGS=--fast`) first"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    root = project_root(Path(__file__).parent) or Path.cwd()
    redact = _redactor(
        {
            str(Path(src).resolve().parent): "<run>",
            str(root): "<project>",
            str(root.parent): "<project>/..",
            str(Path.home()): "~",
            tempfile.gettempdir(): "<tmp>",
        }
    )
    exporter = HTMLExporter(template_name="lab")
    # Raw cells are sanitized by clean_notebook with the wider allow-list above; the lab
    # template's own filter would escape headings, paragraphs and images.
    exporter.register_filter("clean_html", lambda fragment: fragment)
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    entries, taken = [], set()
    for book in books:
        nb = nbformat.read(book, as_version=4)
        title = _title(nb, book.stem)
        entries.append((page_name(book.stem, taken), title, clean_notebook(nb, redact)))
    for i, (page, title, nb) in enumerate(entries):
        body, _ = exporter.from_notebook_node(
            nb, resources={"metadata": {"name": re.sub(r"[^\w .·-]", "", title)[:80]}}
        )
        prev_link = f"<a href='{entries[i - 1][0]}'>← previous</a>" if i else ""
        next_link = f"<a href='{entries[i + 1][0]}'>next →</a>" if i + 1 < len(entries) else ""
        nav = (
            f"<nav class='book-nav' style='padding:8px;border-bottom:1px solid #ccc'>"
            f"<a href='index.html'>contents</a> {prev_link} {next_link}</nav>"
        )
        body = re.sub(r"(<body[^>]*>)", lambda m, nav=nav: m.group(1) + nav, body, count=1)
        (out / page).write_text(_finish(body), encoding="utf-8")
    items = "\n".join(
        f"<li><a href='{page}'>{html.escape(redact(title))}</a></li>" for page, title, _ in entries
    )
    index = out / "index.html"
    index.write_text(
        _finish(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Digit Recognition</title>"
            "</head><body style='font-family:sans-serif;max-width:720px;margin:2em auto'>"
            "<h1>Digit Recognition: the lessons, executed</h1>"
            f"<p>Rendered from {len(entries)} executed notebooks. Interactive widgets need a "
            "live kernel: open the notebooks in JupyterLab to use them.</p>"
            f"<ol>{items}</ol></body></html>"
        ),
        encoding="utf-8",
    )
    return index
