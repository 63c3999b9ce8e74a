"""What the JPEG-trained models do to WebP: LIVE1's Y compressed with Pillow's lossy WebP.

    python -m benchmarks.webp [--write]

For each WebP quality: the WebP's PSNR, and the PSNR after restoration by the quality-blind
JPEG model, by the per-quality JPEG model that does best there, and by ``arcnn-webp`` when it
is shipped. WebP blurs rather than blocks (4x4 transforms, an in-loop deblocking filter), so
a JPEG model may do little or harm.
"""

from __future__ import annotations

import argparse
import sys

from arcnn.evaluate import evaluate
from arcnn.policy import BLIND_MODEL, WEBP_MODEL
from arcnn.zoo import REGISTRY
from benchmarks._common import publish, require_data

QUALITIES = (5, 10, 20, 30, 50, 75)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the webp block (docs/results.md)")
    args = ap.parse_args(argv)
    live1 = require_data("live1")
    jpeg_models = [n for n in ("arcnn-q10", "arcnn-q40") if n in REGISTRY]
    blind = [BLIND_MODEL] if BLIND_MODEL in REGISTRY else []
    webp = [WEBP_MODEL] if WEBP_MODEL in REGISTRY else []
    lines = [
        "LIVE1 PSNR (dB); Y compressed with Pillow's lossy WebP at each quality.",
        "",
        "| WebP q | WebP | " + " | ".join(blind + jpeg_models + webp) + " |",
        "|---|---|" + "---|" * len(blind + jpeg_models + webp),
    ]
    for q in QUALITIES:
        base = evaluate(live1, q, "jpeg", codec="webp")["mean"]["psnr"]
        cells = []
        for name in blind + jpeg_models + webp:
            p = evaluate(live1, q, name, codec="webp")["mean"]["psnr"]
            cells.append(f"{p:.2f} ({p - base:+.2f})")
        lines.append(f"| {q} | {base:.2f} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    publish("webp", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
