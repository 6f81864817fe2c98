"""Peak memory of the MNIST loader on real and hostile files, beside the naive way.

python benchmarks/bench_loader_memory.py [--data ../shared/data]

Each case runs in a fresh Python; peak RSS is VmHWM from /proc (Linux) minus the same
process's baseline after `import numpy` and the loader. "naive" is what reading the whole
file first does (`numpy.load` of every npz member, `gzip.open(...).read()` of an IDX
file), as keras.datasets.mnist.load_data and this project's loader before the attack
issue did. Hostile files are made in a temporary folder (a 2 GB-expanding gzip under a
60,000-image header; an npz holding 3,000,000 blank images).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import struct
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import gzip, json, sys
    import numpy as np
    from lessons_lib import data
    from lessons_lib.metrics import peak_rss_mb
    how, path = sys.argv[1], sys.argv[2]
    base = peak_rss_mb()
    try:
        if how == "ours":
            result = data.read_idx(path) if path.endswith(".gz") else data.load_path(path)
        elif path.endswith(".gz"):
            raw = gzip.open(path).read()
            result = np.frombuffer(raw, np.uint8, offset=16)
        else:
            with np.load(path) as f:
                result = {k: f[k] for k in f.files}
        outcome = "loaded"
    except data.MnistDataError as exc:
        outcome = "refused"
    except MemoryError:
        outcome = "MemoryError"
    print(json.dumps({"peak_mb": round(peak_rss_mb() - base, 1), "outcome": outcome}))
    """
)


def measure(how: str, path: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, how, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    if result.returncode != 0:
        return {"peak_mb": None, "outcome": f"crashed ({result.returncode})"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def gzip_bomb(path: Path, count: int = 60000, megabytes: int = 2048) -> Path:
    """An IDX image file whose header claims ``count`` 28x28 images, followed by
    ``megabytes`` MB of zeros, gzipped (a few MB on disk)."""
    chunk = bytes(1 << 20)
    with gzip.open(path, "wb", compresslevel=6) as fh:
        fh.write(struct.pack(">BBBBIII", 0, 0, 8, 3, count, 28, 28))
        for _ in range(megabytes):
            fh.write(chunk)
    return path


def blank_npz(path: Path, n: int = 3_000_000) -> Path:
    """An npz in the Keras layout whose x_train holds ``n`` blank images (about 10 MB on disk)."""
    chunk = bytes(1 << 20)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": (n, 28, 28)}
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("x_train.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            for _ in range(n * 784 // len(chunk)):
                member.write(chunk)
            member.write(bytes(n * 784 % len(chunk)))
        for key, arr in [
            ("y_train", np.zeros(n, np.uint8)),
            ("x_test", np.zeros((10, 28, 28), np.uint8)),
            ("y_test", np.zeros(10, np.uint8)),
        ]:
            buf = io.BytesIO()
            np.save(buf, arr)
            zf.writestr(f"{key}.npy", buf.getvalue())
    return path


def hostile_files(folder: Path) -> dict[str, Path]:
    return {
        "gzip bomb (2 GB inside, 60,000-image header)": gzip_bomb(
            folder / "train-images-idx3-ubyte.gz"
        ),
        "npz of 3,000,000 blank images": blank_npz(folder / "blank.npz"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    cases = {}
    if (args.data / "mnist-full.npz").is_file():
        cases["official MNIST, npz (55 MB of arrays)"] = args.data / "mnist-full.npz"
    with tempfile.TemporaryDirectory() as tmp:
        cases.update(hostile_files(Path(tmp)))
        rows = []
        for name, path in cases.items():
            ours, naive = measure("ours", path), measure("naive", path)
            rows.append({"case": name, "file_mb": round(path.stat().st_size / 2**20, 1),
                         "ours": ours, "naive": naive})  # fmt: skip
    print("| file | size on disk | lessons_lib peak | outcome | naive read peak | outcome |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['case']} | {r['file_mb']} MB | {r['ours']['peak_mb']} MB | {r['ours']['outcome']} "
            f"| {r['naive']['peak_mb']} MB | {r['naive']['outcome']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
