"""The fast tier against the default models: quality on LIVE1 and speed, in one run.

    python -m benchmarks.fast_arcnn [--qualities 10 20 30 40] [--blind-qualities 5 50 75 90] [--write]
    python -m benchmarks.fast_arcnn --limits [--write]     # where --fast stops using them: BSDS500 val

Quality: LIVE1 under the evaluation protocol (PSNR dB / SSIM / PSNR-B dB, the network alone) of the
JPEG, each shipped per-quality family of :data:`FAMILIES` (the default tier's ``arcnn-qN``, Fast
AR-CNN as published ``fast-arcnn-qN``, its ReLU 5x5 layout ``fast-arcnn-relu-qN``) and the fast
blind model tried (``experiments/weights/fast-arcnn-blind-cpu.safetensors``, not shipped); at
``--blind-qualities`` the JPEG and that blind model alone. The last column is what ``--fast``
picks. Speed: float32 restoration (``Restorer.restore_plane``) of a size x size plane on ONNX
Runtime and on PyTorch, best of 3, with torch's threads, by each family's q10 model.
``--limits``: on BSDS500 val, the gain over the JPEG of the per-quality Fast AR-CNN model nearest each
quality and of the fast blind model tried, from q5 to q95 (``arcnn.policy.FAST_MAX_QUALITY`` was set from
it): the ``fast-limit`` block of docs/speed.md.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from arcnn.evaluate import evaluate
from arcnn.flops import macs_per_pixel
from arcnn.policy import auto_model, nearest_model
from arcnn.zoo import REGISTRY, load_model
from benchmarks._common import kept_weights, plane_rates, publish, require_data, restorer
from benchmarks.frontier import cpu_name

# The fast blind model tried (not shipped: it harms q90-q95 JPEGs, --limits shows it).
BLIND_TRY = "fast-arcnn-blind-cpu.safetensors"


# The per-quality families compared, as columns: the default tier's and the fast layouts'.
FAMILIES = ("arcnn", "fast-arcnn", "fast-arcnn-relu")


def speed(name: str, size: int, backend: str) -> float:
    """Megapixels per second of shipped model ``name`` on ``backend`` restoring a size x size plane."""
    return plane_rates({name: restorer(name, backend=backend).restore_plane}, size)[name]


def _cell(m: dict | None, jpeg: dict) -> str:
    if m is None:
        return "—"
    return f"{m['psnr']:.2f} / {m['ssim']:.4f} / {m['psnrb']:.2f} ({m['psnr'] - jpeg['psnr']:+.2f})"


def _families() -> list[str]:
    """The families of :data:`FAMILIES` that ship a q10 model."""
    return [f for f in FAMILIES if f"{f}-q10" in REGISTRY]


def quality_rows(qualities: list[int], blind_qualities: list[int]) -> list[str]:
    live1, blind = require_data("live1"), str(kept_weights(BLIND_TRY))
    families = _families()

    def score(q: int, name: str) -> dict | None:
        return evaluate(live1, q, name)["mean"] if name in REGISTRY else None

    head = " | ".join(f"{f}-qN" for f in families)
    rows = [
        f"| q | JPEG | {head} | fast blind (tried) | `--fast` picks |",
        "|---|---|" + "---|" * len(families) + "---|---|",
    ]
    for q in sorted(set(qualities) | set(blind_qualities)):
        jpeg = evaluate(live1, q, "jpeg")["mean"]
        tier = q in qualities
        cells = [f"{jpeg['psnr']:.2f} / {jpeg['ssim']:.4f} / {jpeg['psnrb']:.2f}",
                 *(_cell(score(q, f"{f}-q{q}") if tier else None, jpeg) for f in families),
                 _cell(evaluate(live1, q, blind)["mean"], jpeg),
                 f"`{auto_model(q, fast=True)}`"]  # fmt: skip
        rows.append(f"| {q} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    return rows


def speed_lines(size: int) -> list[str]:
    """Each family's q10 model restoring a size x size plane, float32 on ONNX Runtime and PyTorch."""
    lines = [f"Run of {time.strftime('%Y-%m-%d')} on {cpu_name()}, {torch.get_num_threads()} threads: "
             f"float32 restoration of a {size}×{size} plane (MP/s; × the 9-7-1-5's):", "",
             "| model | MAC/px | ONNX Runtime | PyTorch |", "|---|---|---|---|"]  # fmt: skip
    rates = {f"{f}-q10": [speed(f"{f}-q10", size, b) for b in ("onnxruntime", "torch")] for f in _families()}
    base = rates["arcnn-q10"]
    for name, (o, t) in rates.items():
        macs = macs_per_pixel(load_model(name)) / 1e3
        lines.append(
            f"| {name} | {macs:.1f} k | {o:.2f} ({o / base[0]:.2f}×) | {t:.2f} ({t / base[1]:.2f}×) |"
        )
    return lines


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
    lines = ["LIVE1, PSNR dB / SSIM / PSNR-B dB of the network alone (its gain over the JPEG in PSNR):", "",
             *rows, "", *speed_lines(args.size), "", "`python -m benchmarks.fast_arcnn --write`"]  # fmt: skip
    publish("fast-arcnn", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
