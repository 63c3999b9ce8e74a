"""PNG's zlib level: the size of the written files against the CPU time their encoding takes.

    python -m benchmarks.png_level [--files 10] [--levels 1 3 6 9] [--write]

The first ``--files`` LIVE1 images are written as ``--quality`` JPEG files (Pillow; colour 4:2:0, and
their luminance as grayscale JPEGs) and restored once each with ``arcnn restore``'s defaults
(:class:`arcnn.pipeline.Restorer`: luminance and, for colour, chroma); each result is then encoded
as PNG at every level (``files.encode_image(..., png_level=N)``, what ``arcnn restore --png-level N``
writes). Times are CPU seconds of this process (``time.process_time``: every thread's, which a busy
machine changes less than wall time): the restoration's (decode, networks, consistency) and the
least of ``--repeats`` encodings at each level, whose share of the file's CPU (restoration plus
encoding) is what the level costs or saves file to file. Every level writes the same pixels.
``--write`` puts the table into its block in docs/speed.md. Exits 2 without the research data.
"""

from __future__ import annotations

import argparse
import io
import sys
import time

import numpy as np
import torch
from PIL import Image

from benchmarks._common import publish, require_data

KINDS = ("colour", "gray")


def setup_args() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=10, help="LIVE1 images (1..29)")
    p.add_argument("--quality", type=int, default=10, help="JPEG quality of the inputs")
    p.add_argument("--levels", type=int, nargs="+", default=[1, 3, 6, 9], choices=range(10))
    p.add_argument("--repeats", type=int, default=3, help="encodings per level; the least CPU time counts")
    p.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    p.add_argument("--write", action="store_true", help="publish the table into docs/speed.md")
    return p


def jpeg_bytes(path, kind: str, quality: int) -> bytes:
    """LIVE1 image ``path`` as a ``kind`` JPEG file's bytes at ``quality`` (Pillow)."""
    with Image.open(path) as im:
        im = im.convert("RGB") if kind == "colour" else im.convert("YCbCr").getchannel(0)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def cpu(fn, *args, **kwargs) -> tuple[float, object]:
    """(CPU seconds of this process, result) of ``fn(*args, **kwargs)``."""
    t = time.process_time()
    out = fn(*args, **kwargs)
    return time.process_time() - t, out


def measure(live1, kind: str, args: argparse.Namespace) -> tuple[int, float, dict[int, tuple[int, float]]]:
    """(pixels, restoration CPU s, {level: (bytes, encode CPU s)}) over the files, for ``kind``."""
    from arcnn.data import list_images
    from arcnn.files import encode_image
    from arcnn.pipeline import Restorer

    restorer = Restorer()
    files = list_images(live1)[: min(max(args.files, 1), 29)]
    restorer.restore(jpeg_bytes(files[0], kind, args.quality))  # loads the networks: not counted
    pixels, restore_s = 0, 0.0
    per_level = {lv: [0, 0.0] for lv in args.levels}
    for path in files:
        data = jpeg_bytes(path, kind, args.quality)
        seconds, result = cpu(restorer.restore, data)
        restore_s += seconds
        pixels += result.image.width * result.image.height
        reference = np.asarray(result.image)
        for lv in args.levels:
            times = []
            for _ in range(max(1, args.repeats)):
                seconds, png = cpu(encode_image, result, "png", png_level=lv)
                times.append(seconds)
            with Image.open(io.BytesIO(png)) as im:
                if not np.array_equal(np.asarray(im), reference):
                    raise SystemExit(f"level {lv} changed the pixels of {path.name}")  # PNG is lossless
            per_level[lv][0] += len(png)
            per_level[lv][1] += min(times)
        print(f"{kind} {path.name}: restored in {restore_s:.2f} CPU s so far", file=sys.stderr, flush=True)
    return pixels, restore_s, {lv: (int(b), s) for lv, (b, s) in per_level.items()}


def main(argv: list[str] | None = None) -> int:
    args = setup_args().parse_args(argv)
    live1 = require_data("live1")
    n = min(max(args.files, 1), 29)
    base = 6 if 6 in args.levels else args.levels[0]
    lines = [
        f"The first {n} LIVE1 images as q{args.quality} JPEGs (Pillow; colour 4:2:0, and their luminance "
        "as grayscale), restored once each with `arcnn restore`'s defaults, then encoded as PNG at each "
        f"level (`--png-level N`); CPU seconds of the process (`time.process_time`, all threads; torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads), the least of {args.repeats} encodings. "
        f"Compared with level {base}; the last column is encoding's share of each file's CPU time "
        "(restoration, with decoding, plus encoding). Every level wrote the same pixels "
        "(`python -m benchmarks.png_level --write`).",
        "",
        f"| input | level | PNG MB | size vs {base} | encode CPU s/MP | encode CPU vs {base} | "
        "of the file's CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    restoring = []
    for kind in args.kinds:
        pixels, restore_s, levels = measure(live1, kind, args)
        restoring.append(f"{kind} {restore_s / pixels * 1e6:.2f}")
        b0, s0 = levels[base]
        for lv, (size, seconds) in levels.items():
            lines.append(
                f"| {kind} | {lv} | {size / 1e6:.2f} | {size / b0 - 1:+.1%} | {seconds / pixels * 1e6:.3f} "
                f"| {seconds / s0 - 1:+.0%} | {seconds / (restore_s + seconds):.1%} |"
            )
    lines += ["", f"Restoration (networks loaded beforehand), CPU s/MP: {', '.join(restoring)}."]
    publish("png-level", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
