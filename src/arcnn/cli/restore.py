"""``arcnn restore``: restore image files and folders through the pipeline."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from arcnn.cli._common import err, max_pixels_arg, quality_arg
from arcnn.data import IMAGE_SUFFIXES
from arcnn.engine import BACKENDS
from arcnn.files import DEFAULT_MAX_PIXELS, FORMATS, SUFFIX_FORMAT, save_image

__all__ = ["add_parser", "run", "options_from_args"]

# Errors that belong to one file: reading, decoding, restoring or writing it.
FILE_ERRORS = (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError)


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("restore", help="restore JPEG files to lossless PNG")
    r.add_argument("inputs", nargs="+", help="image files and/or folders of images")
    r.add_argument("-o", "--output", default=None,
                   help="output file, or folder (ends with /, exists, or several inputs); "
                        "default: STEM.png beside each input")  # fmt: skip
    r.add_argument("--model", default=None, help="shipped model name or weights file (default: by quality)")
    r.add_argument("--method", choices=["arcnn", "sadct"], default="arcnn",
                   help="arcnn (a network, default) or sadct (Pointwise SA-DCT)")  # fmt: skip
    r.add_argument("--quality", type=quality_arg, default="auto",
                   help="'auto' (from a JPEG's tables or a lossy WebP) or the JPEG quality")  # fmt: skip
    r.add_argument("--format", choices=sorted(FORMATS), default=None,
                   help="output format (default: from -o's suffix, else png); webp is lossless")  # fmt: skip
    r.add_argument("--jpeg-quality", type=int, default=95, help="quality for --format jpeg (4:4:4)")
    r.add_argument("--max-pixels", type=max_pixels_arg, default=DEFAULT_MAX_PIXELS,
                   help="refuse larger images (decompression-bomb guard); 0 = no limit")  # fmt: skip
    r.add_argument("--bf16", action="store_true",
                   help="bfloat16: ~2x faster with AVX-512 BF16, slightly less exact")  # fmt: skip
    r.add_argument("--ensemble", type=int, choices=[1, 4, 8], default=1,
                   help="mean of 4 (flips) or 8 (and rotations) restorations: slower")  # fmt: skip
    r.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="float32 engine; auto: ONNX Runtime if installed (faster), else PyTorch")  # fmt: skip
    r.add_argument("--chroma", choices=["auto", "on", "off"], default="auto",
                   help="restore Cb/Cr too; auto: colour JPEGs with subsampled chroma")  # fmt: skip
    r.add_argument("--consistency", choices=["auto", "off"], default="auto",
                   help="auto: keep a JPEG's restored luminance within what the file coded")  # fmt: skip
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def options_from_args(args: argparse.Namespace):  # -> RestoreOptions
    """The pipeline options a parsed ``arcnn restore`` command line asks for."""
    from arcnn.pipeline import RestoreOptions

    return RestoreOptions(model=args.model, quality=args.quality, method=args.method, chroma=args.chroma,
                          consistency=args.consistency == "auto", backend=args.backend, bf16=args.bf16,
                          ensemble=args.ensemble, max_pixels=args.max_pixels)  # fmt: skip


def expand_inputs(inputs: list[str]) -> tuple[list[Path], list[str]]:
    """Files to restore, and one error line for each input that cannot be used."""
    files, errors = [], []
    for s in inputs:
        p = Path(s)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                errors.append(f"{p}: folder holds no images")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            errors.append(f"{p}: no such file or folder")
    return files, errors


def output_plan(
    files: list[Path], inputs: list[str], output: str | None, fmt: str | None
) -> tuple[list[Path], str]:
    """Output path of each file, and the output format."""
    out = Path(output) if output is not None else None
    to_folder = out is None or str(output).endswith(("/", os.sep)) or (out is not None and out.is_dir())
    to_folder = to_folder or len(inputs) > 1 or len(files) > 1 or any(Path(s).is_dir() for s in inputs)
    if not to_folder and out is not None:
        return [out], fmt or SUFFIX_FORMAT.get(out.suffix.lower(), "png")
    fmt = fmt or "png"
    suffix = FORMATS[fmt][0]
    return [(f.parent if out is None else out) / f"{f.stem}{suffix}" for f in files], fmt


class Progress:
    """A one-line progress bar on stderr, shown only for several files on a terminal."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done = total, 0
        self.enabled = enabled and total > 1 and sys.stderr.isatty()

    def step(self, name: str) -> None:
        self.done += 1
        if self.enabled:
            n = 30 * self.done // self.total
            print(f"\r[{'#' * n}{'.' * (30 - n)}] {self.done}/{self.total} {name[:40]:<40}",
                  end="", file=sys.stderr, flush=True)  # fmt: skip
            if self.done == self.total:
                print(file=sys.stderr)


def _message(e: Exception) -> str:
    return str(e) if isinstance(e, ValueError) else f"cannot read image ({e.__class__.__name__}: {e})"


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    from arcnn.pipeline import Restorer

    if not 1 <= args.jpeg_quality <= 100:
        err(f"--jpeg-quality must be in 1..100, not {args.jpeg_quality}")
        return 2
    try:
        restorer = Restorer(options_from_args(args))
    except ValueError as e:
        err(str(e))
        return 2
    files, errors = expand_inputs(args.inputs)
    for line in errors:
        err(line)
    if not files and not errors:
        err("no input files")
        return 2
    outputs, fmt = output_plan(files, args.inputs, args.output, args.format)
    failed = len(errors)

    def report(f: Path, e: Exception) -> None:
        nonlocal failed
        err(f"{f}: {_message(e)}")
        failed += 1

    _restore_all(
        restorer, files, outputs, fmt, args.jpeg_quality, report, Progress(len(files), not args.quiet)
    )
    return 1 if failed else 0


def _restore_all(restorer, files: list[Path], outputs: list[Path], fmt: str, jpeg_quality: int,
                 report: Callable[[Path, Exception], None], bar: Progress) -> None:  # fmt: skip
    """Restore each file; each output is encoded and written by a second thread while the next image
    is restored (PNG's zlib and the convolutions both release the GIL); one write in flight at a time
    keeps memory at two images."""
    input_set = {f.resolve() for f in files}
    seen: set[Path] = set()
    pending: tuple[Path, Future] | None = None
    with ThreadPoolExecutor(max_workers=1) as writer:
        for f, out in zip(files, outputs):
            try:
                target = out.resolve()
                if target in input_set:
                    raise ValueError(f"output {out} would overwrite an input")
                if target in seen:
                    raise ValueError(f"output {out} is also the output of another input (same name)")
                seen.add(target)
                result = restorer.restore(f)
                if pending is not None:
                    _wait(*pending, report)
                pending = (f, writer.submit(save_image, result.image, out, fmt, result.info, jpeg_quality))
            except FILE_ERRORS as e:
                report(f, e)
            bar.step(f.name)
        if pending is not None:
            _wait(*pending, report)


def _wait(f: Path, future: Future, report: Callable[[Path, Exception], None]) -> None:
    try:
        future.result()
    except FILE_ERRORS as e:
        report(f, e)
