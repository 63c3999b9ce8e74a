"""Restoration speed against the machine's own ceiling, per backend.

    python -m benchmarks.inference_speed [--model arcnn-q10] [--sizes 2048 4096] [--files 100] [--write]

In one run: (1) the ceiling, the best float32 (and bf16) rate of a large matrix product
on this machine with torch's threads; (2) for each backend and image size, a whole
restoration of a bare plane (``Restorer.restore_plane``: padding, tiles, rounding) in a fresh
process, reported as megapixels per second, the fraction of the float32 ceiling its
multiply-adds (``arcnn.flops.macs_per_pixel``) reach, and the process's peak memory; (3) the
file-to-file time of ``arcnn restore`` on one 2048x2048 grayscale JPEG and on a folder of
LIVE1-sized colour JPEGs (decode, restore, encode), against the time its networks alone take on
the same decoded planes; (4) with the
research data, the LIVE1 PSNR each backend gives at q10 (``arcnn.evaluate``), so a faster path's
cost in quality is measured, not assumed.
``--write`` puts the table into its block (docs/speed.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._common import ROOT, matmul_ceiling, publish, restorer

BACKENDS = ("torch-fp32", "torch-bf16", "onnxruntime")


def _options(backend: str) -> dict:
    """The ``RestoreOptions`` of a backend of this table."""
    engine = "onnxruntime" if backend == "onnxruntime" else "torch"
    return {"backend": engine, "bf16": backend == "torch-bf16"}


def one(model_name: str, backend: str, size: int) -> dict:
    """Time one restoration of a size x size image (called in a fresh process)."""
    r = restorer(model_name, **_options(backend))
    img = np.random.default_rng(0).integers(0, 256, (size, size), dtype=np.uint8)
    r.restore_plane(img[:256, :256])  # warm-up: kernels, thread pool
    t = time.perf_counter()
    r.restore_plane(img)
    seconds = time.perf_counter() - t
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "mps": size * size / seconds / 1e6, "peak_mib": rss_mib}


def live1_psnr(model_name: str, backend: str, quality: int = 10) -> float | None:
    """LIVE1 PSNR of the model on ``backend`` under the evaluation protocol; None without the data."""
    from arcnn.data import shared_data_dir
    from arcnn.evaluate import evaluate

    folder = shared_data_dir() / "live1"
    if not folder.is_dir():
        return None
    return float(evaluate(folder, quality, model_name, **_options(backend))["mean"]["psnr"])


def write_folder(folder: Path, n_files: int, size: tuple[int, int] = (768, 512), mode: str = "RGB") -> str:
    """``n_files`` q10 JPEGs of ``size`` (LIVE1's by default) in ``folder``, colour (``mode`` "RGB")
    or grayscale ("L"): LIVE1's images resized, or without the research data smooth random images;
    returns where they came from."""
    from PIL import Image

    from arcnn.data import list_images, shared_data_dir

    live1 = shared_data_dir() / "live1"
    sources = list_images(live1) if live1.is_dir() else []
    rng = np.random.default_rng(0)
    for i in range(n_files):
        if sources:
            im = Image.open(sources[i % len(sources)]).convert("RGB").resize(size, Image.BICUBIC)
        else:
            small = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
            im = Image.fromarray(small).resize(size, Image.BICUBIC)
        im.convert(mode).save(folder / f"{i:03d}.jpg", quality=10)
    return "LIVE1" if sources else "synthetic"


def networks_seconds(folder: Path, model_name: str, backend: str, chroma: bool) -> float:
    """Seconds the networks alone take on the decoded planes of the JPEGs in ``folder``, one pass
    each, as ``arcnn restore`` runs them (padding, tiles, a colour Y's range mapping, the chroma
    model reading the restored Y): no reading, decoding, quality estimate, consistency
    projection, colour conversion or encoding."""
    from PIL import Image

    from arcnn.engine import restore_chroma, restore_luma
    from arcnn.policy import CHROMA_MODEL

    r = restorer(model_name, **_options(backend))
    luma = r.network(model_name)
    cnet = r.network(CHROMA_MODEL, "chroma") if chroma else None
    planes = []
    for f in sorted(folder.glob("*.jpg")):
        with Image.open(f) as im:
            im.draft("YCbCr", im.size)  # a colour JPEG's planes as decoded; grayscale ones stay L
            planes.append(np.array(im))

    def run(planes: np.ndarray) -> None:
        bf16 = r.options.bf16
        if planes.ndim == 2:
            restore_luma(luma, planes, bf16=bf16, quality=10)
            return
        y = restore_luma(luma, np.ascontiguousarray(planes[..., 0]), bf16=bf16, full_range=True,
                         quality=10, rounded=cnet is None)  # fmt: skip
        if cnet is not None:
            planes = planes.copy()
            planes[..., 0] = y.round()
            restore_chroma(cnet, planes, bf16=bf16, quality=10, rounded=False)

    run(planes[0])  # warm-up: kernels, thread pool
    t = time.perf_counter()
    for x in planes:
        run(x)
    return time.perf_counter() - t


def folder_run(
    model_name: str, n_files: int, backend: str, chroma: bool = False, size: tuple[int, int] = (768, 512),
    mode: str = "RGB",
) -> dict:  # fmt: skip
    """File-to-file ``arcnn restore`` of a folder of ``n_files`` q10 JPEGs (:func:`write_folder`),
    luminance only unless ``chroma`` (then the chroma model too), one pass of each network, in
    this process; then the networks alone on the same decoded planes (:func:`networks_seconds`)."""
    from arcnn.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in", Path(tmp) / "out"
        src.mkdir()
        source = write_folder(src, n_files, size, mode)
        # one pass per network (--ensemble 1): the rate is compared with one pass of the networks
        argv = ["restore", str(src), "-o", str(dst), "-q", "--model", model_name, "--ensemble", "1"]
        opts = _options(backend)
        argv += ["--backend", opts["backend"], "--chroma", "on" if chroma else "off"]
        argv += ["--bf16"] if opts["bf16"] else []
        t = time.perf_counter()
        rc = main(argv)
        seconds = time.perf_counter() - t
        if rc != 0:
            raise SystemExit(f"arcnn restore failed with exit code {rc}")
        alone = networks_seconds(src, model_name, backend, chroma)
    pixels = n_files * size[0] * size[1]
    return {"seconds": seconds, "mps": pixels / seconds / 1e6, "networks_mps": pixels / alone / 1e6,
            "source": source}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="arcnn-q10")
    ap.add_argument("--sizes", type=int, nargs="+", default=[2048, 4096])
    ap.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--write", action="store_true", help="update the inference-speed block (docs/speed.md)")
    ap.add_argument("--one", nargs=2, metavar=("BACKEND", "SIZE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.model, args.one[0], int(args.one[1]))))
        return 0

    from arcnn.export import onnxruntime_available
    from arcnn.flops import macs_per_pixel
    from arcnn.policy import CHROMA_MODEL
    from arcnn.train import bf16_supported
    from arcnn.zoo import REGISTRY, load_model

    backends = list(args.backends)
    if "onnxruntime" in backends and not onnxruntime_available():
        print("onnxruntime not installed (pip install onnxruntime): skipping that backend", file=sys.stderr)
        backends.remove("onnxruntime")
    has_bf16 = bf16_supported(torch.device("cpu"))
    if "torch-bf16" in backends and not has_bf16:  # its rows are skipped
        print("this CPU has no bf16 instructions: skipping torch-bf16", file=sys.stderr)
        backends.remove("torch-bf16")

    macs = macs_per_pixel(load_model(args.model))
    fp32 = matmul_ceiling(torch.float32)
    bf16 = f"bf16 {matmul_ceiling(torch.bfloat16):.0f} GFLOP/s" if has_bf16 else "no bf16 instructions"
    lines = [
        f"`{args.model}`: {macs / 1e3:.1f} k multiply-adds per pixel; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads. Ceiling, 2048×2048 matrix product: float32 "
        f"**{fp32:.0f} GFLOP/s**, {bf16}.",
        "",
        "| backend | image | MP/s | GFLOP/s | of float32 ceiling | peak memory | LIVE1 q10 PSNR |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend in backends:
        score = live1_psnr(args.model, backend)
        for size in args.sizes:
            cmd = [sys.executable, "-m", "benchmarks.inference_speed", "--model", args.model]
            cmd += ["--one", backend, str(size)]
            r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout)
            gflops = r["mps"] * 1e6 * 2 * macs / 1e9
            psnr_cell = f"{score:.3f}" if score is not None else "(no data)"
            lines.append(
                f"| {backend} | {size}×{size} | {r['mps']:.2f} | {gflops:.0f} | {gflops / fp32:.0%} "
                f"| {r['peak_mib']:.0f} MiB | {psnr_cell} |"
            )
            print(lines[-1], flush=True)
    lines.append("")
    lines.append(
        f"File to file (`arcnn restore DIR -o OUT`, in one process, the networks loaded in the time) "
        f"against the networks alone on the same decoded planes (padding, tiles; no decoding, quality "
        f"estimate, projection or encoding), one pass each: one 2048×2048 grayscale q10 JPEG, and a "
        f"folder of {args.files} colour q10 JPEGs of 768×512:"
    )
    lines.append("")
    lines.append(
        "| backend | files | restores | images from | seconds | MP/s | networks alone: MP/s | share |"
    )
    lines.append("|---|---|---|---|---|---|---|---|")
    gray, colour = ((2048, 2048), "L"), ((768, 512), "RGB")
    runs = [(backend, 1, gray, False) for backend in backends]
    runs += [(backend, args.files, colour, False) for backend in backends]
    if CHROMA_MODEL in REGISTRY:  # the default for colour JPEGs also restores the chroma
        runs.append(("onnxruntime" if "onnxruntime" in backends else "torch-fp32", args.files, colour, True))
    for backend, n, (size, mode), chroma in runs:
        r = folder_run(args.model, n, backend, chroma, size, mode)
        what = "Y + CbCr" if chroma else "Y" if mode == "L" else "Y (`--chroma off`)"
        files = "one 2048×2048, gray" if mode == "L" else f"{n} of 768×512, colour"
        lines.append(f"| {backend} | {files} | {what} | {r['source']} | {r['seconds']:.1f} | {r['mps']:.2f} "
                     f"| {r['networks_mps']:.2f} | {r['mps'] / r['networks_mps']:.0%} |")  # fmt: skip
        print(lines[-1], flush=True)
    publish("inference-speed", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
