"""Why the fast recipe uses lr 3e-4 with warm-up: short runs that count dead ReLU units.

    python -m benchmarks.recipe_ab [--steps 1500] [--out /tmp/recipe_ab]

Trains arcnn q10 for ``--steps`` steps (batch 16, 64 px, constant learning rate after any
warm-up) under each setting, then reports validation PSNR on the first 10 BSDS500 val images
and, per hidden layer, the units that never fire on LIVE1 parrots (q10 JPEG, as
``benchmarks.dead_units`` counts them). Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from arcnn.codec import jpeg_roundtrip
from arcnn.data import load_luma
from arcnn.plot import read_log
from arcnn.train import make_config, train
from arcnn.zoo import load_model
from benchmarks._common import require_data
from benchmarks.dead_units import dead_units, dead_units_text

SETTINGS = {
    "Adam 1e-3": dict(lr=1e-3),
    "Adam 1e-3, warm-up 1000": dict(lr=1e-3, warmup=1000),
    "Adam 3e-4, warm-up 500": dict(lr=3e-4, warmup=500),
    "Adam 1e-4": dict(lr=1e-4),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--out", default="/tmp/recipe_ab")
    args = ap.parse_args(argv)
    parrots = load_luma(require_data("live1") / "parrots.png")
    z = jpeg_roundtrip(parrots, 10)
    lines = ["| setting | val PSNR (10 images) | dead units per hidden layer |", "|---|---|---|"]
    for i, (name, kw) in enumerate(SETTINGS.items()):
        defaults = dict(warmup=0, schedule="constant", val_every=args.steps, val_images=10)
        cfg = make_config("fast", model="arcnn", quality=10, steps=args.steps, **{**defaults, **kw})
        run = Path(args.out) / f"setting{i}"
        weights = train(cfg, run, resume=(run / "checkpoint.pt").exists(), log=lambda *_: None)
        val = read_log(run / "log.csv")["val_psnr"][-1]
        lines.append(f"| {name} | {val:.3f} | {dead_units_text(dead_units(load_model(weights), z))} |")
        print(lines[-1], flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
