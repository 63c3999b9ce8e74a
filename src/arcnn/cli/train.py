"""``arcnn train``: train a network (see docs/training.md)."""

from __future__ import annotations

import argparse
import shlex
from typing import TYPE_CHECKING

from arcnn.cli._common import box_arg, qualities_arg

if TYPE_CHECKING:
    from arcnn.train import TrainConfig

__all__ = ["add_parser", "run", "train_config"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train", help="train a network (see docs/training.md)")
    t.add_argument("--model", default="arcnn", help="preset: arcnn, srcnn, deeper-srcnn, arcnn5, "
                   "fast-arcnn, deep-arcnn, deep-arcnn-thin")  # fmt: skip
    t.add_argument("--quality", type=int, default=10)
    t.add_argument("--qualities", type=qualities_arg, default=None,
                   help="one quality-blind model for several: '5,10,20' or 'LO-HI/STEP'")  # fmt: skip
    t.add_argument("--scale", type=float, default=None, help="resize every image by this factor first")
    t.add_argument("--codec", choices=["jpeg", "webp"], default=None, help="the lossy codec to undo")
    t.add_argument("--target", choices=["y", "cbcr"], default=None,
                   help="y: luminance (default); cbcr: a chroma model for colour JPEGs (4:2:0)")  # fmt: skip
    t.add_argument("--box", type=box_arg, default=None,
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


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The ``TrainConfig`` a parsed ``arcnn train`` command line asks for."""
    from arcnn.train import make_config

    keys = ("quality", "qualities", "target", "codec", "scale", "box", "init", "init_from", "init_layers",
            "freeze", "steps", "minutes", "batch", "patch", "lr", "warmup", "loss", "weighting", "schedule",
            "transpose", "revive", "seed", "val_every", "val_images", "train_dirs", "val_dir",
            "bf16")  # fmt: skip
    return make_config(args.recipe, model=args.model, **{k: getattr(args, k) for k in keys})


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    import torch

    from arcnn.train import train

    cfg = train_config(args)
    command = "arcnn " + shlex.join(argv or [])
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    path = train(cfg, args.out, resume=args.resume, device=device, command=command)
    print(f"weights written to {path}")
    return 0
