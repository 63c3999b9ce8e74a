"""Start-up: the wall time of ``arcnn`` commands from process start, each in a fresh process.

    python -m benchmarks.startup [--runs 5] [--write]

Times ``arcnn --help`` and the README's first restore (the shipped 512×512 colour q10 sample to a
PNG: its luminance and chroma restored) as a user runs them, ``python -m arcnn ...`` in a new
process each time, after one unmeasured run that warms the file cache; reports the median of
``--runs``, for the default engine (ONNX Runtime: as it is, with ``--ensemble 1`` and with
``--fast``) and for ``--backend torch``, with the CPU time the process used (its share of a busy
machine does not change it much) and whether the command imported PyTorch; and the floor no
engine goes below in float32 with the defaults: the multiply-adds of the networks the restore runs
(from the FLOP counter) at this machine's float32 matrix-product ceiling, measured in the same run.
No research data needed. ``--write`` puts the table into its block in docs/speed.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from arcnn.sample import sample_path
from benchmarks._common import publish

SAMPLE = "astronaut-q10.jpg"

# Runs ``python -m arcnn ARGS`` and exits 99 when PyTorch was imported, else with arcnn's own code.
TORCH_PROBE = """
import runpy, sys
try:
    runpy.run_module("arcnn", run_name="__main__", alter_sys=True)
except SystemExit as e:
    code = e.code
sys.exit(99 if "torch" in sys.modules else code)
"""


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of ``python -m arcnn ARGV`` from its start to its exit (exit code 0 required);
    CPU: user + system time of the process and its threads."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "arcnn", *argv], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def imports_torch(argv: list[str]) -> bool:
    code = subprocess.run([sys.executable, "-c", TORCH_PROBE, *argv], stdout=subprocess.DEVNULL).returncode
    if code not in (0, 99):
        raise SystemExit(f"arcnn {' '.join(argv)} failed (exit {code})")
    return code == 99


def median_times(argv: list[str], runs: int) -> tuple[float, float]:
    """The median (wall, CPU) seconds of ``runs`` fresh processes, after one unmeasured run."""
    timed(argv)
    walls, cpus = zip(*(timed(argv) for _ in range(runs)))
    return statistics.median(walls), statistics.median(cpus)


def network_floor() -> tuple[str, float, float]:
    """(the networks the sample's restore runs, with their passes, their G multiply-adds, seconds at
    the float32 ceiling). The sample is a colour JPEG: its passes are the colour self-ensembles."""
    import torch

    from arcnn.files import open_image
    from arcnn.flops import macs_per_pixel
    from arcnn.policy import chroma_model, ensembles, pick_model
    from arcnn.zoo import load_model
    from benchmarks._common import matmul_ceiling

    with open_image(sample_path(SAMPLE).read_bytes()) as im:
        runs = list(zip([pick_model("auto", im), chroma_model(im, "auto")], ensembles(None)[1:]))
        pixels = im.width * im.height
    runs = [(n, k) for n, k in runs if n]
    gmacs = sum(k * macs_per_pixel(load_model(n)) for n, k in runs) * pixels / 1e9
    names = ", ".join(f"{n} × {k}" for n, k in runs)
    return names, gmacs, 2 * gmacs / matmul_ceiling(torch.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="fresh processes per command (median)")
    ap.add_argument("--write", action="store_true", help="update the startup block (docs/speed.md)")
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    names, gmacs, floor = network_floor()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "restored.png")
        restore = ["restore", str(sample_path(SAMPLE)), "-o", out, "-q", "--overwrite"]
        commands = [
            ("`arcnn --help`", "", ["--help"]),
            (f"`arcnn restore {SAMPLE} -o out.png`", "default (ONNX Runtime)", restore),
            (f"`arcnn restore {SAMPLE} -o out.png --ensemble 1`", "default, one pass each",
             [*restore, "--ensemble", "1"]),
            (f"`arcnn restore {SAMPLE} -o out.png --fast`", "default, the fast tier", [*restore, "--fast"]),
            (f"`arcnn restore {SAMPLE} -o out.png --backend torch`", "PyTorch float32",
             [*restore, "--backend", "torch"]),
        ]  # fmt: skip
        for label, engine, command in commands:
            wall, cpu = median_times(command, args.runs)
            torch = "yes" if imports_torch(command) else "no"
            rows.append(f"| {label} | {engine} | **{wall:.2f}** | {cpu:.2f} | {torch} |")
            print(rows[-1], file=sys.stderr, flush=True)
    lines = [
        f"Run of {time.strftime('%Y-%m-%d')}: from process start to exit, median of {args.runs} fresh "
        f"processes (`python -m benchmarks.startup`); {os.cpu_count()} CPU cores, load average {load:.1f} "
        "when it started. The restore is the shipped 512×512 colour q10 sample, luminance and chroma "
        f"restored: its networks ({names}) do {gmacs:.1f} G multiply-adds, {floor:.2f} s at this "
        "machine's float32 matrix-product ceiling measured in the same run.",
        "",
        "| command | engine | wall seconds | CPU seconds | imports PyTorch |",
        "|---|---|---|---|---|",
        *rows,
    ]
    publish("startup", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
