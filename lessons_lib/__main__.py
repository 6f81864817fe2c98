"""``python -m lessons_lib``: run the lesson series headlessly, list its parameters, sweep, build the book.

python -m lessons_lib run [--fast] [--only 04,05] [-p NAME VALUE]... [-f params.yaml] [--solutions]
python -m lessons_lib params
python -m lessons_lib sweep 04 -p hidden_units 64,128,256 -p epochs 5
python -m lessons_lib book
python -m lessons_lib init FOLDER      (copy the nine lessons into FOLDER, e.g. course)
python -m lessons_lib course FOLDER [--only 00,05] [-p NAME VALUE]... [--force]   (nbgrader)

Each subcommand is one entry in ``COMMANDS``: its help line, a function adding its
arguments and a function running it (returning the exit code). Bad input of any kind
gives ``error: ...`` lines on stderr and exit code 2 before anything runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import runner
from .params import ParameterError


@dataclass(frozen=True)
class Command:
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], int]


def _fail(problems: list[str]) -> int:
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 2


def _parameter_argument(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help=help,
    )


def _common_arguments(p: argparse.ArgumentParser, default_out: Path) -> None:
    _parameter_argument(p, "set a parameter of every notebook that has it (repeatable)")
    p.add_argument(
        "--fast",
        action="store_true",
        help="the offline sample and one epoch everywhere: a quick smoke run",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=default_out,
        help=f"the run's own folder: new, empty, or made by an earlier run (default: {default_out})",
    )


def _raw_parameters(args: argparse.Namespace) -> dict:
    """The YAML file's values, then the -p values over them; ParameterError for either."""
    raw = {}
    if getattr(args, "parameters_file", None):
        raw.update(runner.load_yaml_params(args.parameters_file))
    raw.update(runner.command_line(args.parameter))
    return raw


# --------------------------------------------------------------------------- run


def _time_limit_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--time-limit",
        default=str(runner.DEFAULT_TIME_LIMIT),
        metavar="SECONDS",
        help=f"stop a notebook that runs longer than this (default {runner.DEFAULT_TIME_LIMIT} s; "
        "none for no limit)",
    )


def _run_arguments(p: argparse.ArgumentParser) -> None:
    _common_arguments(p, runner.DEFAULT_OUT)
    p.add_argument("-f", "--parameters-file", help="YAML file of NAME: VALUE parameters")
    p.add_argument("--only", help="comma-separated lesson numbers, e.g. 04,05")
    _time_limit_argument(p)
    p.add_argument(
        "--solutions",
        action="store_true",
        help="fill every exercise with its worked solution before running",
    )


def _run(args: argparse.Namespace) -> int:
    try:
        raw = _raw_parameters(args)
    except ParameterError as exc:
        return _fail(exc.problems)
    return runner.run(
        raw,
        only=args.only,
        fast=args.fast,
        solutions=args.solutions,
        out=args.out,
        echo=print,
        time_limit=args.time_limit,
    )


# --------------------------------------------------------------------------- params


def _params(args: argparse.Namespace) -> int:
    from .params import SPECS

    print(f"{'name':20s} {'type':6s} {'default':12s} {'allowed':28s} {'lessons':24s} meaning")
    for p in SPECS.values():
        lessons = ",".join(p.lessons)
        print(
            f"{p.name:20s} {p.type_name:6s} {p.default!r:12s} {p.range_text():28s} "
            f"{lessons:24s} {p.help}"
        )
    return 0


# --------------------------------------------------------------------------- sweep


def _sweep_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lesson", help="lesson number, e.g. 04")
    _common_arguments(p, runner.ROOT / "build" / "sweep")
    p.add_argument("--jobs", help="parallel kernels (default: the core count)")
    _time_limit_argument(p)
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run each configuration as a task on this Dask cluster (tcp://host:8786); "
        "default: a local cluster on this machine",
    )


def _sweep(args: argparse.Namespace) -> int:
    try:
        raw = _raw_parameters(args)
    except ParameterError as exc:
        return _fail(exc.problems)
    return runner.sweep(
        args.lesson,
        raw,
        fast=args.fast,
        jobs=args.jobs,
        out=args.out,
        echo=print,
        scheduler=args.scheduler,
        time_limit=args.time_limit,
    )


# --------------------------------------------------------------------------- book


def _book_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--src", type=Path, default=runner.DEFAULT_OUT / "notebooks")
    p.add_argument("--out", type=Path, default=runner.ROOT / "build" / "book")


def _book(args: argparse.Namespace) -> int:
    from .book import build_book

    try:
        index = build_book(args.src, args.out)
    except ParameterError as exc:
        return _fail(exc.problems)
    print(f"book: {index}")
    return 0


# --------------------------------------------------------------------------- init


def _init_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", type=Path, help="where to put them (created if missing)")


def _init(args: argparse.Namespace) -> int:
    from .init_course import InitRefused, init

    try:
        print(init(args.folder))
    except InitRefused as exc:
        return _fail([str(exc)])
    return 0


# --------------------------------------------------------------------------- course


def _course_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", type=Path, help="the course folder (created if missing)")
    p.add_argument("--only", help="comma-separated lesson numbers (default: all)")
    _parameter_argument(
        p, "a parameter written into every course notebook that has it (repeatable)"
    )
    p.add_argument("--force", action="store_true", help="replace course notebooks that exist")


def _course(args: argparse.Namespace) -> int:
    from .course import CourseError, write_course

    try:
        books = runner.select(args.only)
        values = runner.validate(_raw_parameters(args), runner.all_parameters(books))
        written = write_course(args.folder, books, parameters=values, force=args.force)
    except ParameterError as exc:
        return _fail(exc.problems)
    except (CourseError, OSError) as exc:
        return _fail([str(exc)])
    root = args.folder.expanduser().resolve()
    print(f"course: {root / 'nbgrader_config.py'}")
    for path in written:
        print(f"  {path.relative_to(root)}")
    print(f"next: cd {root} && nbgrader generate_assignment {written[0].parent.name}")
    return 0


COMMANDS: dict[str, Command] = {
    "run": Command("execute the notebooks in order into build/run/", _run_arguments, _run),
    "params": Command(
        "list the parameters with type, default and meaning", lambda p: None, _params
    ),
    "sweep": Command("run one lesson for every combination of values", _sweep_arguments, _sweep),
    "book": Command("render executed notebooks as a static HTML site", _book_arguments, _book),
    "init": Command("copy the nine lessons into a course folder", _init_arguments, _init),
    "course": Command(
        "write an nbgrader course (config + source/<lesson>/) from the lessons",
        _course_arguments,
        _course,
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lessons_lib", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        command.arguments(sub.add_parser(name, help=command.help))
    args = parser.parse_args(argv)
    return COMMANDS[args.command].handler(args)


if __name__ == "__main__":
    sys.exit(main())
