"""``arcnn restore``: restore image files and folders through the pipeline."""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from arcnn.cli._common import err, max_pixels_arg, quality_arg
from arcnn.files import (
    DEFAULT_MAX_PIXELS,
    FORMATS,
    IMAGE_SUFFIXES,
    format_for,
    remove_stale_temps,
    save_image,
)
from arcnn.options import BACKENDS, CHROMA, METHODS, RestoreOptions

__all__ = ["add_parser", "run", "options_from_args"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("restore", help="restore JPEG files to lossless PNG")
    r.add_argument("inputs", nargs="+", help="image files and/or folders of images")
    r.add_argument("-o", "--output", default=None,
                   help="output file, or folder (ends with /, exists, or several inputs); "
                        "default: STEM.png beside each input")  # fmt: skip
    r.add_argument("--model", default=None, help="shipped model name or weights file (default: by quality)")
    r.add_argument("--method", choices=METHODS, default="arcnn",
                   help="arcnn (a network, default) or sadct (Pointwise SA-DCT)")  # fmt: skip
    r.add_argument("--quality", type=quality_arg, default="auto",
                   help="'auto' (from a JPEG's tables or a lossy WebP) or the JPEG quality")  # fmt: skip
    r.add_argument("--format", choices=sorted(FORMATS), default=None,
                   help="output format (default: from -o's suffix, else png); webp is lossless")  # fmt: skip
    r.add_argument("--jpeg-quality", type=int, default=95, help="quality for --format jpeg (4:4:4)")
    r.add_argument("--max-pixels", type=max_pixels_arg, default=DEFAULT_MAX_PIXELS,
                   help="refuse larger images (decompression-bomb guard); 0 = no limit")  # fmt: skip
    r.add_argument("--bf16", action="store_true",
                   help="bfloat16: faster on CPUs with AVX-512 BF16, slightly less exact")  # fmt: skip
    r.add_argument("--ensemble", type=int, choices=[1, 4, 8], default=1,
                   help="mean of 4 (flips) or 8 (and rotations) restorations: slower")  # fmt: skip
    r.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="float32 engine; auto: ONNX Runtime if installed (faster), else PyTorch")  # fmt: skip
    r.add_argument("--chroma", choices=CHROMA, default="auto",
                   help="restore Cb/Cr too; auto: colour JPEGs with subsampled chroma")  # fmt: skip
    r.add_argument("--consistency", choices=["auto", "off"], default="auto",
                   help="auto: keep a JPEG's restored luminance within what the file coded")  # fmt: skip
    r.add_argument("--overwrite", action="store_true", help="replace existing output files (default: refuse)")
    r.add_argument("--skip-existing", action="store_true",
                   help="leave inputs whose output exists alone (resumes a folder)")  # fmt: skip
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def options_from_args(args: argparse.Namespace) -> RestoreOptions:
    """The pipeline options a parsed ``arcnn restore`` command line asks for."""
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
        return [out], format_for(out, fmt)
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


@dataclass
class Tally:
    """What a run did, file by file; failures are reported as they happen, one line each."""

    restored: int = 0
    skipped: int = 0
    failed: int = 0
    pixels: float = 0.0

    def fail(self, f: Path, stage: str, e: BaseException) -> None:
        self.failed += 1
        reason = str(e) if isinstance(e, ValueError) else f"{e.__class__.__name__}: {e}"
        err(f"{f}: {reason}" if stage == "" else f"{f}: {stage} failed: {reason}")

    def summary(self, seconds: float) -> str:
        rate = (
            f", {self.restored / seconds:.2f} images/s, {self.pixels / 1e6 / seconds:.2f} MP/s"
            if seconds
            else ""
        )
        return f"restored {self.restored}, skipped {self.skipped}, failed {self.failed}{rate}"


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    from arcnn.pipeline import Restorer

    if not 1 <= args.jpeg_quality <= 100:
        err(f"--jpeg-quality must be in 1..100, not {args.jpeg_quality}")
        return 2
    if args.overwrite and args.skip_existing:
        err("--overwrite and --skip-existing contradict each other: choose one")
        return 2
    files, errors = expand_inputs(args.inputs)
    if not files and not errors:
        err("no input files")
        return 2
    try:
        outputs, fmt = output_plan(files, args.inputs, args.output, args.format)
        restorer = Restorer(options_from_args(args))
    except ValueError as e:
        err(str(e))
        return 2
    tally = Tally(failed=len(errors))
    for line in errors:
        err(line)
    for folder in {o.parent for o in outputs if o.parent.is_dir()}:
        remove_stale_temps(folder)
    t0 = time.perf_counter()
    _restore_all(restorer, files, outputs, fmt, args, tally, Progress(len(files), not args.quiet))
    if len(files) > 1 or tally.skipped or tally.failed:
        print(tally.summary(time.perf_counter() - t0))
    return 1 if tally.failed else 0


def _check_target(out: Path, seen: set[Path], inputs: set[Path]) -> None:
    target = out.resolve()
    if target in inputs:
        raise ValueError(f"output {out} would overwrite an input")
    if target in seen:
        raise ValueError(f"output {out} is also the output of another input (same name)")
    seen.add(target)


def _restore_all(restorer, files: list[Path], outputs: list[Path], fmt: str, args: argparse.Namespace,
                 tally: Tally, bar: Progress) -> None:  # fmt: skip
    """Restore each file; each output is encoded and written by a second thread while the next image
    is restored (PNG's zlib and the convolutions both release the GIL); one write in flight at a time
    keeps memory at two images. A failure costs its own file only."""
    inputs, seen = {f.resolve() for f in files}, set[Path]()
    pending: tuple[Path, Future] | None = None
    with ThreadPoolExecutor(max_workers=1) as writer:
        for f, out in zip(files, outputs):
            bar.step(f.name)
            try:
                _check_target(out, seen, inputs)
            except ValueError as e:
                tally.fail(f, "", e)
                continue
            if out.exists() and not args.overwrite:
                if args.skip_existing:
                    tally.skipped += 1
                else:
                    tally.fail(
                        f, "", ValueError(f"{out} exists: --overwrite replaces it, --skip-existing keeps it")
                    )
                continue
            try:
                result = restorer.restore(f)
            except Exception as e:  # noqa: BLE001 - RestoreError, or anything a plugin raised: one line
                tally.fail(f, "", e)
                continue
            for w in result.warnings:
                print(
                    f"arcnn: warning: {f}: the decoder found damage ({w}); restored as decoded",
                    file=sys.stderr,
                )
            if pending is not None:
                _wait(*pending, tally)
            save = partial(_write, f, result.frames, out, fmt, result.info, args)
            pending = (f, writer.submit(save))
            tally.pixels += sum(im.width * im.height for im in result.frames)
        if pending is not None:
            _wait(*pending, tally)


def _write(f: Path, frames: list, out: Path, fmt: str, info: dict, args: argparse.Namespace) -> None:
    """Write one output; metadata the format cannot take (a broken EXIF block) is dropped with a
    warning rather than costing the image."""
    try:
        save_image(frames, out, fmt, info, args.jpeg_quality, args.overwrite)
    except FileExistsError:
        raise
    except Exception as e:  # noqa: BLE001 - retried once without the input's metadata, then reported
        if not any(info.get(k) for k in ("exif", "icc_profile")):
            raise
        kept = {k: v for k, v in info.items() if k not in ("exif", "icc_profile")}  # frame timing stays
        save_image(frames, out, fmt, kept, args.jpeg_quality, args.overwrite)
        reason = str(e) if isinstance(e, ValueError) else f"{e.__class__.__name__}: {e}"
        print(f"arcnn: warning: {f}: written without its EXIF/ICC metadata, which {fmt} refused ({reason})",
              file=sys.stderr)  # fmt: skip


def _wait(f: Path, future: Future, tally: Tally) -> None:
    try:
        future.result()
        tally.restored += 1
    except FileExistsError as e:
        tally.fail(f, "write", ValueError(f"{e}: --overwrite replaces it, --skip-existing keeps it"))
    except Exception as e:  # noqa: BLE001 - an encoder's error of any type costs this file only
        tally.fail(f, "write", e)
