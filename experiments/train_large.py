"""Train the quality-tier network (``arcnn.unet.UNet``, ``arcnn-large``), resumable across machines.

The learning rate is warm-up then constant ("stable"), so a run can go on for as long as there is
compute, session after session; ``--decay-steps N`` branches a copy of the state into a short
cosine decay to zero, which is what gets shipped. One folder holds a run::

    state.safetensors   weights and Adam moments (float32) with step, wall time, config (atomic)
    log.csv             step, train MSE, validation PSNR at q10/20/30/40, wall time

Each crop's JPEG quality is drawn with the image (PSNR weighting: 1/MSE of the JPEG), and goes
in as the quality plane; ``--unknown`` of the crops get the plane 0 ("unknown quality").

    python -m experiments.train_large runs/large --minutes 150            # start or resume
    python -m experiments.train_large runs/large-ship --decay-from runs/large --decay-steps 3000
    python -m experiments.train_large runs/large --export large.safetensors   # weights of the run now
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from arcnn.data import PairSet, image_weights, list_images, make_pairs, sample_batch, shared_data_dir
from arcnn.metrics import psnr
from arcnn.train import git_revision
from arcnn.unet import UNet, UNetConfig, quality_plane

VAL_QUALITIES = (10, 20, 30, 40)


def setup_args() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", help="run folder (resumed if it holds a state)")
    p.add_argument("--minutes", type=float, default=60.0, help="wall time of this invocation")
    p.add_argument("--widths", default="32-64-128-128")
    p.add_argument("--blocks", default="1-1-2-2")
    p.add_argument("--qualities", default="10-15-20-25-30-35-40")
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
    p.add_argument("--decay-from", default="", help="branch: start from this run's state, decay the lr")
    p.add_argument("--decay-steps", type=int, default=0)
    p.add_argument("--export", default="", help="write the run's network as a weights file, and stop")
    return p


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split("-"))


def load_data(qualities: tuple[int, ...], val_images: int) -> tuple[PairSet, np.ndarray, list]:
    """Training pairs of every quality (degraded planes (H, W, 2): quality, Y), draw weights, and
    the validation pairs ``[(quality, clean, degraded), ...]``."""
    root = shared_data_dir() / "bsds500"
    files = list_images(root / "train", root / "test")
    clean, degraded = [], []
    for q in qualities:
        s = make_pairs(files, q)
        clean += s.clean
        degraded += [np.dstack([np.full_like(d, q), d]) for d in s.degraded]
    pairs = PairSet(clean, degraded)
    plain = PairSet(clean, [d[..., 1] for d in degraded])
    val_files = list_images(root / "val")[:val_images]
    val = [(q, c, d) for q in VAL_QUALITIES for c, d in zip(*_lists(make_pairs(val_files, q)))]
    return pairs, image_weights(plain, "psnr"), val


def _lists(s: PairSet) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return s.clean, s.degraded


@torch.no_grad()
def validate(model: UNet, val: list, device: torch.device) -> dict[int, float]:
    """Mean PSNR of the rounded restorations at each validation quality."""
    model.eval()
    scores: dict[int, list[float]] = {q: [] for q in VAL_QUALITIES}
    for q, c, d in val:
        x = torch.from_numpy(d.astype(np.float32) / 255.0)[None, None].to(device)
        x = quality_plane(x, q) if model.config.conditioned else x
        x = x.contiguous(memory_format=torch.channels_last) if device.type == "cpu" else x
        y = model(x)
        out = (y.float().clamp(0, 1) * 255.0).round()[0, 0].cpu().numpy()
        scores[q].append(psnr(c, out))
    model.train()
    return {q: float(np.mean(v)) for q, v in scores.items()}


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
    from safetensors import safe_open

    tensors = load_file(str(path))
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    for i, p in enumerate(model.parameters()):
        if f"adam.{i}.m" in tensors:
            m, v, t = (tensors[f"adam.{i}.{k}"].to(p.device) for k in "mvt")
            opt.state[p] = {"step": t[0].cpu().clone(), "exp_avg": m, "exp_avg_sq": v}
    with safe_open(str(path), "pt") as f:
        return json.loads(f.metadata()["info"])


def export_weights(state_path: Path, out: Path) -> None:
    """The network of a run's state as an arcnn weights file (safetensors, its config inside)."""
    from safetensors import safe_open

    from arcnn.weights import save_weights

    with safe_open(str(state_path), "pt") as f:
        info = json.loads(f.metadata()["info"])
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
    src = state_path if state_path.exists() else Path(args.decay_from) / "state.safetensors"
    resumed = src.exists()
    info = {}
    if resumed:
        from safetensors import safe_open

        with safe_open(str(src), "pt") as f:
            info = json.loads(f.metadata()["info"])
        cfg = UNetConfig.from_dict(info["model_config"])
    else:
        cfg = UNetConfig(widths=_ints(args.widths), blocks=_ints(args.blocks))
    qualities = tuple(info.get("qualities", _ints(args.qualities)))
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
    own = state_path.exists()
    decay_start = (info.get("decay_start", 0) if own else step) if args.decay_steps else 0
    end = decay_start + args.decay_steps if args.decay_steps else None
    if not log_path.exists():
        with open(log_path, "w", newline="") as f:
            csv.writer(f).writerow(["step", "train_mse", *[f"val_q{q}" for q in VAL_QUALITIES], "elapsed_s"])

    pairs, weights, val = load_data(qualities, args.val_images)
    print(f"{sum(p.numel() for p in model.parameters())} parameters, {len(pairs)} pairs, "
          f"border {cfg.border}, threads {torch.get_num_threads()}", flush=True)  # fmt: skip

    def checkpoint() -> None:
        save_state(state_path, model, opt, {"step": step, "elapsed": elapsed, "model_config": asdict(cfg),
                   "qualities": list(qualities), "decay_start": decay_start,
                   "command": info.get("command", " ".join(sys.argv)),
                   "git_revision": info.get("git_revision", git_revision())})  # fmt: skip

    t0, last_ckpt, losses = time.monotonic(), time.monotonic(), []
    base = elapsed
    while time.monotonic() - t0 < 60 * args.minutes and (end is None or step < end):
        rng = np.random.default_rng([args.seed, step])
        x, y = sample_batch(pairs, rng, args.batch, args.patch, True, weights, transpose=False)
        x, y = x.to(device, non_blocking=True, memory_format=fmt), y.to(device, non_blocking=True)
        x[:, 0] *= 2.55  # the plane held q/255 (a uint8 image); the network reads q/100
        x[:, 0] *= torch.from_numpy(rng.random(args.batch) >= args.unknown).float().to(device)[:, None, None]
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
            v, mse = validate(model, val, device), torch.stack(losses).mean().item()
            with open(log_path, "a", newline="") as f:
                csv.writer(f).writerow([step, f"{mse:.6g}", *[f"{v[q]:.4f}" for q in v], f"{elapsed:.0f}"])
            scores = " ".join(f"q{q} {s:.3f}" for q, s in v.items())
            print(
                f"step {step} mse {mse:.3e} val {scores} {elapsed / 3600:.2f} h",
                flush=True,
            )
            losses = []
        if time.monotonic() - last_ckpt > args.checkpoint_s:
            checkpoint()
            last_ckpt = time.monotonic()
    checkpoint()
    return 0


if __name__ == "__main__":
    sys.exit(main())
