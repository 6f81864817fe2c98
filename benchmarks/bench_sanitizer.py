"""The book's HTML sanitizer: nh3 (now) beside bleach (before), on the same inputs in one run.

python benchmarks/bench_sanitizer.py [--json benchmarks/results/sanitizer.json]

Inputs: the attack suite's hostile fragments (``HOSTILE_HTML``, also used by
``tests/test_attack_book.py``) and every markdown cell of the nine lessons rendered to
HTML as the book renders it (the realistic load). Each sanitizer gets the same
allow-list: bleach as ``lessons_lib/book.py`` called it before (with its regex pass
that removed scripts first), nh3 as ``book.sanitize`` calls it now. Reported: the
median time of 7 rounds, each sanitizing every input 20 times, and for each hostile
fragment whether the output is inert (only allowed tags and attributes, images only as
embedded PNG/JPEG, links only http(s)/mailto/relative, no script).
"""

from __future__ import annotations

import argparse
import html.parser
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOSTILE_HTML = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//x.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)//",
    "<img src='javascript:alert(1)'>",
    "<img src='data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+'>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href=' javascript:alert(1)'>x</a>",
    "<a href='jav&#x09;ascript:alert(1)'>x</a>",
    "<a href='JaVaScRiPt:alert(1)'>x</a>",
    "<a href='data:text/html,<script>alert(1)</script>'>x</a>",
    "<a href='vbscript:msgbox(1)'>x</a>",
    "<svg onload=alert(1)><script>alert(2)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<iframe src='https://evil.example'></iframe>",
    "<object data='x.swf'></object><embed src='x.swf'>",
    "<form action='https://evil.example'><input name=p></form>",
    "<base href='https://evil.example/'>",
    "<meta http-equiv='refresh' content='0;url=https://evil.example'>",
    "<link rel=stylesheet href='https://evil.example/x.css'>",
    "<style>@import 'https://evil.example/x.css'; body{display:none}</style>",
    "<div style='background:url(javascript:alert(1))'>x</div>",
    "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "<!--<script>alert(1)</script>-->",
    "<table background='javascript:alert(1)'><tr><td>x</td></tr></table>",
    "<p><b>fine</b> <i>text</i></p>",
]


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def inert(cleaned: str) -> bool:
    """Only allowed tags and attributes; images embedded; links http(s)/mailto/relative."""
    from lessons_lib.book import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

    parser = _Tags()
    parser.feed(cleaned)
    for tag, attrs in parser.found:
        if tag not in ALLOWED_TAGS:
            return False
        for name, value in attrs.items():
            if name not in ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel"}:
                return False
            value = value or ""
            if name == "src" and not value.startswith(
                ("data:image/png;base64,", "data:image/jpeg;base64,")
            ):
                return False
            if name == "href" and ":" in value:
                if value.split(":", 1)[0].strip().lower() not in ("http", "https", "mailto"):
                    return False
    return "<script" not in cleaned.lower()


def bleach_as_before(fragment: str) -> str:
    """lessons_lib/book.py's sanitize before the move to nh3, unchanged."""
    import bleach

    from lessons_lib.book import ALLOWED_PROTOCOLS, ALLOWED_TAGS, ANY_SCRIPT

    def allowed(tag, name, value):
        if name in ("class", "title", "align", "colspan", "rowspan", "open"):
            return True
        if tag == "a" and name == "href":
            return True
        if tag == "img" and name in ("alt", "width", "height"):
            return True
        if tag == "img" and name == "src":
            return value.startswith(("data:image/png;base64,", "data:image/jpeg;base64,"))
        return False

    return bleach.clean(
        ANY_SCRIPT.sub("", fragment),
        tags=ALLOWED_TAGS,
        attributes=allowed,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )


def lesson_fragments() -> list[str]:
    import nbformat
    from nbconvert.filters import markdown2html

    fragments = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        fragments += [markdown2html(c.source) for c in nb.cells if c.cell_type == "markdown"]
    return fragments


def cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def timed(clean, inputs: list[str], rounds: int = 7, passes: int = 20) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(passes):
            for fragment in inputs:
                clean(fragment)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()
    from importlib.metadata import version

    from lessons_lib.book import sanitize

    lessons = lesson_fragments()
    inputs = HOSTILE_HTML + lessons
    sanitizers = {"bleach (before)": bleach_as_before, "nh3 (now)": sanitize}
    for clean in sanitizers.values():  # warm up: imports, compiled patterns
        timed(clean, inputs, rounds=1, passes=1)
    results = {}
    for name, clean in sanitizers.items():
        times = timed(clean, inputs)
        per = statistics.median(times) / (20 * len(inputs))
        refused = sum(inert(clean(f)) for f in HOSTILE_HTML)
        results[name] = {
            "median_round_s": round(statistics.median(times), 4),
            "microseconds_per_fragment": round(per * 1e6, 1),
            "hostile_made_inert": f"{refused}/{len(HOSTILE_HTML)}",
        }
        print(
            f"{name:16s} {per * 1e6:8.1f} µs per fragment   hostile made inert: "
            f"{refused}/{len(HOSTILE_HTML)}"
        )
    ratio = results["bleach (before)"]["median_round_s"] / results["nh3 (now)"]["median_round_s"]
    print(f"nh3 is {ratio:.1f}x as fast on the same {len(inputs)} fragments")
    payload = {
        "inputs": {
            "hostile": len(HOSTILE_HTML),
            "lesson_markdown_cells": len(lessons),
            "characters": sum(map(len, inputs)),
        },
        "rounds": 7,
        "passes_per_round": 20,
        "results": results,
        "speedup": round(ratio, 1),
        "versions": {"bleach": version("bleach"), "nh3": version("nh3")},
        "python": platform.python_version(),
        "cpu": cpu(),
    }
    if args.json:
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
