"""How well the quality of a JPEG saved as a PNG is read from its pixels, on LIVE1 and BSDS500 val.

    python -m benchmarks.pixel_quality [--write]

Each image is compressed by Pillow at quality q (grayscale JPEG of its luminance, and RGB JPEG
with 4:2:0 chroma), decoded, and handed to ``arcnn.policy.pixel_quality`` as a PNG would hold it
(the JPEG's gray values, or Pillow's luma of the decoded RGB), as ``--quality auto`` reads a PNG.
Also: the decoded q10 JPEG cropped by (5, 3) pixels (the block grid no longer at the origin),
resized to 90% (no grid left), and the never-compressed image. Counts how many images get the
encoder's quality within one step, another quality, or no estimate (which sends them to the
blind model).
"""

from __future__ import annotations

import argparse
import io
import sys

from PIL import Image

from arcnn.data import list_images
from arcnn.policy import pixel_quality
from benchmarks._common import publish, require_data

CASES = (5, 10, 20, 30, 40, 50, 60, 75, 85, 90, 95, "q10, cropped", "q10, resized", "never compressed")


def _decoded(im: Image.Image, case) -> Image.Image:
    if case == "never compressed":
        return im
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=case if isinstance(case, int) else 10)
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    if case == "q10, cropped":
        return out.crop((5, 3, out.width, out.height))
    if case == "q10, resized":
        return out.resize((out.width * 9 // 10, out.height * 9 // 10), Image.BICUBIC)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the pixel-quality block (docs/results.md)")
    args = ap.parse_args(argv)
    files = list_images(require_data("live1")) + list_images(require_data("bsds500/val"))
    lines = [
        f"LIVE1 and BSDS500 val ({len(files)} images): images whose estimate is within one step of"
        " the encoder's quality / another quality / none.",
        "",
        "| JPEG | gray: right / wrong / none | colour: right / wrong / none |",
        "|---|---|---|",
    ]
    for case in CASES:
        cells = []
        for colour in (False, True):
            right = wrong = none = 0
            for f in files:
                with Image.open(f) as im:
                    im = im.convert("RGB") if colour else im.convert("L")
                est = pixel_quality(_decoded(im, case))
                q = case if isinstance(case, int) else 10
                expected = case != "never compressed" and case != "q10, resized"
                if est is None:
                    none += 1
                elif expected and abs(est.quality - q) <= 1:
                    right += 1
                else:
                    wrong += 1
            cells.append(f"{right} / {wrong} / {none}")
        lines.append(f"| {case if isinstance(case, str) else f'q{case}'} | {cells[0]} | {cells[1]} |")
        print(lines[-1], flush=True)
    publish("pixel-quality", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
