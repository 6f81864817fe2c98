"""``python -m lessons_lib``: run the lesson series headlessly, list its parameters, sweep, build the book.

python -m lessons_lib run [--fast] [--only 04,05] [-p NAME VALUE]... [-f params.yaml] [--solutions]
python -m lessons_lib params
python -m lessons_lib sweep 04 -p hidden_units 64,128,256 -p epochs 5
python -m lessons_lib book
python -m lessons_lib course FOLDER [--only 00,05] [-p NAME VALUE]... [--force]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lessons_lib", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add_params(p):
        p.add_argument(
            "-p",
            "--parameter",
            nargs=2,
            action="append",
            default=[],
            metavar=("NAME", "VALUE"),
            help="set a parameter of every notebook that has it (repeatable)",
        )
        p.add_argument(
            "--fast",
            action="store_true",
            help="the offline sample and one epoch everywhere: a quick smoke run",
        )
        p.add_argument("--out", type=Path, help="output folder (default: build/ or build/sweep/)")

    run_p = sub.add_parser("run", help="execute the notebooks in order into build/notebooks/")
    add_params(run_p)
    run_p.add_argument("-f", "--parameters-file", help="YAML file of NAME: VALUE parameters")
    run_p.add_argument("--only", help="comma-separated lesson numbers, e.g. 04,05")
    run_p.add_argument(
        "--time-limit",
        type=float,
        default=runner.DEFAULT_TIME_LIMIT,
        metavar="SECONDS",
        help=f"stop a notebook that runs longer than this (default {runner.DEFAULT_TIME_LIMIT} s)",
    )
    run_p.add_argument(
        "--solutions",
        action="store_true",
        help="fill every exercise with its worked solution before running",
    )

    sub.add_parser("params", help="list the parameters with type, default and meaning")

    sweep_p = sub.add_parser("sweep", help="run one lesson for every combination of values")
    sweep_p.add_argument("lesson", help="lesson number, e.g. 04")
    add_params(sweep_p)
    sweep_p.add_argument("--jobs", type=int, help="parallel processes (default: the core count)")

    book_p = sub.add_parser("book", help="render executed notebooks as a static HTML site")
    book_p.add_argument("--src", type=Path, default=runner.ROOT / "build" / "notebooks")
    book_p.add_argument("--out", type=Path, default=runner.ROOT / "build" / "book")

    course_p = sub.add_parser(
        "course", help="write an nbgrader course (config + source/<lesson>/) from the lessons"
    )
    course_p.add_argument("folder", type=Path, help="the course folder (created if missing)")
    course_p.add_argument("--only", help="comma-separated lesson numbers (default: all)")
    course_p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter written into every course notebook that has it (repeatable)",
    )
    course_p.add_argument(
        "--force", action="store_true", help="replace course notebooks that already exist"
    )

    args = parser.parse_args(argv)
    if args.command == "course":
        return _course(args)
    if args.command == "params":
        from .params import SPECS

        print(f"{'name':20s} {'type':6s} {'default':12s} {'allowed':28s} {'lessons':24s} meaning")
        for p in SPECS.values():
            lessons = ",".join(p.lessons)
            print(
                f"{p.name:20s} {p.type_name:6s} {p.default!r:12s} {p.range_text():28s} "
                f"{lessons:24s} {p.help}"
            )
        return 0
    if args.command == "book":
        from .book import build_book

        try:
            index = build_book(args.src, args.out)
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"book: {index}")
        return 0
    raw = {}
    if getattr(args, "parameters_file", None):
        try:
            raw.update(runner.load_yaml_params(args.parameters_file))
        except runner.ParameterError as exc:
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr)
            return 2
    raw.update(dict(args.parameter))
    if args.command == "run":
        return runner.run(
            raw,
            only=args.only,
            fast=args.fast,
            solutions=args.solutions,
            out=args.out or runner.ROOT / "build",
            echo=print,
            time_limit=args.time_limit if args.time_limit > 0 else None,
        )
    return runner.sweep(
        args.lesson,
        raw,
        fast=args.fast,
        jobs=args.jobs,
        out=args.out or runner.ROOT / "build" / "sweep",
        echo=print,
    )


def _course(args) -> int:
    from .course import CourseError, write_course

    try:
        books = runner.select(args.only)
        values = runner.validate(dict(args.parameter), runner.all_parameters(books))
        written = write_course(args.folder, books, parameters=values, force=args.force)
    except (runner.ParameterError, CourseError, OSError) as exc:
        for problem in getattr(exc, "problems", None) or [str(exc)]:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    root = args.folder.expanduser().resolve()
    print(f"course: {root / 'nbgrader_config.py'}")
    for path in written:
        print(f"  {path.relative_to(root)}")
    print(f"next: cd {root} && nbgrader generate_assignment {written[0].parent.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
