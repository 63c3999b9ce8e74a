"""Shared by the benchmark scripts: where the research data is, and the paper's numbers."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from arcnn.data import shared_data_dir

# Dong et al. 2015, Table 1 (LIVE1): (PSNR dB, SSIM, PSNR-B dB).
PAPER_JPEG = {10: (27.77, 0.7905, 25.33), 20: (30.07, 0.8683, 27.57), 30: (31.41, 0.9000, 28.92),
              40: (32.35, 0.9173, 29.96)}  # fmt: skip
PAPER_ARCNN = {10: (29.13, 0.8232, 28.74), 20: (31.40, 0.8886, 30.69), 30: (32.69, 0.9166, 32.15),
               40: (33.63, 0.9306, 33.12)}  # fmt: skip

# Dong et al. 2015, Table 1 (LIVE1), the SA-DCT row (Foi et al. 2007) as the paper reports it.
PAPER_SADCT = {10: (28.65, 0.8093, 28.01), 20: (30.81, 0.8781, 29.82), 30: (32.08, 0.9078, 31.27),
               40: (32.99, 0.9240, 32.35)}  # fmt: skip


def require_data(name: str) -> Path:
    """The folder ``name`` of the shared research data, or exit 2 saying it is missing."""
    path = shared_data_dir() / name
    if not path.is_dir():
        print(
            f"research data missing: {path} does not exist. These benchmarks need ../shared/data "
            "beside the project (or ARCNN_DATA=/path/to/data); nothing was measured.",
            file=sys.stderr,
        )
        sys.exit(2)
    return path


ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def write_readme_block(name: str, text: str, path: Path = README) -> None:
    """Replace the ``<!-- name:start -->`` ... ``<!-- name:end -->`` block of ``path`` with ``text``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    old = path.read_text()
    i, j = old.find(start), old.find(end)
    if i < 0 or j < i:
        raise SystemExit(f"{path.name} has no {start} ... {end} block")
    path.write_text(old[: i + len(start)] + "\n" + text + "\n" + old[j:])


def publish(block: str, lines: list[str], write: bool) -> None:
    """Print a benchmark's result, and with ``write`` also make it the README's ``block``."""
    text = "\n".join(lines)
    print(text)
    if write:
        write_readme_block(block, text)


def matmul_ceiling(dtype: torch.dtype, n: int = 2048, seconds: float = 3.0) -> float:
    """The machine's best GFLOP/s on an n x n matrix product in ``dtype``, with torch's threads."""
    a, b = torch.rand(n, n).to(dtype), torch.rand(n, n).to(dtype)
    torch.mm(a, b)
    best, t_end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * n**3 / (time.perf_counter() - t) / 1e9)
    return best
