"""Regenerate the README's before/after picture, docs/images/before-after.png.

    python tools/make_readme_figure.py

Restores the shipped sample (src/arcnn/samples/astronaut-q10.jpg, a colour q10 JPEG) with
``arcnn.restore`` and its defaults, then puts the same crop of the JPEG (left) and of the
restoration (right) side by side, each enlarged 2x with nearest-neighbour so the pixels show.
The whole file is restored, not a crop of it: a cropped image would no longer carry the JPEG's
tables, from which ``--quality auto`` and ``--chroma auto`` choose the models.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

import arcnn

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "arcnn" / "samples" / "astronaut-q10.jpg"
OUT = ROOT / "docs" / "images" / "before-after.png"
BOX = (168, 40, 328, 200)  # 160x160: face, helmet rim and collar
SCALE, GAP = 2, 6


def main() -> None:
    with Image.open(SAMPLE) as im:
        restored = arcnn.restore(im).convert("RGB")
        jpeg = im.convert("RGB")
    w, h = BOX[2] - BOX[0], BOX[3] - BOX[1]
    size = (w * SCALE, h * SCALE)
    tiles = [x.crop(BOX).resize(size, Image.Resampling.NEAREST) for x in (jpeg, restored)]
    fig = Image.new("RGB", (2 * size[0] + GAP, size[1]), "white")
    fig.paste(tiles[0], (0, 0))
    fig.paste(tiles[1], (size[0] + GAP, 0))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.save(OUT, optimize=True)
    print(f"wrote {OUT.relative_to(ROOT)}: {fig.size[0]}x{fig.size[1]}, {OUT.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
