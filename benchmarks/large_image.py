"""Memory stays bounded on huge photos: peak memory of ``arcnn restore`` on a 50-megapixel JPEG.

    python -m benchmarks.large_image [--megapixels 50] [--write]

Makes a smooth colour test photo of the given size (3:2), saves it as a q10 JPEG, restores it
with the default model in a child process (file to file, PNG out), and reports the child's
peak resident memory (``ru_maxrss``) and wall time. No research data needed.
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from arcnn.policy import CHROMA_MODEL
from arcnn.zoo import REGISTRY
from benchmarks._common import publish


def make_photo(path: Path, megapixels: float) -> tuple[int, int]:
    w = int(math.sqrt(megapixels * 1e6 * 3 / 2))
    h = int(megapixels * 1e6 / w)
    small = np.random.default_rng(0).integers(0, 256, (h // 64 + 1, w // 64 + 1, 3), dtype=np.uint8)
    Image.fromarray(small).resize((w, h), Image.BICUBIC).save(path, quality=10)
    return w, h


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--megapixels", type=float, default=50.0)
    ap.add_argument("--write", action="store_true", help="update the large-image block (docs/speed.md)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "big.jpg", Path(tmp) / "big.png"
        w, h = make_photo(src, args.megapixels)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "arcnn", "restore", str(src), "-o", str(dst), "-q"], check=True)
        seconds = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
        with Image.open(dst) as im:
            assert im.size == (w, h)
    what = "luminance and chroma" if CHROMA_MODEL in REGISTRY else "luminance"
    text = (f"{w}×{h} ({w * h / 1e6:.1f} MP) colour q10 JPEG → PNG with `arcnn restore` (defaults: "
            f"{what} restored): peak memory **{peak:.2f} GiB**, {seconds:.0f} s "
            f"(`python -m benchmarks.large_image`).")  # fmt: skip
    publish("large-image", [text], args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
