"""Start-up: the wall time of ``arcnn`` commands from process start, each in a fresh process.

    python -m benchmarks.startup [--runs 5] [--write]

Times ``arcnn --help`` and the README's first restore (the shipped 512×512 colour q10 sample to a
PNG: its luminance and chroma restored) as a user runs them, ``python -m arcnn ...`` in a new
process each time, after one unmeasured run that warms the file cache; reports the median of
``--runs``, for the default engine (ONNX Runtime: as it is, with ``--ensemble 1`` and with
``--fast``) and for ``--backend torch``, with the CPU time the process used (its share of a busy
machine does not change it much) and whether the command imported PyTorch; and for each restore
the floor no float32 engine goes below: the multiply-adds of the networks it runs (from the FLOP
counter) at this machine's float32 matrix-product ceiling, measured in the same run. The processes
keep Python's bytecode cache, as an installed package does (the unmeasured run writes it, even
where ``PYTHONDONTWRITEBYTECODE`` is set). No research data needed. ``--write`` puts the table
into its block in docs/speed.md.
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
TARGETS = {"help": 0.3, "restore": 0.6}  # issue 22: wall seconds from process start
# Each process as an installed package runs: with its modules' bytecode cached.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# Runs ``python -m arcnn ARGS`` and exits 99 when PyTorch was imported, else with arcnn's own code:
# checked at exit, in an atexit callback, which arcnn's exit runs (arcnn.__main__.finish).
TORCH_PROBE = """
import atexit, os, runpy, sys
atexit.register(lambda: "torch" in sys.modules and os._exit(99))
runpy.run_module("arcnn", run_name="__main__", alter_sys=True)
"""


# What every restore on ONNX Runtime pays whatever its image: Python's start and exit, and its imports
# (ended as arcnn ends, by arcnn.__main__.finish).
FLOORS = [
    ("`python -c pass`", "Python alone", ["-c", "pass"]),
    ("`python -c 'import arcnn.cli, arcnn.pipeline, onnxruntime'`", "Python and a restore's imports",
     ["-c", "import arcnn.cli, arcnn.pipeline, arcnn.export, onnxruntime, PIL.PngImagePlugin\n"
            "from arcnn.__main__ import finish; finish(0)"]),
]  # fmt: skip


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of ``python -m arcnn ARGV`` (or ``python ARGV`` when ARGV starts with
    ``-c``) from its start to its exit (exit code 0 required); CPU: user + system time of the process
    and its threads."""
    command = [sys.executable, *argv] if argv[:1] == ["-c"] else [sys.executable, "-m", "arcnn", *argv]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def imports_torch(argv: list[str]) -> bool:
    code = subprocess.run(
        [sys.executable, "-c", TORCH_PROBE, *argv], stdout=subprocess.DEVNULL, env=ENV
    ).returncode
    if code not in (0, 99):
        raise SystemExit(f"arcnn {' '.join(argv)} failed (exit {code})")
    return code == 99


def median_times(argv: list[str], runs: int) -> tuple[float, float]:
    """The median (wall, CPU) seconds of ``runs`` fresh processes, after one unmeasured run."""
    timed(argv)
    walls, cpus = zip(*(timed(argv) for _ in range(runs)))
    return statistics.median(walls), statistics.median(cpus)


def networks(fast: bool = False, ensemble: int | None = None) -> tuple[str, float]:
    """(the networks the sample's restore runs, with their passes; their G multiply-adds) for
    ``arcnn restore`` with ``--fast`` and ``--ensemble``. The sample is a colour JPEG: its passes
    are the colour self-ensembles unless ``ensemble`` or ``fast`` says otherwise."""
    from arcnn.files import open_image
    from arcnn.flops import macs_per_pixel
    from arcnn.policy import chroma_model, ensembles, pick_model
    from arcnn.zoo import load_model

    with open_image(sample_path(SAMPLE).read_bytes()) as im:
        picks = [pick_model("auto", im, fast), chroma_model(im, "auto", fast)]
        runs = list(zip(picks, ensembles(ensemble, fast)[1:]))
        pixels = im.width * im.height
    runs = [(n, k) for n, k in runs if n]
    gmacs = sum(k * macs_per_pixel(load_model(n)) for n, k in runs) * pixels / 1e9
    return ", ".join(f"{n} × {k}" for n, k in runs), gmacs


def ceiling() -> float:
    """This machine's float32 matrix-product rate, GFLOP/s."""
    import torch

    from benchmarks._common import matmul_ceiling

    return matmul_ceiling(torch.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="fresh processes per command (median)")
    ap.add_argument("--write", action="store_true", help="update the startup block (docs/speed.md)")
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    gflops = ceiling()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "restored.png")
        restore = ["restore", str(sample_path(SAMPLE)), "-o", out, "-q", "--overwrite"]
        # (label, engine, argv, networks: None for --help, else (--fast, --ensemble))
        commands = [
            ("`arcnn --help`", "", ["--help"], None),
            (f"`arcnn restore {SAMPLE} -o out.png`", "default (ONNX Runtime)", restore, (False, None)),
            (f"`arcnn restore {SAMPLE} -o out.png --ensemble 1`", "default, one pass each",
             [*restore, "--ensemble", "1"], (False, 1)),
            (f"`arcnn restore {SAMPLE} -o out.png --fast`", "default, the fast tier", [*restore, "--fast"],
             (True, None)),
            (f"`arcnn restore {SAMPLE} -o out.png --backend torch`", "PyTorch float32",
             [*restore, "--backend", "torch"], (False, None)),
        ]  # fmt: skip
        for label, engine, command, nets in commands:
            wall, cpu = median_times(command, args.runs)
            torch = "yes" if imports_torch(command) else "no"
            rows.append(row(label, engine, wall, cpu, torch, nets, gflops))
            print(rows[-1], file=sys.stderr, flush=True)
        for label, engine, command in FLOORS:
            wall, cpu = median_times(command, args.runs)
            rows.append(f"| {label} | {engine} | {wall:.2f} |  | {cpu:.2f} | no |  |")
    lines = [
        f"Run of {time.strftime('%Y-%m-%d')}: from process start to exit, median of {args.runs} fresh "
        f"processes (`python -m benchmarks.startup`); {os.cpu_count()} CPU cores, load average {load:.1f} "
        "when it started. The restores are of the shipped 512×512 colour q10 sample, luminance and chroma "
        "restored; the networks column gives what they run, their multiply-adds and the seconds those "
        f"take at this machine's float32 matrix-product ceiling measured in the same run ({gflops:.0f} "
        f"GFLOP/s). Targets: `arcnn --help` under {TARGETS['help']} s, a restore under "
        f"{TARGETS['restore']} s. The last two rows are what every restore on ONNX Runtime pays, whatever "
        "its image: Python's start and exit, then with the modules a restore imports.",
        "",
        "| command | engine | wall seconds | target met | CPU seconds | imports PyTorch "
        "| networks: G multiply-adds, seconds at the ceiling |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    publish("startup", lines, args.write)
    return 0


def row(
    label: str, engine: str, wall: float, cpu: float, torch: str, nets: tuple | None, gflops: float
) -> str:
    """One table row; ``nets``: (``--fast``, ``--ensemble``) of a restore, None for ``--help``."""
    met = "yes" if wall < TARGETS["help" if nets is None else "restore"] else "**no**"
    cost = ""
    if nets is not None:
        names, gmacs = networks(*nets)
        cost = f"{names}: {gmacs:.1f}, {2 * gmacs / gflops:.2f} s"
    return f"| {label} | {engine} | **{wall:.2f}** | {met} | {cpu:.2f} | {torch} | {cost} |"


if __name__ == "__main__":
    sys.exit(main())
