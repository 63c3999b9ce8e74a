"""The ``arcnn`` command: restore, evaluate, train, export, quality, plot.

``main(argv) -> int`` is what the console script and the tests call.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from arcnn.data import IMAGE_SUFFIXES

if TYPE_CHECKING:
    from arcnn.train import TrainConfig

__all__ = ["main", "entry"]

DEFAULT_MAX_PIXELS = 200e6
# format -> (file suffix, Pillow format, metadata keys the format carries)
_FORMATS = {
    "png": (".png", "PNG", ("icc_profile", "exif", "dpi")),
    "webp": (".webp", "WEBP", ("icc_profile", "exif")),
    "tiff": (".tif", "TIFF", ("icc_profile", "exif", "dpi")),
    "jpeg": (".jpg", "JPEG", ("icc_profile", "exif", "dpi")),
}
_SUFFIX_FORMAT = {
    ".png": "png",
    ".webp": "webp",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as argparse does but without usage spam
        self.exit(2, f"arcnn: error: {message}\n")


def _qualities_arg(text: str) -> tuple[int, ...]:
    """'5,10,20' or 'LO-HI/STEP' (HI included) -> (5, 10, 20)."""
    try:
        if "-" in text:
            span, _, step = text.partition("/")
            lo, hi = (int(v) for v in span.split("-"))
            qs = tuple(range(lo, hi + 1, int(step or 5)))
        else:
            qs = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"qualities must look like '5,10,20' or '5-95/5', not {text!r}"
        ) from None
    if not qs or any(not 1 <= q <= 100 for q in qs):
        raise argparse.ArgumentTypeError(f"qualities must be in 1..100, not {text!r}")
    return qs


def _quality_arg(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        q = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"quality must be 'auto' or 1..100, not {text!r}") from None
    if not 1 <= q <= 100:
        raise argparse.ArgumentTypeError(f"quality must be in 1..100, not {q}")
    return q


def _box_arg(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"box must be WIDTHxHEIGHT, e.g. 600x450, not {text!r}") from None
    return w, h


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="arcnn", description="Compression artifact reduction with AR-CNN.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("restore", help="restore JPEG files to lossless PNG")
    r.add_argument("inputs", nargs="+", help="image files and/or folders of images")
    r.add_argument("-o", "--output", default=None,
                   help="output file, or folder (ends with /, exists, or several inputs); "
                        "default: STEM.png beside each input")  # fmt: skip
    r.add_argument("--model", default=None, help="shipped model name or weights file (default: by quality)")
    r.add_argument("--method", choices=["arcnn", "sadct"], default="arcnn",
                   help="arcnn (a network, default) or sadct (Pointwise SA-DCT)")  # fmt: skip
    r.add_argument("--quality", type=_quality_arg, default="auto",
                   help="'auto' (from a JPEG's tables or a lossy WebP) or the JPEG quality")  # fmt: skip
    r.add_argument("--format", choices=sorted(_FORMATS), default=None,
                   help="output format (default: from -o's suffix, else png); webp is lossless")  # fmt: skip
    r.add_argument("--jpeg-quality", type=int, default=95, help="quality for --format jpeg (4:4:4)")
    r.add_argument("--max-pixels", type=float, default=DEFAULT_MAX_PIXELS,
                   help="refuse larger images (decompression-bomb guard); 0 = no limit")  # fmt: skip
    r.add_argument("--bf16", action="store_true",
                   help="bfloat16: ~2x faster with AVX-512 BF16, slightly less exact")  # fmt: skip
    r.add_argument("--ensemble", type=int, choices=[1, 4, 8], default=1,
                   help="mean of 4 (flips) or 8 (and rotations) restorations: slower")  # fmt: skip
    r.add_argument("--backend", choices=["auto", "torch", "onnxruntime"], default="auto",
                   help="float32 engine; auto: ONNX Runtime if installed (faster), else PyTorch")  # fmt: skip
    r.add_argument("--chroma", choices=["auto", "on", "off"], default="auto",
                   help="restore Cb/Cr too; auto: colour JPEGs with subsampled chroma")  # fmt: skip
    r.add_argument("--consistency", choices=["auto", "off"], default="auto",
                   help="auto: keep a JPEG's restored luminance within what the file coded")  # fmt: skip
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="score a method with the paper's protocol on a folder")
    e.add_argument("--data", required=True, help="folder of reference images")
    e.add_argument("--quality", type=int, required=True, help="JPEG quality 1..100")
    e.add_argument("--method", default="jpeg",
                   help="'jpeg', 'sadct' (Pointwise SA-DCT), a model name or weights file")  # fmt: skip
    e.add_argument("--workers", type=int, default=None, help="processes for sadct (default: all cores)")
    e.add_argument("--ensemble", type=int, choices=[1, 4, 8], default=1, help="self-ensemble size")
    e.add_argument("--scale", type=float, default=1.0, help="resize every image by this factor first")
    e.add_argument("--box", type=_box_arg, default=None,
                   help="WxH: social-media degradation (fit to the box, colour 4:2:0 JPEG)")  # fmt: skip
    e.add_argument("--codec", choices=["jpeg", "webp"], default="jpeg", help="compress with JPEG or WebP")
    e.add_argument("--consistency", action="store_true",
                   help="as arcnn restore does: keep the output within what the JPEG coded")  # fmt: skip
    e.add_argument("--json", action="store_true", help="print one JSON object")

    t = sub.add_parser("train", help="train a network (see docs/training.md)")
    t.add_argument("--model", default="arcnn", help="preset: arcnn, srcnn, deeper-srcnn, arcnn5, "
                   "fast-arcnn, deep-arcnn, deep-arcnn-thin")  # fmt: skip
    t.add_argument("--quality", type=int, default=10)
    t.add_argument("--qualities", type=_qualities_arg, default=None,
                   help="one quality-blind model for several: '5,10,20' or 'LO-HI/STEP'")  # fmt: skip
    t.add_argument("--scale", type=float, default=None, help="resize every image by this factor first")
    t.add_argument("--codec", choices=["jpeg", "webp"], default=None, help="the lossy codec to undo")
    t.add_argument("--target", choices=["y", "cbcr"], default=None,
                   help="y: luminance (default); cbcr: a chroma model for colour JPEGs (4:2:0)")  # fmt: skip
    t.add_argument("--box", type=_box_arg, default=None,
                   help="WxH: social-media degradation (fit to the box, colour 4:2:0 JPEG)")  # fmt: skip
    t.add_argument("--out", required=True, help="run folder (checkpoints, log, final weights)")
    t.add_argument("--recipe", default="fast", choices=["paper", "fast"])
    t.add_argument("--init", dest="init_from", default=None, help="checkpoint/weights to transfer from")
    t.add_argument("--init-layers", type=int, default=None)
    t.add_argument("--freeze", type=int, default=None)
    t.add_argument("--init-method", dest="init", choices=["gauss", "he", "torch"], default=None)
    t.add_argument("--steps", type=int, default=None)
    t.add_argument("--minutes", type=float, default=None,
                   help="train for this long (wall time); the schedule spreads over it")  # fmt: skip
    t.add_argument("--batch", type=int, default=None)
    t.add_argument("--patch", type=int, default=None)
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--warmup", type=int, default=None, help="steps of linear learning-rate warm-up")
    t.add_argument("--loss", choices=["mse", "psnr"], default=None, help="training loss (default mse)")
    t.add_argument("--weighting", choices=["area", "psnr"], default=None,
                   help="draw images by area (default) or by 1/JPEG MSE, to train for mean PSNR")  # fmt: skip
    t.add_argument("--schedule", choices=["cosine", "constant"], default=None)
    t.add_argument("--revive", action="store_true", default=None,
                   help="re-initialise dead ReLU units at the start and at each validation")  # fmt: skip
    t.add_argument("--no-transpose", dest="transpose", action="store_false", default=None,
                   help="augment with the 4 flips only, not the transposed ones")  # fmt: skip
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--val-every", type=int, default=None)
    t.add_argument("--val-images", type=int, default=None)
    t.add_argument("--train-dir", dest="train_dirs", action="append", default=None,
                   help="training image folder (repeatable; default BSDS500 train+test)")  # fmt: skip
    t.add_argument("--val-dir", default=None, help="validation folder (default BSDS500 val)")
    t.add_argument("--no-bf16", dest="bf16", action="store_false", default=None)
    t.add_argument("--resume", action="store_true", help="continue the run in --out")
    t.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")

    x = sub.add_parser("export", help="export a model to ONNX (needs the onnx extra)")
    x.add_argument("--model", default="arcnn-q10", help="shipped model name or weights file")
    x.add_argument("-o", "--output", required=True, help="file to write, e.g. arcnn-q10.onnx")
    x.add_argument("--format", choices=["onnx"], default="onnx")

    qa = sub.add_parser("quality", help="estimate the JPEG quality of files (from their tables, or pixels)")
    qa.add_argument("files", nargs="+")

    pl = sub.add_parser("plot", help="plot training curves from log.csv files (needs matplotlib)")
    pl.add_argument("logs", nargs="+", help="log.csv files or run folders; label=PATH to name a curve")
    pl.add_argument("-o", "--output", required=True, help="PNG file to write")
    pl.add_argument("--title", default="")
    return p


def _err(msg: str) -> None:
    print(f"arcnn: error: {msg}", file=sys.stderr)


def _expand_inputs(inputs: list[str]) -> tuple[list[Path], list[str]]:
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


def _output_plan(
    files: list[Path], inputs: list[str], output: str | None, fmt: str | None
) -> tuple[list[Path], str]:
    """Output path of each file, and the output format."""
    out = Path(output) if output is not None else None
    to_folder = out is None or output.endswith(("/", os.sep)) or out.is_dir()
    to_folder = to_folder or len(inputs) > 1 or len(files) > 1 or any(Path(s).is_dir() for s in inputs)
    if not to_folder:
        return [out], fmt or _SUFFIX_FORMAT.get(out.suffix.lower(), "png")
    fmt = fmt or "png"
    suffix = _FORMATS[fmt][0]
    return [(f.parent if out is None else out) / f"{f.stem}{suffix}" for f in files], fmt


def _save_atomic(image: Image.Image, path: Path, fmt: str, info: dict, jpeg_quality: int) -> None:
    """Write next to the target, then rename: no half-written file ever has the target's name."""
    _, pil_format, keys = _FORMATS[fmt]
    params = {k: info[k] for k in keys if info.get(k)}
    if image.mode == "CMYK" and fmt in ("png", "webp"):
        # PNG and WebP hold no CMYK: convert, and drop the CMYK profile that no longer applies.
        image = image.convert("RGB")
        params.pop("icc_profile", None)
    if fmt == "webp":
        params.update(lossless=True, quality=100)
    elif fmt == "tiff":
        params.update(compression="tiff_deflate")
    elif fmt == "jpeg":
        if image.mode in ("RGBA", "LA"):
            raise ValueError("JPEG output cannot keep the alpha channel: choose png, webp or tiff")
        params.update(quality=jpeg_quality, subsampling=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        image.save(tmp, format=pil_format, **params)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class _Progress:
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


def _sadct_fn(im: Image.Image, quality: int | str):
    """SA-DCT deblocking with σ from the JPEG's own table, or from the IJG table at --quality N."""
    from arcnn.codec import read_qtables
    from arcnn.sadct import sadct_deblock

    if quality != "auto":
        return partial(sadct_deblock, quality=int(quality))
    if im.format != "JPEG":
        raise ValueError("--method sadct needs a JPEG (its tables give the noise level) or --quality N")
    return partial(sadct_deblock, qtable=read_qtables(im)[0])


def _restore_cmd(args: argparse.Namespace) -> int:
    from arcnn.restore import (
        chroma_model,
        luma_qtable,
        map_luma,
        open_jpeg_ycbcr,
        pick_model,
        restore_chroma,
        restore_luma,
    )
    from arcnn.zoo import load_model

    Image.MAX_IMAGE_PIXELS = None  # replaced by --max-pixels, checked below with a clear message
    files, errors = _expand_inputs(args.inputs)
    for e in errors:
        _err(e)
    outputs, fmt = _output_plan(files, args.inputs, args.output, args.format)
    if not 1 <= args.jpeg_quality <= 100:
        _err(f"--jpeg-quality must be in 1..100, not {args.jpeg_quality}")
        return 2
    input_set = {f.resolve() for f in files}
    models: dict[str, object] = {}
    try:
        engine = _engine(args.backend, args.bf16)
    except ValueError as e:
        _err(str(e))
        return 2
    if args.method == "sadct" and args.model is not None:
        _err("--model chooses a network; it cannot be combined with --method sadct")
        return 2
    if args.model is not None:
        try:
            models[args.model] = engine(load_model(args.model))
        except ValueError as e:
            _err(str(e))
            return 2
    seen: set[Path] = set()
    failed = len(errors)
    bar = _Progress(len(files), not args.quiet)
    read_errors = (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError)

    def report(f: Path, e: Exception) -> None:
        nonlocal failed
        msg = str(e) if isinstance(e, ValueError) else f"cannot read image ({e.__class__.__name__}: {e})"
        _err(f"{f}: {msg}")
        failed += 1

    # Each output is encoded and written by a second thread while the next image is restored
    # (PNG's zlib and the convolutions both release the GIL); one write in flight at a time
    # keeps memory at two images.
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
                with Image.open(f) as im:
                    if args.max_pixels and im.width * im.height > args.max_pixels:
                        raise ValueError(
                            f"{im.width}x{im.height} exceeds --max-pixels {args.max_pixels:.0f} "
                            "(decompression-bomb guard); raise it to restore this image"
                        )
                    info = dict(im.info)
                    cfn = yfn = None
                    if args.method == "sadct":
                        fn = _sadct_fn(im, args.quality)
                    else:
                        name = args.model or pick_model(args.quality, im)
                        if name not in models:
                            models[name] = engine(load_model(name))
                        qtable = luma_qtable(im) if args.consistency == "auto" else None
                        fn = partial(restore_luma, models[name], bf16=args.bf16, ensemble=args.ensemble,
                                     qtable=qtable)  # fmt: skip
                        yfn = partial(fn, full_range=True)
                        if (cname := chroma_model(im, args.chroma)) is not None:
                            if cname not in models:
                                models[cname] = engine(load_model(cname))
                            cfn = partial(restore_chroma, models[cname], bf16=args.bf16)
                    open_jpeg_ycbcr(im)
                    im.load()
                    result = map_luma(im, fn, cfn, yfn)
                if pending is not None:
                    _wait_write(*pending, report)
                pending = (f, writer.submit(_save_atomic, result, out, fmt, info, args.jpeg_quality))
            except read_errors as e:
                report(f, e)
            bar.step(f.name)
        if pending is not None:
            _wait_write(*pending, report)
    if not files and not errors:
        _err("no input files")
        return 2
    return 1 if failed else 0


def _engine(backend: str, bf16: bool):
    """A function that puts a loaded ConvStack on the chosen inference engine."""
    import torch

    from arcnn.export import on_onnxruntime, onnxruntime_available

    if backend == "onnxruntime" and not onnxruntime_available():
        raise ValueError("--backend onnxruntime needs the onnx extra: pip install 'arcnn[onnx]'")
    if backend == "onnxruntime" and bf16:
        raise ValueError("--bf16 runs on PyTorch: use --backend torch or auto")
    use_ort = backend == "onnxruntime" or (backend == "auto" and not bf16 and onnxruntime_available())
    return lambda m: on_onnxruntime(m) if use_ort and isinstance(m, torch.nn.Module) else m


def _wait_write(f: Path, future: Future, report) -> None:
    try:
        future.result()
    except (OSError, ValueError) as e:
        report(f, e)


def _evaluate_cmd(args: argparse.Namespace) -> int:
    from arcnn.evaluate import evaluate, format_table

    if not 1 <= args.quality <= 100:
        _err(f"quality must be in 1..100, not {args.quality}")
        return 2
    result = evaluate(args.data, args.quality, args.method, args.workers, args.ensemble, args.scale, args.box,
                      args.codec, args.consistency)  # fmt: skip
    print(json.dumps(result, indent=1) if args.json else format_table(result))
    return 0


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The ``TrainConfig`` a parsed ``arcnn train`` command line asks for."""
    from arcnn.train import make_config

    keys = ("quality", "qualities", "target", "codec", "scale", "box", "init", "init_from", "init_layers",
            "freeze", "steps", "minutes", "batch", "patch", "lr", "warmup", "loss", "weighting", "schedule",
            "transpose", "revive", "seed", "val_every", "val_images", "train_dirs", "val_dir",
            "bf16")  # fmt: skip
    return make_config(args.recipe, model=args.model, **{k: getattr(args, k) for k in keys})


def _train_cmd(args: argparse.Namespace, argv: list[str]) -> int:
    import torch

    from arcnn.train import train

    cfg = train_config(args)
    command = "arcnn " + shlex.join(argv)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    path = train(cfg, args.out, resume=args.resume, device=device, command=command)
    print(f"weights written to {path}")
    return 0


def _export_cmd(args: argparse.Namespace) -> int:
    from arcnn.zoo import load_model

    try:
        from arcnn.export import export_onnx

        model = load_model(args.model)
        if not hasattr(model, "state_dict"):
            raise ValueError(f"{args.model}: already an exported model")
        export_onnx(model, args.output)
    except ImportError as e:
        _err(f"ONNX export needs the onnx extra: pip install 'arcnn[onnx]' ({e})")
        return 2
    except (ValueError, OSError) as e:
        _err(str(e))
        return 2
    print(f"wrote {args.output}")
    return 0


def _quality_cmd(args: argparse.Namespace) -> int:
    from arcnn.codec import estimate_quality
    from arcnn.restore import pixel_quality

    failed = 0
    for f in args.files:
        try:
            with Image.open(f) as im:
                if im.format == "JPEG":
                    print(f"{f}: {estimate_quality(im)}")
                else:
                    im.load()
                    print(f"{f}: {pixel_quality(im) or 'not a JPEG, and its pixels do not show one'}")
        except (UnidentifiedImageError, OSError, ValueError) as e:
            _err(f"{f}: {e}")
            failed += 1
    return 1 if failed else 0


def _plot_cmd(args: argparse.Namespace) -> int:
    from arcnn.plot import plot_logs

    logs = {}
    for item in args.logs:
        label, _, path = item.rpartition("=")
        p = Path(path)
        p = p / "log.csv" if p.is_dir() else p
        logs[label or p.parent.name] = p
    plot_logs(logs, args.output, args.title)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        if args.command == "restore":
            return _restore_cmd(args)
        if args.command == "evaluate":
            return _evaluate_cmd(args)
        if args.command == "train":
            return _train_cmd(args, argv)
        if args.command == "plot":
            return _plot_cmd(args)
        if args.command == "export":
            return _export_cmd(args)
        return _quality_cmd(args)
    except (ValueError, OSError) as e:
        _err(str(e))
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


def entry() -> None:
    sys.exit(main())
