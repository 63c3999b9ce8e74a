"""The fast tier against the default models: quality on LIVE1 and speed, in one run.

    python -m benchmarks.fast_arcnn [--qualities 10 20 30 40] [--blind-qualities 5 50 75 90] [--write]
    python -m benchmarks.fast_arcnn --limits [--write]     # where --fast stops using them: BSDS500 val

Quality: LIVE1 under the evaluation protocol (PSNR dB / SSIM / PSNR-B dB, the network alone) of the
JPEG, the default tier's per-quality model (``arcnn-qN``), the fast tier's (``fast-arcnn-qN``) and the
fast blind model tried (``experiments/weights/fast-arcnn-blind-cpu.safetensors``, not shipped); at
``--blind-qualities`` the JPEG and that blind model alone. The last column is what ``--fast``
picks. Speed: float32 restoration (``Restorer.restore_plane``, PyTorch) of a size x size image,
best of 3, with torch's threads, for the two architectures (it does not depend on the weights).
``--limits``: on BSDS500 val, the gain over the JPEG of the per-quality Fast AR-CNN model nearest each
quality and of the fast blind model tried, from q5 to q95 (``arcnn.policy.FAST_MAX_QUALITY`` was set from
it): the ``fast-limit`` block of docs/speed.md.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from arcnn.evaluate import evaluate
from arcnn.policy import auto_model, nearest_model
from arcnn.zoo import REGISTRY
from benchmarks._common import kept_weights, publish, require_data, restorer

# The fast blind model tried (not shipped: it harms q90-q95 JPEGs, --limits shows it).
BLIND_TRY = "fast-arcnn-blind-cpu.safetensors"


def speed(name: str, size: int) -> float:
    """Megapixels per second, best of 3 runs after a warm-up."""
    r = restorer(name)
    img = np.random.default_rng(0).integers(0, 256, (size, size), dtype=np.uint8)
    r.restore_plane(img[:256, :256])
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        r.restore_plane(img)
        best = min(best, time.perf_counter() - t)
    return size * size / best / 1e6


def _cell(m: dict | None, jpeg: dict) -> str:
    if m is None:
        return "—"
    return f"{m['psnr']:.2f} / {m['ssim']:.4f} / {m['psnrb']:.2f} ({m['psnr'] - jpeg['psnr']:+.2f})"


def quality_rows(qualities: list[int], blind_qualities: list[int]) -> list[str]:
    live1, blind = require_data("live1"), str(kept_weights(BLIND_TRY))

    def score(q: int, name: str) -> dict | None:
        return evaluate(live1, q, name)["mean"] if name in REGISTRY else None

    rows = [
        "| q | JPEG | arcnn-qN | fast-arcnn-qN | fast blind (tried) | `--fast` picks |",
        "|---|---|---|---|---|---|",
    ]
    for q in sorted(set(qualities) | set(blind_qualities)):
        jpeg = evaluate(live1, q, "jpeg")["mean"]
        tier = q in qualities
        cells = [f"{jpeg['psnr']:.2f} / {jpeg['ssim']:.4f} / {jpeg['psnrb']:.2f}",
                 _cell(score(q, f"arcnn-q{q}") if tier else None, jpeg),
                 _cell(score(q, f"fast-arcnn-q{q}") if tier else None, jpeg),
                 _cell(evaluate(live1, q, blind)["mean"], jpeg),
                 f"`{auto_model(q, fast=True)}`"]  # fmt: skip
        rows.append(f"| {q} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    return rows


def limit_rows(qualities: list[int]) -> list[str]:
    val, blind = require_data("bsds500/val"), str(kept_weights(BLIND_TRY))
    rows = [f"BSDS500 val ({len(list(val.iterdir()))} images), PSNR gain over the JPEG (dB):", "",
            "| q | JPEG | nearest per-quality fast model | fast blind (tried) | `--fast` picks |",
            "|---|---|---|---|---|"]  # fmt: skip
    for q in qualities:
        jpeg = evaluate(val, q, "jpeg")["mean"]["psnr"]
        near = nearest_model(q, fast=True)
        cells = [f"{evaluate(val, q, n)['mean']['psnr'] - jpeg:+.2f}" for n in (near, blind)]
        rows.append(f"| {q} | {jpeg:.2f} | {cells[0]} ({near}) | {cells[1]} | `{auto_model(q, fast=True)}` |")
        print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qualities", type=int, nargs="+", default=[10, 20, 30, 40])
    ap.add_argument("--blind-qualities", type=int, nargs="+", default=[5, 50, 75, 90])
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--limits", action="store_true", help="where --fast stops using them (BSDS500 val)")
    ap.add_argument("--write", action="store_true", help="update the fast-arcnn (or fast-limit) block")
    args = ap.parse_args(argv)
    if args.limits:
        publish("fast-limit", limit_rows([5, 50, 60, 75, 80, 90, 95]), args.write)
        return 0
    rows = quality_rows(args.qualities, args.blind_qualities)
    base, fast = speed("arcnn-q10", args.size), speed("fast-arcnn-q10", args.size)
    lines = [
        "LIVE1, PSNR dB / SSIM / PSNR-B dB of the network alone (its gain over the JPEG in PSNR):", "",
        *rows, "",
        f"Float32 (PyTorch) on a {args.size}×{args.size} image: 9-7-1-5 (`arcnn-qN`) {base:.2f} MP/s, "
        f"Fast AR-CNN {fast:.2f} MP/s ({fast / base:.2f}×). `python -m benchmarks.fast_arcnn --write`",
    ]  # fmt: skip
    publish("fast-arcnn", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
