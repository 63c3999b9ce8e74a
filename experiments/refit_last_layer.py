"""Refit a trained network's last (linear) layer in closed form on its training set.

    python -m experiments.refit_last_layer experiments/weights/arcnn-q10-gpu4.safetensors 10 \
        runs/arcnn-q10-refit --objective psnr

The layers before the last are kept. Their features on every pixel of the 400 BSDS500
train+test images (the protocol's JPEG at ``quality``, no flips: the JPEGs a model meets are
not flipped ones) give per-image normal equations (``arcnn.train.last_layer_stats``, cached in
OUT/stats.npz); their solution (``arcnn.train.refit_last_layer``) is the last layer that
maximises the mean image PSNR on the training set (``--objective psnr``) or minimises the pooled
MSE, which SGD only approaches. Prints the training and validation (BSDS500 val) PSNR before
and after; writes OUT/model.safetensors with this command, the git revision, its time and both scores
in the metadata (key ``refit``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from arcnn.data import list_images, make_pairs
from arcnn.files import atomic_write
from arcnn.train import (
    LastLayerStats,
    git_revision,
    last_layer_stats,
    last_layer_weights,
    refit_last_layer,
    validate,
)
from arcnn.weights import load_weights_file, read_weights, save_weights
from benchmarks._common import require_data


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights")
    p.add_argument("quality", type=int)
    p.add_argument("out")
    p.add_argument("--objective", choices=["mse", "psnr"], default="psnr", help="pooled MSE, mean image PSNR")
    a = p.parse_args(argv)
    args = sys.argv[1:] if argv is None else argv
    command = " ".join(["python", "-m", "experiments.refit_last_layer", *args])
    root = require_data("bsds500")
    t0 = time.time()
    try:
        model = load_weights_file(a.weights)
        train = make_pairs(list_images(root / "train", root / "test"), a.quality)
        val = make_pairs(list_images(root / "val"), a.quality)
        out = Path(a.out)
        cache = out / "stats.npz"
        if cache.exists():
            with np.load(cache) as z:
                stats = LastLayerStats(*(torch.from_numpy(z[k]) for k in "ABCN"))
                t0 -= float(z["seconds"])  # the time the statistics took when they were computed
        else:
            stats = last_layer_stats(model, train)
            out.mkdir(parents=True, exist_ok=True)
            arrays = {k: getattr(stats, k).numpy() for k in "ABCN"}
            with atomic_write(cache) as tmp, open(tmp, "wb") as f:  # never a half-written cache to resume
                np.savez(f, **arrays, seconds=time.time() - t0)
        w0 = last_layer_weights(model)
        before = validate(model, val, torch.device("cpu"), bf16=False)
        refit_last_layer(model, stats, a.objective)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    w = last_layer_weights(model)
    after = validate(model, val, torch.device("cpu"), bf16=False)
    print(f"train mean PSNR (before rounding): {stats.mean_psnr(w0):.4f} -> {stats.mean_psnr(w):.4f}")
    print(f"val PSNR: {before:.4f} -> {after:.4f} ({after - before:+.4f})")
    meta, _ = read_weights(a.weights)
    info = {"command": command, "git_revision": git_revision(),
            "seconds": round(time.time() - t0, 1), "threads": torch.get_num_threads(),
            "val_before": round(before, 4), "val_after": round(after, 4)}  # fmt: skip
    save_weights(out / "model.safetensors", model, meta | {"refit": json.dumps(info)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
