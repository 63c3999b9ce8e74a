"""Fast AR-CNN against AR-CNN: speed-up and quality on LIVE1, in one run.

    python -m benchmarks.fast_arcnn [--quality 10] [--size 2048] [--write]

Speed: float32 restoration (``Restorer.restore_plane``, PyTorch) of a size x size image, best of 3, with
torch's threads; quality: LIVE1 at the models' JPEG quality under the evaluation protocol.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from arcnn.evaluate import evaluate
from benchmarks._common import publish, require_data, restorer


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quality", type=int, default=10)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--write", action="store_true", help="update the fast-arcnn block (docs/speed.md)")
    args = ap.parse_args(argv)
    live1 = require_data("live1")
    q = args.quality
    base, fast = f"arcnn-q{q}", f"fast-arcnn-q{q}"
    res = {}
    for name in (base, fast):
        res[name] = (evaluate(live1, q, name)["mean"], speed(name, args.size))
    jpeg = evaluate(live1, q, "jpeg")["mean"]
    rows = [
        f"LIVE1 q{q} (PSNR dB / SSIM / PSNR-B dB) and float32 speed on a {args.size}×{args.size} image:",
        "",
        "| model | LIVE1 | MP/s | speed-up | PSNR change |",
        "|---|---|---|---|---|",
        f"| JPEG | {jpeg['psnr']:.2f} / {jpeg['ssim']:.4f} / {jpeg['psnrb']:.2f} | | | |",
    ]
    for name, (m, mps) in res.items():
        up = mps / res[base][1]
        d = m["psnr"] - res[base][0]["psnr"]
        rows.append(f"| {name} | {m['psnr']:.2f} / {m['ssim']:.4f} / {m['psnrb']:.2f} | {mps:.2f} | "
                    f"{up:.2f}× | {d:+.2f} dB |")  # fmt: skip
    publish("fast-arcnn", rows, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
