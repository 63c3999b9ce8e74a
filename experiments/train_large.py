"""Train the quality-tier U-Nets (``arcnn.unet.UNet``): luminance (``arcnn-large``) or chroma, resumable.

The learning rate is warm-up then constant ("stable"), so a run can go on for as long as there is
compute, session after session; ``--decay-steps N`` branches a copy of the state into a short
cosine decay to zero, which is what gets shipped. One folder holds a run::

    state.safetensors   weights and Adam moments (float32) with step, wall time, config (atomic)
    log.csv             step, train MSE, validation PSNR at q10/20/30/40, wall time

Each crop's JPEG quality is drawn with the image (PSNR weighting: 1/MSE of the JPEG), and goes
in as the quality plane; ``--unknown`` of the crops get the plane 0 ("unknown quality").

``--target cbcr`` trains the chroma network instead: (Y, Cb, Cr) of a colour JPEG as libjpeg
decodes it -> the clean (Cb, Cr), at half resolution (``--unshuffle 2``); mostly 4:2:0 JPEGs,
some 4:2:2 and 4:4:4 (``SUBSAMPLINGS``), crops on the 16-px grid of a 4:2:0 JPEG's chroma
blocks; validation scores Cb/Cr PSNR and the RGB PSNR with the clean Y (4:2:0).

``--target yfull`` trains a luminance network for colour JPEGs, usually as a decay branch of a
``y`` run: the JFIF (full-range) Y of 4:2:0 colour JPEGs -> the clean JFIF Y, mapped to the
studio range and told the matched quality exactly as ``restore_luma(full_range=True)`` does;
validation scores the full-range Y of the colour JPEGs of BSDS500 val.

    python -m experiments.train_large runs/large --minutes 150            # start or resume
    python -m experiments.train_large runs/chroma --target cbcr --minutes 90
    python -m experiments.train_large runs/large-ship --decay-from runs/large --decay-steps 3000
    python -m experiments.train_large runs/colour --target yfull --decay-from runs/large --decay-steps 3000
    python -m experiments.train_large runs/large --export large.safetensors   # weights of the run now
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from arcnn.data import (
    Degradation,
    PairSet,
    concat_pairs,
    image_weights,
    jfif_rgb,
    list_images,
    make_pairs,
    sample_batch,
    shared_data_dir,
)
from arcnn.engine import from_studio, network_quality, to_studio
from arcnn.files import write_bytes_atomic
from arcnn.metrics import psnr
from arcnn.train import git_revision
from arcnn.unet import UNet, UNetConfig, quality_plane

VAL_QUALITIES = (10, 20, 30, 40)
QUALITIES = {
    "y": "10-15-20-25-30-35-40",
    "yfull": "10-15-20-25-30-40",
    "cbcr": "5-10-15-20-25-30-40-50-60-75-90-95",
}
# Chroma: share of the crops from each subsampling, and its qualities (None: --qualities). Cameras
# and Pillow write 4:2:0; 4:2:2 and 4:4:4 at a few qualities, so the network knows them too.
SUBSAMPLINGS = {"4:2:0": (0.7, None), "4:2:2": (0.15, (10, 40, 90)), "4:4:4": (0.15, (10, 40, 90))}
TARGETS = ("y", "yfull", "cbcr")
ALIGN = 16  # chroma crops start on a 4:2:0 JPEG's chroma block grid, as whole images do


def setup_args() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", help="run folder (resumed if it holds a state)")
    p.add_argument("--minutes", type=float, default=60.0, help="wall time of this invocation")
    p.add_argument(
        "--target",
        choices=TARGETS,
        default="y",
        help="luminance; colour JPEGs' full-range luminance; or chroma (Cb, Cr)",
    )
    p.add_argument("--widths", default="32-64-128-128")
    p.add_argument("--blocks", default="1-1-2-2")
    p.add_argument("--unshuffle", type=int, default=0, help="0: 1 for y, 2 for cbcr")
    p.add_argument(
        "--qualities",
        default="",
        help=f"default {QUALITIES['y']}, or {QUALITIES['cbcr']} (cbcr); a branch: its source's unless given",
    )
    p.add_argument("--unknown", type=float, default=0.1, help="share of crops with the quality unknown")
    p.add_argument("--lr", type=float, default=4e-4)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--patch", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-every", type=int, default=1000)
    p.add_argument("--val-images", type=int, default=25)
    p.add_argument("--checkpoint-s", type=float, default=300.0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--device", default="cpu", help="cpu, or cuda (bf16 autocast there)")
    p.add_argument("--workers", type=int, default=0, help="processes drawing batches (0: the trainer)")
    p.add_argument(
        "--decay-from",
        default="",
        help="branch: start from this run's state (or a weights "
        "file's network, fresh Adam moments), decay the lr",
    )
    p.add_argument("--decay-steps", type=int, default=0)
    p.add_argument("--export", default="", help="write the run's network as a weights file, and stop")
    return p


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split("-"))


# One training batch from a seeded generator: (degraded, clean) float32 tensors in [0, 1], the
# degraded (N, inputs, P, P) with the quality plane (q/100, 0: unknown) in front.
Draw = Callable[[np.random.Generator], tuple[torch.Tensor, torch.Tensor]]
# A set of pairs: the images and how each is degraded (``make_pairs``'s arguments).
Job = tuple[list[Path], Degradation]


def pair_jobs(target: str, qualities: tuple[int, ...], val_images: int) -> tuple[list[Job], list[Job]]:
    """``(files, degradation)`` of each set of a run's training pairs (BSDS500 train+test) and of its
    validation pairs (the first ``val_images`` of BSDS500 val): the sets ``load_data``,
    ``chroma_data`` and ``prebuild`` make."""
    root = shared_data_dir() / "bsds500"
    files, val_files = list_images(root / "train", root / "test"), list_images(root / "val")[:val_images]
    if target == "y":
        val = [(val_files, Degradation(q)) for q in VAL_QUALITIES]
        return [(files, Degradation(q)) for q in qualities], val
    # yfull: the 4:2:0 sets of a chroma run (their caches serve both)
    sets = chroma_sets(qualities) if target == "cbcr" else [(q, "4:2:0") for q in qualities]
    train = [(files, Degradation(q, chroma=True, subsampling=sub)) for q, sub in sets]
    return train, [(val_files, Degradation(q, chroma=True)) for q in VAL_QUALITIES]


def load_data(qualities: tuple[int, ...], val_images: int) -> tuple[PairSet, np.ndarray, list]:
    """Training pairs of every quality (degraded planes (H, W, 2): quality, Y), draw weights, and
    the validation pairs ``[(quality, clean, degraded), ...]``."""
    train, val_jobs = pair_jobs("y", qualities, val_images)
    clean, degraded = [], []
    for files, deg in train:
        s = make_pairs(files, deg)
        clean += s.clean
        degraded += [np.dstack([np.full_like(d, deg.quality), d]) for d in s.degraded]
    pairs = PairSet(clean, degraded)
    plain = PairSet(clean, [d[..., 1] for d in degraded])
    val = [(deg.quality, c, d) for files, deg in val_jobs for c, d in zip(*_lists(make_pairs(files, deg)))]
    return pairs, image_weights(plain, "psnr"), val


def _lists(s: PairSet) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return s.clean, s.degraded


def _forget(x: torch.Tensor, rng: np.random.Generator, unknown: float) -> torch.Tensor:
    """``x`` with the quality plane zeroed ("unknown") in a share ``unknown`` of the crops."""
    x[:, 0] *= torch.from_numpy(rng.random(len(x)) >= unknown).float()[:, None, None]
    return x


def luma_data(qualities: tuple[int, ...], args: argparse.Namespace) -> tuple[Draw, list, int]:
    """The luminance run's batches (Y -> Y), its validation pairs, and how many training pairs."""
    pairs, weights, val = load_data(qualities, args.val_images)

    def draw(rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = sample_batch(pairs, rng, args.batch, args.patch, True, weights, transpose=False)
        x[:, 0] *= 2.55  # the plane held q/255 (a uint8 image); the network reads q/100
        return _forget(x, rng, args.unknown), y

    return draw, val, len(pairs)


def prebuild(target: str = "y", workers: int = 16, val_images: int = 25, qualities: str = "") -> None:
    """Build a run's pair caches (``make_pairs``) in ``workers`` processes, so that a fresh machine
    (a lent GPU) does not build them one by one; the run then loads them. ``qualities``: as the
    trainer's ``--qualities`` ("" for the target's default)."""
    from concurrent.futures import ProcessPoolExecutor

    train, val = pair_jobs(target, _ints(qualities or QUALITIES[target]), val_images)
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_build, train + val))


def _build(job: tuple) -> None:
    make_pairs(*job)


class Batches(torch.utils.data.Dataset):
    """Batch ``s`` of a run is ``draw(default_rng([seed, s]))``, whichever process draws it."""

    def __init__(self, draw: Draw, seed: int) -> None:
        self.draw, self.seed = draw, seed

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, s: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.draw(np.random.default_rng([self.seed, s]))


def batches(draw: Draw, args: argparse.Namespace, start: int, cuda: bool):
    """The batches from step ``start`` on, drawn in ``args.workers`` processes (0: here)."""
    if not args.workers:
        return (draw(np.random.default_rng([args.seed, s])) for s in itertools.count(start))
    loader = torch.utils.data.DataLoader(
        Batches(draw, args.seed), batch_size=None, sampler=itertools.count(start),
        num_workers=args.workers, pin_memory=cuda, prefetch_factor=4, persistent_workers=True,
    )  # fmt: skip
    return iter(loader)


def chroma_sets(qualities: tuple[int, ...]) -> list[tuple[int, str]]:
    """(quality, subsampling) of each set of chroma training pairs: ``qualities`` at 4:2:0, the
    other subsamplings' own qualities up to the highest of them."""
    top = max(qualities)
    return [(q, sub) for sub, (_, qs) in SUBSAMPLINGS.items() for q in (qs or qualities) if q <= top]


def _cbcr(pairs: PairSet) -> PairSet:
    """Pairs of (H, W, 2) clean CbCr with the degraded image's CbCr (views, not copies)."""
    return PairSet(pairs.clean, [d[..., 1:] for d in pairs.degraded])


def psnr_split(sets: list[PairSet]) -> tuple[np.ndarray, list[np.ndarray]]:
    """PSNR weighting (1 / MSE of the JPEG) over the images of all ``sets``, as the probability of
    drawing each set (summing to 1) and of each image within it."""
    w = image_weights(concat_pairs(sets), "psnr")
    parts = np.split(w, np.cumsum([len(s) for s in sets])[:-1])
    return np.array([p.sum() for p in parts]), [p / p.sum() for p in parts]


def set_weights(sets: list[tuple[int, str, PairSet]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Probability of drawing each set and of each image within it: within a subsampling, PSNR
    weighting of the JPEG's Cb and Cr over all its qualities; between them, its share."""
    set_p, within = np.zeros(len(sets)), [np.empty(0)] * len(sets)
    for sub, (share, _) in SUBSAMPLINGS.items():
        idx = [i for i, (_, s, _) in enumerate(sets) if s == sub]
        if not idx:  # no set of this subsampling (all its qualities above the run's): its share goes
            continue
        sums, parts = psnr_split([_cbcr(sets[i][2]) for i in idx])
        for i, total, part in zip(idx, sums, parts):
            set_p[i], within[i] = share * total, part
    return set_p / set_p.sum(), within


def colour_luma_data(qualities: tuple[int, ...], args: argparse.Namespace) -> tuple[Draw, list, int]:
    """The ``yfull`` run's batches (a 4:2:0 colour JPEG's JFIF Y -> the clean JFIF Y, both mapped
    to the studio range, with the matched quality plane: ``restore_luma(full_range=True)``'s
    input), its validation pairs ``[(quality, clean Y, decoded Y), ...]`` (uint8 (H, W)), and how
    many training pairs."""
    train, val_jobs = pair_jobs("yfull", qualities, args.val_images)
    sets: list[tuple[int | None, PairSet]] = []
    clean: list[np.ndarray] = []
    for files, deg in train:
        s = make_pairs(files, deg)
        clean = clean or [np.ascontiguousarray(c[..., 0]) for c in s.clean]  # the same in every set
        luma = [np.ascontiguousarray(d[..., 0]) for d in s.degraded]
        sets.append((network_quality(deg.quality), PairSet(clean, luma)))
    set_p, within = psnr_split([p for _, p in sets])

    def draw(rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        xs, ys = [], []
        for (q, pairs), w, n in zip(sets, within, rng.multinomial(args.batch, set_p)):
            if n:
                x, y = sample_batch(pairs, rng, int(n), args.patch, True, w, transpose=False)
                xs.append(quality_plane(to_studio(x), q or 0))
                ys.append(to_studio(y))
        return _forget(torch.cat(xs), rng, args.unknown), torch.cat(ys)

    val = [
        (deg.quality, c[..., 0], d[..., 0])
        for files, deg in val_jobs
        for c, d in zip(*_lists(make_pairs(files, deg)))
    ]
    return draw, val, sum(len(p) for _, p in sets)


def chroma_data(qualities: tuple[int, ...], args: argparse.Namespace) -> tuple[Draw, list, int]:
    """The chroma run's batches ((Y, Cb, Cr) as decoded -> clean (Cb, Cr), uint8 (H, W, 3) and
    (H, W, 2) images), its validation pairs ``[(quality, clean YCbCr, degraded, clean RGB), ...]``
    (4:2:0), and how many training pairs."""
    train, val_jobs = pair_jobs("cbcr", qualities, args.val_images)
    sets: list[tuple[int, str, PairSet]] = []
    clean: list[np.ndarray] = []
    for files, deg in train:
        s = make_pairs(files, deg)
        # The clean image is the same in every set: kept once, as (Cb, Cr).
        clean = clean or [np.ascontiguousarray(c[..., 1:]) for c in s.clean]
        sets.append((deg.quality, deg.subsampling, PairSet(clean, s.degraded)))
    set_p, within = set_weights(sets)

    def draw(rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        xs, ys = [], []
        for (q, _, pairs), w, n in zip(sets, within, rng.multinomial(args.batch, set_p)):
            if n:
                x, y = sample_batch(pairs, rng, int(n), args.patch, True, w, transpose=False, align=ALIGN)
                xs.append(quality_plane(x, q))
                ys.append(y)
        return _forget(torch.cat(xs), rng, args.unknown), torch.cat(ys)

    rgb = [_load_rgb(f) for f in val_jobs[0][0]]
    val = []
    for files, deg in val_jobs:
        s = make_pairs(files, deg)
        val += [(deg.quality, c, d, r) for c, d, r in zip(s.clean, s.degraded, rgb)]
    return draw, val, sum(len(p) for _, _, p in sets)


def _load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def score_names(channels: int) -> list[str]:
    """What validation scores: "q10": PSNR of Y, or of Cb and Cr (channels 2) at q10; "rgb_q10":
    RGB PSNR with the clean Y and the restored Cb, Cr."""
    names = [f"q{q}" for q in VAL_QUALITIES]
    return names + [f"rgb_q{q}" for q in VAL_QUALITIES] if channels == 2 else names


def _restored(
    model: UNet, d: np.ndarray, q: int, device: torch.device, full_range: bool = False
) -> np.ndarray:
    """The network's rounded output for a uint8 (H, W) or (H, W, 3) image: (C, H, W) on 0..255.
    ``full_range``: ``d`` is a colour JPEG's JFIF Y, mapped as ``restore_luma`` maps it."""
    planes = d[None] if d.ndim == 2 else d.transpose(2, 0, 1)
    x = torch.from_numpy(planes.astype(np.float32) / 255.0)[None].to(device)
    if full_range:
        x, q = to_studio(x), network_quality(q) or 0
    x = quality_plane(x, q) if model.config.conditioned else x
    x = x.contiguous(memory_format=torch.channels_last) if device.type == "cpu" else x
    y = model(x).float()
    return ((from_studio(y) if full_range else y).clamp(0, 1) * 255.0).round()[0].cpu().numpy()


def _side_by_side(planes: np.ndarray) -> np.ndarray:
    """(H, W, C) -> (H, W * C): one 2-D image for ``psnr`` over every channel."""
    return planes.reshape(planes.shape[0], -1)


@torch.no_grad()
def validate(model: UNet, val: list, device: torch.device, full_range: bool = False) -> dict[str, float]:
    """Mean PSNR of the rounded restorations at each validation quality (``score_names``);
    ``full_range``: of colour JPEGs' JFIF Y (``--target yfull``)."""
    model.eval()
    scores: dict[str, list[float]] = {k: [] for k in score_names(model.config.channels)}
    for q, c, d, *rgb in val:
        out = _restored(model, d, q, device, full_range)
        if not rgb:
            scores[f"q{q}"].append(psnr(c, out[0]))
            continue
        cbcr = out.transpose(1, 2, 0)
        scores[f"q{q}"].append(psnr(_side_by_side(c[..., 1:]), _side_by_side(cbcr)))
        back = jfif_rgb(np.dstack([c[..., :1], cbcr]).astype(np.uint8))
        scores[f"rgb_q{q}"].append(psnr(_side_by_side(rgb[0]), _side_by_side(back)))
    model.train()
    return {k: float(np.mean(v)) for k, v in scores.items()}


def save_state(path: Path, model: UNet, opt: torch.optim.Adam, info: dict) -> None:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for i, p in enumerate(model.parameters()):
        st = opt.state.get(p)
        if st:
            m, v = st["exp_avg"].cpu().contiguous(), st["exp_avg_sq"].cpu().contiguous()
            tensors[f"adam.{i}.m"], tensors[f"adam.{i}.v"] = m, v
            tensors[f"adam.{i}.t"] = st["step"].reshape(1).float().cpu()
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(tmp), metadata={"info": json.dumps(info)})
    os.replace(tmp, path)


def load_state(path: Path, model: UNet, opt: torch.optim.Adam) -> dict:
    """Load a run's state (or a weights file's network) into ``model`` and ``opt``; its info."""
    tensors = load_file(str(path))
    weights = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    model.load_state_dict(weights or tensors)
    for i, p in enumerate(model.parameters()):
        if f"adam.{i}.m" in tensors:
            m, v, t = (tensors[f"adam.{i}.{k}"].to(p.device) for k in "mvt")
            opt.state[p] = {"step": t[0].cpu().clone(), "exp_avg": m, "exp_avg_sq": v}
    return _read_info(path)


def export_weights(state_path: Path, out: Path) -> None:
    """The network of a run's state as an arcnn weights file (safetensors, its config inside)."""
    from arcnn.weights import save_weights

    info = _read_info(state_path)
    model = UNet(UNetConfig.from_dict(info["model_config"]))
    model.load_state_dict({k[6:]: v for k, v in load_file(str(state_path)).items() if k.startswith("model.")})
    meta = {k: str(info.get(k, "")) for k in ("step", "command", "git_revision")}
    save_weights(out, model, {**meta, "run_hours": f"{info['elapsed'] / 3600:.2f}"})


def lr_at(args: argparse.Namespace, step: int, decay_start: int) -> float:
    warm = min(1.0, (step + 1) / args.warmup) if args.warmup else 1.0
    if not args.decay_steps:
        return args.lr * warm
    t = min(1.0, (step - decay_start) / args.decay_steps)
    return args.lr * warm * 0.5 * (1 + math.cos(math.pi * t))


def new_config(args: argparse.Namespace) -> UNetConfig:
    """The network a new run trains: luminance (Y -> Y), or chroma ((Y, Cb, Cr) -> (Cb, Cr))."""
    chroma = args.target == "cbcr"
    return UNetConfig(widths=_ints(args.widths), blocks=_ints(args.blocks), planes=3 if chroma else 1,
                      channels=2 if chroma else 1, unshuffle=args.unshuffle or 1 + chroma)  # fmt: skip


def _read_info(src: Path) -> dict:
    """A run state's info, or the same keys from a weights file's metadata (``export_weights``)."""
    from safetensors import safe_open

    with safe_open(str(src), "pt") as f:
        meta = f.metadata()
    if "info" in meta:
        return json.loads(meta["info"])
    info = {k: meta[k] for k in ("command", "git_revision") if k in meta}
    hours = float(meta.get("run_hours") or 0)
    return {**info, "step": int(meta.get("step") or 0), "elapsed": 3600 * hours,
            "model_config": json.loads(meta["model_config"])}  # fmt: skip


def log_scores(log_path: Path, step: int, mse: float | None, v: dict[str, float], elapsed: float) -> None:
    """One row of the log (``mse`` None: before any training), and the same on stdout."""
    with open(log_path, "a", newline="") as f:
        row = [step, "" if mse is None else f"{mse:.6g}", *[f"{s:.4f}" for s in v.values()], f"{elapsed:.0f}"]
        csv.writer(f).writerow(row)
    scores = " ".join(f"{k} {s:.3f}" for k, s in v.items())
    print(f"step {step} mse {mse or 0:.3e} val {scores} {elapsed / 3600:.2f} h", flush=True)


def trim_log(log_path: Path, step: int) -> None:
    """Drop the log's rows past ``step``: a run stopped between a validation and its next checkpoint
    resumes from the checkpoint and logs those steps again."""
    with open(log_path, newline="") as f:
        rows = list(csv.reader(f))
    kept = rows[:1] + [r for r in rows[1:] if int(r[0]) <= step]
    if len(kept) < len(rows):
        text = io.StringIO()
        csv.writer(text).writerows(kept)
        write_bytes_atomic(log_path, text.getvalue().encode())


def provenance(info: dict, own: bool) -> dict:
    """The state's ``info`` with this invocation's command (and git revision) added: always for a
    branch, whose weights come from both runs; for a run resumed from its own state, when the
    command differs from the last one kept (other flags, such as a new ``--lr``)."""
    command = " ".join(sys.argv)
    if not own:
        return {**info, "command": f"{info.get('command', '?')}, then {command}",
                "git_revision": f"{info.get('git_revision', '?')}, then {git_revision()}"}  # fmt: skip
    if info.get("command", command).endswith(command):
        return info
    return {**info, "command": f"{info['command']}, then {command}"}


def main(argv: list[str] | None = None) -> int:
    args = setup_args().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    if args.export:
        export_weights(out / "state.safetensors", Path(args.export))
        return 0
    out.mkdir(parents=True, exist_ok=True)
    state_path, log_path = out / "state.safetensors", out / "log.csv"
    own = state_path.exists()
    src = state_path if own else Path(args.decay_from)
    src = src / "state.safetensors" if src.is_dir() else src
    resumed = src.exists()
    info = _read_info(src) if resumed else {}
    target = info.get("target", "y") if resumed else args.target
    # a branch of a luminance run may go on with colour JPEGs' luminance: the same network
    switched = target != args.target
    if switched and (own or {target, args.target} != {"y", "yfull"}):
        raise SystemExit(f"{src} is a --target {target} run, not {args.target}")
    target = args.target
    cfg = UNetConfig.from_dict(info["model_config"]) if resumed else new_config(args)
    default = _ints(args.qualities or QUALITIES[target])
    # a branch may train on other qualities than its source (--qualities given)
    new = switched or (not own and bool(args.qualities))
    qualities = default if new else tuple(info.get("qualities", default))
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    torch.backends.cudnn.benchmark = cuda  # fixed shapes: let cuDNN pick its fastest kernels
    # channels-last convolutions are the faster layout for oneDNN on CPU
    fmt = torch.preserve_format if cuda else torch.channels_last
    model = UNet(cfg).to(device, memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step, elapsed = 0, 0.0
    if resumed:
        info = load_state(src, model, opt)
        step, elapsed = info["step"], info["elapsed"]
        print(f"resumed {src} at step {step} ({elapsed / 3600:.2f} h)", flush=True)
    # A new run's provenance is taken once, at its start: the tree may change while it trains.
    info = (
        provenance(info, own) if resumed else {"command": " ".join(sys.argv), "git_revision": git_revision()}
    )
    if own and log_path.exists():
        trim_log(log_path, step)
    decay_start = (info.get("decay_start", 0) if own else step) if args.decay_steps else 0
    end = decay_start + args.decay_steps if args.decay_steps else None
    if not log_path.exists():
        with open(log_path, "w", newline="") as f:
            names = [f"val_{k}" for k in score_names(cfg.channels)]
            csv.writer(f).writerow(["step", "train_mse", *names, "elapsed_s"])

    data = {"y": luma_data, "yfull": colour_luma_data, "cbcr": chroma_data}[target]
    draw, val, n_pairs = data(qualities, args)
    print(f"{sum(p.numel() for p in model.parameters())} parameters, {n_pairs} pairs, "
          f"border {cfg.border}, threads {torch.get_num_threads()}", flush=True)  # fmt: skip
    full = target == "yfull"
    if not resumed or switched:  # the identity (a new network) scores the JPEG; a switched branch, its source
        log_scores(log_path, step, None, validate(model, val, device, full), elapsed)

    def checkpoint() -> None:
        extra = {} if target == "y" else {"target": target}  # a luminance state keeps its keys
        save_state(state_path, model, opt, {"step": step, "elapsed": elapsed, "model_config": cfg.to_dict(),
                   "qualities": list(qualities), "decay_start": decay_start,
                   "command": info["command"], "git_revision": info["git_revision"], **extra})  # fmt: skip

    t0, last_ckpt, losses = time.monotonic(), time.monotonic(), []
    base = elapsed
    stream = batches(draw, args, step, cuda)
    while time.monotonic() - t0 < 60 * args.minutes and (end is None or step < end):
        x, y = next(stream)
        x, y = x.to(device, non_blocking=True, memory_format=fmt), y.to(device, non_blocking=True)
        for g in opt.param_groups:
            g["lr"] = lr_at(args, step, decay_start)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            loss = torch.mean((model(x).float() - y) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.detach())  # kept on the device: a per-step .item() would stall a GPU
        step += 1
        elapsed = base + time.monotonic() - t0
        if step % args.val_every == 0 or (end is not None and step == end):
            mse = torch.stack(losses).mean().item()
            log_scores(log_path, step, mse, validate(model, val, device, full), elapsed)
            losses = []
        if time.monotonic() - last_ckpt > args.checkpoint_s:
            checkpoint()
            last_ckpt = time.monotonic()
    checkpoint()
    return 0


if __name__ == "__main__":
    sys.exit(main())
