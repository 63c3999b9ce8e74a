"""``arcnn restore``: restore image files and folders through the pipeline."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from arcnn.batch import Progress, Tally, err, expand_inputs, options_from_args, output_plan, refuse_args
from arcnn.cli._common import max_pixels_arg, png_level_arg, quality_arg
from arcnn.files import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_PNG_LEVEL,
    FAST_PNG_LEVEL,
    FORMATS,
    remove_stale_temps,
    save_image,
)
from arcnn.options import BACKENDS, CHROMA, ENSEMBLES, METHODS

if TYPE_CHECKING:
    from arcnn.pipeline import Restored

__all__ = ["add_parser", "run"]


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
    r.add_argument("--png-level", type=png_level_arg, default=None,
                   help="PNG's zlib level 0..9: lower writes faster, larger files, the same pixels "
                        f"(default {DEFAULT_PNG_LEVEL}, {FAST_PNG_LEVEL} with --fast)")  # fmt: skip
    r.add_argument("--max-pixels", type=max_pixels_arg, default=DEFAULT_MAX_PIXELS,
                   help="refuse larger images (decompression-bomb guard); 0 = no limit")  # fmt: skip
    r.add_argument("--bf16", action="store_true",
                   help="bfloat16: faster on CPUs with AVX-512 BF16, slightly less exact")  # fmt: skip
    r.add_argument("--int8", action="store_true",
                   help="8-bit integer arithmetic (ONNX Runtime) for the per-quality models: faster, "
                        "slightly less exact (docs/speed.md)")  # fmt: skip
    r.add_argument("--fast", action="store_true",
                   help="the fast tier: Fast AR-CNN models (the fast-arcnn-qN nearest the quality, up to "
                        "q75), faster and less exact (docs/speed.md)")  # fmt: skip
    r.add_argument("--ensemble", type=int, choices=ENSEMBLES, default=None,
                   help="mean of 2 (a mirror), 4 (flips) or 8 (and turns) restorations, slower; 1: one "
                        "pass (default: 1 for grayscale; colour: 2 for luminance, 4 for chroma)")  # fmt: skip
    r.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="float32 engine; auto (default): ONNX Runtime, faster, without loading PyTorch; "
                        "torch: PyTorch")  # fmt: skip
    r.add_argument("--chroma", choices=CHROMA, default="auto",
                   help="restore Cb/Cr too; auto: colour JPEGs with subsampled chroma")  # fmt: skip
    r.add_argument("--consistency", choices=["auto", "off"], default="auto",
                   help="auto: keep a JPEG's restored luminance within what the file coded")  # fmt: skip
    r.add_argument("--overwrite", action="store_true", help="replace existing output files (default: refuse)")
    r.add_argument("--skip-existing", action="store_true",
                   help="leave inputs whose output exists alone (resumes a folder)")  # fmt: skip
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    r.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local (this process) or ray (a Ray cluster; paths may be s3:// URLs)")  # fmt: skip
    r.add_argument("--ray-address", default=None,
                   help="with --engine ray: join auto or ray://HOST:PORT; default: start one")  # fmt: skip
    r.add_argument("--workers", type=int, default=None,
                   help="with --engine ray: restoring actors (default: one per CPU)")  # fmt: skip


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    if getattr(args, "engine", "local") == "ray":
        from arcnn.engines.ray import run_ray

        return run_ray(args)
    from arcnn.pipeline import Restorer

    if (reason := refuse_args(args)) is not None:
        err(reason)
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
    """Restore each file in three overlapped stages: a reader thread reads and decodes the next file
    (and collects its decoder warnings) while this thread restores the current one and a writer
    thread encodes and writes the previous one (decoders, zlib and the convolutions release the
    GIL). One file in flight per stage keeps memory at three images. A failure costs its own file
    only."""
    jobs = _jobs(files, outputs, args, tally, bar)
    with ThreadPoolExecutor(max_workers=1) as reader, ThreadPoolExecutor(max_workers=1) as writer:
        pending: tuple[Path, Future] | None = None
        job = next(jobs, None)
        ahead = None if job is None else (*job, reader.submit(restorer.open, job[0]))
        while ahead is not None:
            f, out, opened = ahead
            job = next(jobs, None)
            ahead = None if job is None else (*job, reader.submit(restorer.open, job[0]))
            try:
                result = restorer.restore_opened(opened.result())
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
            save = partial(_write, f, result, out, fmt, result.info, args)
            pending = (f, writer.submit(save))
            tally.pixels += sum(im.width * im.height for im in result.frames)
        if pending is not None:
            _wait(*pending, tally)


def _jobs(files: list[Path], outputs: list[Path], args: argparse.Namespace, tally: Tally,
          bar: Progress) -> Iterator[tuple[Path, Path]]:  # fmt: skip
    """The (input, output) pairs to restore, in order; the others are tallied as skipped or failed."""
    inputs, seen = {f.resolve() for f in files}, set[Path]()
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
        yield f, out


def _write(f: Path, result: Restored, out: Path, fmt: str, info: dict, args: argparse.Namespace) -> None:
    """Write one output (its frames, at ``--png-level`` or the result's own level); metadata the
    format cannot take (a broken EXIF block) is dropped with a warning rather than costing the image."""
    try:
        save_image(result, out, fmt, info, args.jpeg_quality, args.overwrite, args.png_level)
    except FileExistsError:
        raise
    except Exception as e:  # noqa: BLE001 - retried once without the input's metadata, then reported
        if not any(info.get(k) for k in ("exif", "icc_profile")):
            raise
        kept = {k: v for k, v in info.items() if k not in ("exif", "icc_profile")}  # frame timing stays
        save_image(result, out, fmt, kept, args.jpeg_quality, args.overwrite, args.png_level)
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
