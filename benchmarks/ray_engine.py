"""``arcnn restore`` on 200 files: the local engine against ``--engine ray`` with 1 and 2 workers.

    python -m benchmarks.ray_engine [--files 200] [--write]

Generates ``--files`` small colour q10 JPEGs (256x192, no research data needed) in a temporary
folder, restores the folder with each engine as a user would (``python -m arcnn restore DIR -o OUT/``,
the default model and backend), and reports each run's summary line (images/s, MP/s: the job once
Ray is up, actor start-up and model load included), the Ray/local throughput ratio (target >= 0.85)
and the peak resident memory (``VmHWM``) of each Ray worker, sampled from /proc while it runs.
``--write`` puts the table into its block in docs/scale-out.md.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks._common import publish

COMMAND = "python -m benchmarks.ray_engine --write"
SUMMARY = re.compile(r"restored (\d+), skipped (\d+), failed (\d+), ([\d.]+) images/s, ([\d.]+) MP/s")


def make_jpegs(folder: Path, n: int) -> None:
    """``n`` smooth colour 256x192 images with texture, saved as quality-10 JPEGs."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:192, 0:256] / 256
    for i in range(n):
        a, b = rng.uniform(2, 9, 2)
        planes = [128 + 80 * np.sin(a * xx + c + i) * np.cos(b * yy - c) for c in range(3)]
        img = np.stack(planes, -1) + rng.normal(0, 6, (192, 256, 3))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"img{i:04d}.jpg", quality=10)


class WorkerMemory:
    """Peak resident memory of each Ray restoring actor, sampled from /proc every half second."""

    def __init__(self) -> None:
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> WorkerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            for proc in Path("/proc").glob("[0-9]*"):
                try:
                    if b"RestoreActor" not in (proc / "cmdline").read_bytes():
                        continue
                    status = (proc / "status").read_text()
                except OSError:
                    continue
                hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
                if hwm:
                    self.peaks[int(proc.name)] = max(self.peaks.get(int(proc.name), 0), int(hwm.group(1)))


def restore(src: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """Run ``arcnn restore`` on the folder; its images/s and MP/s."""
    cmd = [sys.executable, "-m", "arcnn", "restore", str(src), "-o", f"{out}/", "-q", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    m = SUMMARY.search(done.stdout)
    if done.returncode != 0 or m is None or int(m.group(3)):
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-2000:]}")
    return float(m.group(4)), float(m.group(5))


def measure(n: int) -> list[str]:
    """The table: one row per engine."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        make_jpegs(src, n)
        local = restore(src, Path(tmp) / "local", [])
        local_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows = [f"| local | 1 process | {local[0]:.2f} | {local[1]:.3f} | 1.00 | {local_rss:.0f} |"]
        for workers in (1, 2):
            with WorkerMemory() as mem:
                ips, mps = restore(
                    src, Path(tmp) / f"ray{workers}", ["--engine", "ray", "--workers", str(workers)]
                )
            peaks = ", ".join(f"{kb / 1024:.0f}" for kb in sorted(mem.peaks.values())) or "n/a"
            rows.append(f"| ray | {workers} worker{'s' * (workers > 1)} | {ips:.2f} | {mps:.3f} | "
                        f"{ips / local[0]:.2f} | {peaks} |")  # fmt: skip
    cpus = os.cpu_count()
    return [
        f"`{COMMAND}`: {n} colour q10 JPEGs of 256x192, default model and backend, {cpus} CPUs, "
        "measured while a niced training process shared the machine.",
        "",
        "| engine | workers | images/s | MP/s | ratio to local | peak RSS per process (MB) |",
        "|---|---|---:|---:|---:|---|",
        *rows,
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=200, help="JPEGs to generate and restore")
    ap.add_argument("--write", action="store_true", help="publish into docs/scale-out.md")
    args = ap.parse_args(argv)
    publish("ray-engine", measure(args.files), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
