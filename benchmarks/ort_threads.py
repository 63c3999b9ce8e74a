"""ONNX Runtime's idle worker threads: spinning against sleeping, file to file.

    python -m benchmarks.ort_threads [--files 10] [--repeats 3] [--write]

``arcnn.export.OnnxModel`` lets its intra-op worker threads sleep when they run out of work
(``session.intra_op.allow_spinning`` "0", ``arcnn.export.SPIN``) instead of ONNX Runtime's default,
spinning. This measures that choice as users meet it: ``arcnn restore`` in a fresh process, the
setting flipped and nothing else, the two alternating ``--repeats`` times: on the first
``--files`` LIVE1 images as colour q20 JPEGs with ``--fast``, on the same images as grayscale q20
JPEGs with the defaults (``arcnn-q20``), and on the shipped 512×512 colour sample with ``--fast``
(the start-up table's restore). Wall and CPU seconds (the process and its threads), the least and
most of the repeats. ``--write`` puts the table into its block in docs/speed.md. Exits 2 without the
research data.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import startup
from benchmarks._common import publish, require_data
from benchmarks.png_level import jpeg_bytes

SETTINGS = {"0": "sleep (arcnn)", "1": "spin (ONNX Runtime's default)"}
# The child: arcnn restore with SPIN set before any session starts.
CHILD = (
    "import sys, arcnn.export as e; e.SPIN = sys.argv[1]; "
    "from arcnn.cli import main; sys.exit(main(sys.argv[2:]))"
)


def setup_args() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=10, help="LIVE1 images (1..29)")
    p.add_argument("--repeats", type=int, default=3, help="runs of each setting, alternating")
    p.add_argument("--write", action="store_true", help="publish the table into docs/speed.md")
    return p


def timed(spin: str, argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of ``arcnn ARGV`` in a fresh process with ``SPIN = spin``."""
    return startup.timed(["-c", CHILD, spin, *argv])


def cases(live1: Path, tmp: Path, n: int) -> list[tuple[str, list[str]]]:
    """(label, arcnn argv) of each measured command; writes its inputs under ``tmp``."""
    from arcnn.data import list_images
    from arcnn.sample import sample_path

    for kind in ("colour", "gray"):
        (tmp / kind).mkdir()
        for path in list_images(live1)[:n]:
            (tmp / kind / f"{path.stem}.jpg").write_bytes(jpeg_bytes(path, kind, 20))
    out = ["-o", str(tmp / "out") + "/", "-q", "--overwrite"]
    sample = str(sample_path("astronaut-q10.jpg"))
    return [
        (f"{n} LIVE1 colour q20 JPEGs, `--fast`", ["restore", str(tmp / "colour"), *out, "--fast"]),
        (f"{n} LIVE1 grayscale q20 JPEGs, defaults", ["restore", str(tmp / "gray"), *out]),
        ("the 512×512 colour sample, `--fast`", ["restore", sample, *out, "--fast"]),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = setup_args().parse_args(argv)
    live1 = require_data("live1")
    n = min(max(args.files, 1), 29)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, command in cases(live1, Path(folder), n):
            times: dict[str, list[tuple[float, float]]] = {s: [] for s in SETTINGS}
            timed("0", command)  # unmeasured: the file cache and the bytecode
            for _ in range(max(1, args.repeats)):
                for spin in SETTINGS:
                    times[spin].append(timed(spin, command))
            for spin, name in SETTINGS.items():
                walls, cpus = zip(*times[spin])
                span = f"{min(walls):.2f}–{max(walls):.2f} | {min(cpus):.2f}–{max(cpus):.2f}"
                rows.append(f"| {label} | {name} | {span} |")
                print(rows[-1], file=sys.stderr, flush=True)
    lines = [
        f"Run of {time.strftime('%Y-%m-%d')}: `arcnn restore` in a fresh process, ONNX Runtime float32, "
        f"{os.cpu_count()} CPU cores; each setting {args.repeats} times, alternating with the other, the "
        "least and most wall and CPU seconds (`python -m benchmarks.ort_threads`).",
        "",
        "| restore | idle worker threads | wall seconds | CPU seconds |",
        "|---|---|---|---|",
        *rows,
    ]
    publish("ort-threads", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
