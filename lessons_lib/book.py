"""``make book``: executed notebooks -> a static HTML site with a table of contents.

The site is safe to publish as it is:

- every piece of HTML that came from a notebook (markdown cells, raw cells, HTML and
  markdown outputs) passes an allow-list sanitizer (nh3, the Rust ammonia library): no
  ``<script>`` or ``<style>`` (content included), no ``on...=`` handlers, no ``<iframe>``,
  no ``javascript:`` links, images only as embedded PNG or JPEG;
- images pasted into markdown cells (attachments) are embedded the same way;
- JavaScript outputs and widget views are replaced by a one-line note, and the
  widget state is dropped, so no widget manager is fetched from a CDN;
- every remaining ``<script>`` is removed and a Content-Security-Policy forbids
  scripts and outside resources, so anything a sanitizer might miss still cannot run;
- page names are made from letters, digits, ``_``, ``-`` and ``.``, and every name
  shown is escaped;
- local absolute paths (the project, its parent, the run folder, the home folder,
  the temporary folder) are replaced by short placeholders.

Every input is checked before anything is written, and a fault stops the build with
one line naming the file (``BookError``, exit code 2 from the command line): a
notebook that is cut short or not a notebook, a symbolic link (it could lead outside
``--src``), an ``--out`` that is not a folder of the book's own (the rules of a run's
``--out``: :mod:`lessons_lib.runner.folders`).
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import tempfile
from pathlib import Path
from urllib.parse import unquote

import nbformat

from .params import ParameterError

ALLOWED_TAGS = [
    "a", "abbr", "b", "blockquote", "br", "code", "del", "details", "div", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
]  # fmt: skip
ALLOWED_PROTOCOLS = ["http", "https", "mailto", "data"]  # data: only for images (below)
ALLOWED_ATTRIBUTES = {
    "*": {"class", "title", "align", "colspan", "rowspan", "open"},
    "a": {"href"},
    "img": {"alt", "width", "height", "src"},
}
EMBEDDED_IMAGE = ("data:image/png;base64,", "data:image/jpeg;base64,")
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


class BookError(ParameterError):
    """An input the book cannot use; ``problems`` holds one line each, naming the file."""


def _attribute_filter(tag: str, name: str, value: str) -> str | None:
    """An image only as embedded PNG/JPEG (no tracker, no SVG); a link never to data:."""
    if tag == "img" and name == "src":
        return value if value.startswith(EMBEDDED_IMAGE) else None
    if tag == "a" and name == "href" and value.strip().lower().startswith("data:"):
        return None
    return value


def sanitize(fragment: str) -> str:
    """HTML from a notebook -> HTML with only the allowed tags, attributes and link kinds.

    Disallowed tags are dropped and their text kept, except ``<script>`` and ``<style>``,
    which go with their content.
    """
    import nh3

    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes=set(ALLOWED_PROTOCOLS),
        strip_comments=True,
    )


ATTACHMENT = re.compile(r"attachment:([^\s)\"'>]+)")


def embed_attachments(source: str, attachments: dict | None) -> str:
    """``attachment:NAME`` references of a markdown cell -> embedded PNG/JPEG data URIs.

    A pasted screenshot is stored in the cell's ``attachments``; another kind of file, or
    a name the cell does not hold, becomes an empty link (the sanitizer then drops it).
    """
    attachments = attachments if isinstance(attachments, dict) else {}

    def embed(match: re.Match) -> str:
        bundle = attachments.get(match.group(1)) or attachments.get(unquote(match.group(1)))
        if isinstance(bundle, dict):
            for mime in ("image/png", "image/jpeg"):
                data = bundle.get(mime)
                data = "".join(data) if isinstance(data, list) else data
                if isinstance(data, str):
                    try:
                        base64.b64decode(data, validate=True)
                    except (binascii.Error, ValueError):
                        continue
                    return f"data:{mime};base64,{data}"
        return "#missing-attachment"

    return ATTACHMENT.sub(embed, source)


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
            if cell.cell_type == "markdown":
                source = embed_attachments(source, cell.get("attachments"))
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


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:100]}" if text else type(exc).__name__


def sources(src: Path) -> list[Path]:
    """The ``NN_*.ipynb`` files in ``src``; BookError if none, or if one is a link.

    A symbolic link could lead anywhere (another course, a private notebook): the book
    takes only files that are really in ``src``.
    """
    shown = str(src) if len(str(src)) <= 100 else "..." + str(src)[-97:]
    try:
        folder = Path(src).expanduser()
        if not folder.is_dir():
            raise BookError(
                [
                    f"--src {shown} is not a folder of executed notebooks: run `make run` "
                    "(or `make run ARGS=--fast`) first, or give the run's notebooks/ folder"
                ]
            )
        books = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
        real = folder.resolve()
        for book in books:
            if book.is_symlink() or not book.resolve().is_relative_to(real):
                raise BookError(
                    [
                        f"{book.name} in --src is a symbolic link (to {book.resolve()}); the book "
                        "takes only notebooks really in --src: copy the file in instead"
                    ]
                )
    except OSError as exc:
        raise BookError([f"--src {shown} cannot be read: {exc.strerror or exc}"]) from None
    if not books:
        raise BookError(
            [f"no executed notebooks in {shown}: run `make run` (or `make run ARGS=--fast`) first"]
        )
    return books


def build_book(src: Path, out: Path) -> Path:
    """Render every ``NN_*.ipynb`` in ``src`` to ``out``; returns the index page's path."""
    from nbconvert import HTMLExporter

    from .params import project_root
    from .runner import folders
    from .runner.lessons import NOTEBOOKS, read_notebook

    books = sources(src)
    target, problem = folders.check_out(out, NOTEBOOKS, example="build/book-2")
    if problem:
        raise BookError([problem])
    fix = "run that lesson again (make run) or delete the file"
    notebooks = [(book, read_notebook(book, fix=fix)) for book in books]  # all, before writing
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
    for book, nb in notebooks:
        title = _title(nb, book.stem)
        try:
            entries.append((page_name(book.stem, taken), title, clean_notebook(nb, redact)))
        except Exception as exc:  # a shape nbformat accepts but nothing here expected
            raise BookError(
                [f"{book.name} cannot be made safe to publish ({_why(exc)}); {fix}"]
            ) from None
    pages = {}
    for i, (page, title, nb) in enumerate(entries):
        try:
            body, _ = exporter.from_notebook_node(
                nb, resources={"metadata": {"name": re.sub(r"[^\w .·-]", "", title)[:80]}}
            )
        except Exception as exc:
            raise BookError([f"{page} cannot be rendered ({_why(exc)}); {fix}"]) from None
        prev_link = f"<a href='{entries[i - 1][0]}'>← previous</a>" if i else ""
        next_link = f"<a href='{entries[i + 1][0]}'>next →</a>" if i + 1 < len(entries) else ""
        nav = (
            f"<nav class='book-nav' style='padding:8px;border-bottom:1px solid #ccc'>"
            f"<a href='index.html'>contents</a> {prev_link} {next_link}</nav>"
        )
        body = re.sub(r"(<body[^>]*>)", lambda m, nav=nav: m.group(1) + nav, body, count=1)
        pages[page] = _finish(body)
    items = "\n".join(
        f"<li><a href='{page}'>{html.escape(redact(title))}</a></li>" for page, title, _ in entries
    )
    problem = folders.claim(target, "book")  # every page is ready: only now write
    if problem:
        raise BookError([problem])
    for page, text in pages.items():
        folders.fresh(target / page).write_text(text, encoding="utf-8")
    index = folders.fresh(target / "index.html")
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
