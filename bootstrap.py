#!/usr/bin/env python3
"""Set up and run the lessons with nothing but Python: the logic behind every make target.

    python bootstrap.py lab            # .venv from the runtime lock, then JupyterLab on the lessons
    python bootstrap.py test [ARGS]    # .venv from the development lock, then the whole test suite
    python bootstrap.py run [ARGS]     # the headless runner (python -m lessons_lib run ARGS)
    python bootstrap.py book [ARGS]    # the static book
    python bootstrap.py lint           # ruff check and format --check
    python bootstrap.py lock           # re-resolve both locks (and binder/'s copy) with uv
    python bootstrap.py check-latest   # a separate .venv-latest with the newest releases, then the tests
    python bootstrap.py python         # which Python would be used, and why

The Makefile calls this file; on Windows, where there is no make, call it directly.
It picks a Python the lock supports: $PYTHON if set, else the newest of python3.13,
python3.12 and python3.11 found (on Windows, the `py` launcher's), and stops at once,
with one line, when there is none. It installs exactly the versions (and hashes) in a lock,
again whenever that lock or pyproject.toml changes:

    requirements-lock.txt      runtime: what learners, Binder and conda install (lab, run, book)
    requirements-dev-lock.txt  the runtime lock's versions plus the test tools (test, lint, CI)

Any Python 3.6 or newer can run this file itself; keep it to the standard library.
"""

import hashlib
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
LOCK = os.path.join(ROOT, "requirements-lock.txt")
DEV_LOCK = os.path.join(ROOT, "requirements-dev-lock.txt")
BINDER_LOCK = os.path.join(ROOT, "binder", "requirements.txt")
SUPPORTED = ((3, 13), (3, 12), (3, 11))  # newest first: what the lock is resolved for
WINDOWS = os.name == "nt"
PROBE = "import sys; v = sys.version_info; print('%d.%d.%d %s' % (v[0], v[1], v[2], v[3]))"
COMPILE = ["pip", "compile", "pyproject.toml", "--universal", "--generate-hashes", "--no-header",
           "--no-annotate", "--prerelease", "disallow", "--extra", "tensorflow", "--quiet"]  # fmt: skip
# The runtime lock first; the development lock adds the test tools under the runtime lock's
# versions (-c), so what CI tests is exactly what learners install.
LOCK_COMMANDS = [
    COMPILE + ["-o", "requirements-lock.txt"],
    COMPILE + ["--extra", "test", "--extra", "book", "-c", "requirements-lock.txt",
               "-o", "requirements-dev-lock.txt"],
]  # fmt: skip


class Refused(Exception):
    """A one-line reason to stop, printed without a traceback."""


def supported_text():
    return ", ".join("%d.%d" % v for v in reversed(SUPPORTED))


# --------------------------------------------------------------------------- which Python


def probe(command):
    """(major, minor, micro, releaselevel) of a Python command, or None if it does not run."""
    try:
        out = subprocess.run(
            command + ["-c", PROBE],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.stdout.split()
    if out.returncode != 0 or len(parts) != 2:
        return None
    try:
        major, minor, micro = (int(p) for p in parts[0].split("."))
    except ValueError:
        return None
    return major, minor, micro, parts[1]


def candidates():
    names = ["python%d.%d" % v for v in SUPPORTED] + ["python3", "python"]
    found = [[shutil.which(n)] for n in names if shutil.which(n)]
    if WINDOWS and shutil.which("py"):
        found = [["py", "-%d.%d" % v] for v in SUPPORTED] + found
    return found


def choose_python():
    """The command of a Python the lock supports, or Refused naming what was found."""
    given = os.environ.get("PYTHON", "").strip()
    commands = [[given]] if given else candidates()
    seen, good = [], []
    for command in commands:
        version = probe(command)
        if version is None:
            if given:
                raise Refused(
                    "PYTHON=%s does not run; give the path of a Python %s"
                    % (given, supported_text())
                )
            continue
        label = "%s %d.%d.%d%s" % (
            " ".join(command),
            version[0],
            version[1],
            version[2],
            "" if version[3] == "final" else " (" + version[3] + ")",
        )
        seen.append(label)
        if version[:2] in SUPPORTED and version[3] == "final":
            good.append((version, command))
    if not good:
        raise Refused(
            "no supported Python found (found: %s); install Python %s (python.org, or e.g. "
            "`sudo apt install python3.12 python3.12-venv`) or name one with PYTHON=/path/to/python3.12"
            % ("; ".join(seen) or "none", supported_text())
        )
    good.sort(key=lambda item: item[0], reverse=True)
    return good[0][1], good[0][0]


# --------------------------------------------------------------------------- the environment


def venv_python(venv):
    return (
        os.path.join(venv, "Scripts", "python.exe")
        if WINDOWS
        else os.path.join(venv, "bin", "python")
    )


def venv_tool(venv, name):
    folder = "Scripts" if WINDOWS else "bin"
    return os.path.join(venv, folder, name + (".exe" if WINDOWS else ""))


def fingerprint(python_version, lock):
    digest = hashlib.sha256()
    for path in (lock, os.path.join(ROOT, "pyproject.toml")):
        with open(path, "rb") as fh:
            digest.update(fh.read())
    digest.update(("%d.%d" % python_version[:2]).encode())
    return digest.hexdigest()


def run(command, **kwargs):
    print("+ " + " ".join(command), flush=True)
    result = subprocess.run(command, **kwargs)
    if result.returncode != 0:
        raise SystemExit(result.returncode)


def ensure_venv(venv=None, locked=True, lock=LOCK):
    """Create ``venv`` (default .venv) with a supported Python and install ``lock`` into it.

    The development lock holds every runtime pin, so a venv made for `test` also serves `lab`."""
    venv = venv or os.path.join(ROOT, ".venv")
    python = venv_python(venv)
    current = probe([python]) if os.path.exists(python) else None
    if current is None or current[:2] not in SUPPORTED:
        command, version = choose_python()
        if os.path.exists(venv):
            print("Recreating %s (its Python is missing or unsupported)" % venv)
            shutil.rmtree(venv)
        print(
            "Creating %s with Python %d.%d.%d (%s)" % ((venv,) + version[:3] + (" ".join(command),))
        )
        result = subprocess.run(command + ["-m", "venv", venv])
        if result.returncode != 0:
            raise Refused(
                "'%s -m venv' failed; on Debian or Ubuntu: sudo apt-get install python3-venv "
                "(or python3.X-venv for your version)" % " ".join(command)
            )
        current = probe([python])
    if not locked:
        return venv
    stamp = os.path.join(venv, ".installed-stamp")
    want = fingerprint(current, lock)
    good = {want} | ({fingerprint(current, DEV_LOCK)} if lock == LOCK else set())
    have = open(stamp).read().strip() if os.path.exists(stamp) else ""
    if have not in good:
        run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", lock])
        run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "-e",
                ROOT,
            ]
        )
        # the kernel hook: quiet TensorFlow logs, one-line answers after a restart or interrupt
        run([python, "-m", "lessons_lib.session", "install"])
        with open(stamp, "w") as fh:
            fh.write(want + "\n")
    return venv


def absolute_mnist_path():
    """The kernels run inside notebooks/: a relative MNIST_PATH is made absolute here."""
    value = os.environ.get("MNIST_PATH")
    if value:
        os.environ["MNIST_PATH"] = os.path.abspath(value)


# --------------------------------------------------------------------------- targets


def target_lab(venv, args):
    extra = ["--allow-root"] if not WINDOWS and hasattr(os, "getuid") and os.getuid() == 0 else []
    lab = venv_tool(venv, "jupyter")
    run([lab, "lab"] + extra + [os.path.join("notebooks", "00_start_here.ipynb")] + args, cwd=ROOT)


def target_test(venv, args):
    run([venv_python(venv), "-m", "pytest"] + args, cwd=ROOT)


def target_runner(command):
    def target(venv, args):
        run([venv_python(venv), "-m", "lessons_lib", command] + args, cwd=ROOT)

    return target


def target_lint(venv, args):
    ruff = venv_tool(venv, "ruff")
    run([ruff, "check", "."], cwd=ROOT)
    run([ruff, "format", "--check", "."], cwd=ROOT)


def target_lock(args):
    venv = ensure_venv(locked=False)
    uv = venv_tool(venv, "uv")
    if not os.path.exists(uv):
        run([venv_python(venv), "-m", "pip", "install", "--quiet", "uv"])
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    for command in LOCK_COMMANDS:
        run([uv] + command + args, cwd=ROOT, env=env)
    os.makedirs(os.path.dirname(BINDER_LOCK), exist_ok=True)
    shutil.copyfile(LOCK, BINDER_LOCK)
    print(
        "wrote requirements-lock.txt, requirements-dev-lock.txt and binder/requirements.txt "
        "(a copy of the first); commit all three"
    )


def target_check_latest(args):
    """The newest releases of everything (no lock) in .venv-latest, then the tests."""
    venv = ensure_venv(os.path.join(ROOT, ".venv-latest"), locked=False)
    python = venv_python(venv)
    run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([python, "-m", "pip", "install", "--quiet", "--upgrade", "--upgrade-strategy", "eager",
         "-e", ROOT + "[tensorflow,test,book]"])  # fmt: skip
    freeze = subprocess.run(
        [python, "-m", "pip", "freeze", "--exclude-editable"],
        stdout=subprocess.PIPE,
        text=True,
    ).stdout.split()
    locked = {}
    with open(DEV_LOCK) as fh:
        for line in fh:
            spec = line.split(";")[0].split("\\")[0].strip()
            if "==" in spec:
                name, version = spec.split("==")
                locked.setdefault(name.lower().replace("_", "-"), set()).add(version)
    newer = []
    for line in freeze:
        if "==" in line:
            name, version = line.split("==")
            key = name.lower().replace("_", "-")
            if key in locked and version not in locked[key]:
                newer.append("%s %s (locked %s)" % (name, version, ", ".join(sorted(locked[key]))))
    print("newer than the lock: " + ("; ".join(newer) or "nothing"))
    # this venv holds the newest releases on purpose: the check that pins were installed does not apply
    pinned = "tests/test_packaging.py::test_installed_versions_are_the_locked_ones"
    run([python, "-m", "pytest", "--deselect", pinned] + args, cwd=ROOT)


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    target, args = argv[0], argv[1:]
    targets = {
        "lab": target_lab,
        "test": target_test,
        "run": target_runner("run"),
        "book": target_runner("book"),
        "lint": target_lint,
    }
    needs_dev_lock = ("test", "lint")  # the test tools; the others need only the runtime lock
    try:
        if target == "python":
            command, version = choose_python()
            print("Python %d.%d.%d: %s" % (version[:3] + (" ".join(command),)))
            return 0
        if target == "lock":
            target_lock(args)
            return 0
        if target == "check-latest":
            target_check_latest(args)
            return 0
        if target not in targets:
            raise Refused(
                "unknown target %r; choose one of: %s, lock, check-latest, python"
                % (target, ", ".join(targets))
            )
        absolute_mnist_path()
        lock = DEV_LOCK if target in needs_dev_lock else LOCK
        targets[target](ensure_venv(lock=lock), args)
    except Refused as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
