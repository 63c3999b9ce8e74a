"""Shared by the benchmarks and experiments: where the research data is, the paper's numbers, how
results are published into README.md and docs/, and how the library is called the same way by all.

Run every script from the project root as a module: ``python -m benchmarks.NAME`` or
``python -m experiments.NAME`` (``--help`` says what each measures).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from arcnn.data import shared_data_dir
from arcnn.files import write_bytes_atomic
from arcnn.manifest import verified_path
from arcnn.pipeline import RestoreOptions, Restorer

# Dong et al. 2015, Table 1 (LIVE1): (PSNR dB, SSIM, PSNR-B dB).
PAPER_JPEG = {10: (27.77, 0.7905, 25.33), 20: (30.07, 0.8683, 27.57), 30: (31.41, 0.9000, 28.92),
              40: (32.35, 0.9173, 29.96)}  # fmt: skip
PAPER_ARCNN = {10: (29.13, 0.8232, 28.74), 20: (31.40, 0.8886, 30.69), 30: (32.69, 0.9166, 32.15),
               40: (33.63, 0.9306, 33.12)}  # fmt: skip

# Published peers on the same benchmark (LIVE1, grayscale JPEG, PSNR dB), as their papers report them.
# DnCNN-3: Zhang, Zuo, Chen, Meng, Zhang, "Beyond a Gaussian Denoiser", IEEE TIP 2017, JPEG deblocking table.
PUBLISHED_PSNR = {"DnCNN-3": {10: 29.19, 20: 31.59, 30: 32.98, 40: 33.96}}
# DnCNN-3's published LIVE1 PSNR-B (Zhang et al. 2017, Table 5).
PUBLISHED_PSNRB = {"DnCNN-3": {10: 28.90, 20: 31.07, 30: 32.34, 40: 33.28}}

# Dong et al. 2015, Table 1 (LIVE1), the SA-DCT row (Foi et al. 2007) as the paper reports it.
PAPER_SADCT = {10: (28.65, 0.8093, 28.01), 20: (30.81, 0.8781, 29.82), 30: (32.08, 0.9078, 31.27),
               40: (32.99, 0.9240, 32.35)}  # fmt: skip


def blind_luma_models() -> list[str]:
    """Shipped luminance models of JPEGs of every quality (one network for all): scored at each of
    q10-q40 rather than at one training quality."""
    from arcnn.policy import WEBP_MODEL
    from arcnn.zoo import REGISTRY

    return [n for n, c in REGISTRY.items() if c.quality is None and c.colour == "y" and n != WEBP_MODEL]


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
DOCS = ROOT / "docs"


def block_file(name: str) -> Path:
    """The one Markdown file, README.md or docs/*.md, that holds the ``<!-- name:start -->`` block."""
    start = f"<!-- {name}:start -->"
    found = [p for p in [README, *sorted(DOCS.glob("*.md"))] if start in p.read_text()]
    if len(found) != 1:
        where = ", ".join(str(p.relative_to(ROOT)) for p in found) or "neither README.md nor docs/*.md"
        raise SystemExit(f"the {start} block must be in exactly one file; found in {where}")
    return found[0]


def read_block(name: str) -> str:
    """The text of the ``<!-- name:start -->`` ... ``<!-- name:end -->`` block (:func:`block_file`),
    without the markers and the newlines next to them."""
    text = block_file(name).read_text()
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    return text[text.index(start) + len(start) : text.index(end)].strip("\n")


def write_readme_block(name: str, text: str, path: Path | None = None) -> None:
    """Replace the ``<!-- name:start -->`` ... ``<!-- name:end -->`` block with ``text``.

    The block is looked for in README.md and docs/*.md (:func:`block_file`) unless ``path`` is given.
    """
    path = block_file(name) if path is None else path
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    old = path.read_text()
    i, j = old.find(start), old.find(end)
    if i < 0 or j < i:
        raise SystemExit(f"{path.name} has no {start} ... {end} block")
    write_bytes_atomic(path, (old[: i + len(start)] + "\n" + text + "\n" + old[j:]).encode())


def publish(block: str, lines: list[str], write: bool) -> None:
    """Print a benchmark's result, and with ``write`` also make it the text of ``block``
    (in README.md or whichever docs/*.md page holds it)."""
    text = "\n".join(lines)
    print(text)
    if write:
        write_readme_block(block, text)


def best_rate(run: Callable[[], object], work: float, seconds: float = 3.0) -> float:
    """The best ``work / 1e9`` per second of ``run()`` (GFLOP/s, GOP/s), calling it for ``seconds``
    after a warm-up call."""
    run()
    best, t_end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t = time.perf_counter()
        run()
        best = max(best, work / (time.perf_counter() - t) / 1e9)
    return best


def matmul_ceiling(dtype: torch.dtype, n: int = 2048, seconds: float = 3.0) -> float:
    """The machine's best GFLOP/s on an n x n matrix product in ``dtype``, with torch's threads."""
    a, b = torch.rand(n, n).to(dtype), torch.rand(n, n).to(dtype)
    return best_rate(lambda: torch.mm(a, b), 2 * n**3, seconds)


def plane_rates(
    runs: dict[str, Callable[[np.ndarray], object]], side: int, repeats: int = 3
) -> dict[str, float]:
    """Best MP/s of each ``run(plane)`` on one random uint8 side x side plane, after a warm-up on a
    corner (kernels, thread pool); the runs are taken in turn ``repeats`` times, so a busy moment
    of the machine falls on all alike."""
    plane = np.random.default_rng(0).integers(0, 256, (side, side), dtype=np.uint8)
    for run in runs.values():
        run(plane[:128, :128])
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            t = time.perf_counter()
            run(plane)
            best[name] = min(best[name], time.perf_counter() - t)
    return {name: plane.size / s / 1e6 for name, s in best.items()}


def restorer(model: Any = None, **options: Any) -> Restorer:
    """``Restorer(RestoreOptions(model=model, **options))`` on PyTorch unless ``backend`` is given:
    every published number was measured with PyTorch, as ``arcnn.evaluate`` measures."""
    return Restorer(RestoreOptions(model=model, **{"backend": "torch", **options}))


def kept_weights(file: str) -> Path:
    """A weights file kept in experiments/weights/ (the zoo's models of earlier days), after checking
    it against its sha256 in ``arcnn.manifest``."""
    return verified_path(f"repo:experiments/weights/{file}")


def train_run(out: Path, args: list[str]) -> None:
    """``python -m arcnn train --out OUT ARGS`` unless OUT holds finished weights; resumes a stopped run."""
    if (out / "model.safetensors").exists():
        return
    cmd = [sys.executable, "-m", "arcnn", "train", "--out", str(out), *args]
    if (out / "checkpoint.pt").exists():
        cmd.append("--resume")
    print("arcnn " + " ".join(cmd[3:]), flush=True)
    subprocess.run(cmd, check=True)
