"""Batch restoration of files and folders, shared by the engines that run it (the local one in
``arcnn restore``, and ``arcnn.engines.ray``): which files, where each output goes, one line per
failure, the progress bar and the closing summary.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from arcnn.files import FORMATS, IMAGE_SUFFIXES, format_for
from arcnn.options import RestoreOptions

__all__ = ["err", "refuse_args", "options_from_args", "expand_inputs", "output_plan", "Progress", "Tally"]


def err(msg: str) -> None:
    """One line on stderr: ``arcnn: error: MSG``."""
    print(f"arcnn: error: {msg}", file=sys.stderr)


def refuse_args(args: argparse.Namespace) -> str | None:
    """The one-line reason a parsed restore command line cannot run, whatever the engine; or None."""
    if not 1 <= args.jpeg_quality <= 100:
        return f"--jpeg-quality must be in 1..100, not {args.jpeg_quality}"
    if args.overwrite and args.skip_existing:
        return "--overwrite and --skip-existing contradict each other: choose one"
    if getattr(args, "workers", None) is not None and args.workers < 1:
        return f"--workers must be at least 1, not {args.workers}"
    return None


def options_from_args(args: argparse.Namespace) -> RestoreOptions:
    """The pipeline options a parsed ``arcnn restore`` command line asks for."""
    return RestoreOptions(model=args.model, quality=args.quality, method=args.method, chroma=args.chroma,
                          consistency=args.consistency == "auto", backend=args.backend, bf16=args.bf16,
                          int8=args.int8, fast=args.fast, ensemble=args.ensemble, max_pixels=args.max_pixels,
                          png_level=args.png_level)  # fmt: skip


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
