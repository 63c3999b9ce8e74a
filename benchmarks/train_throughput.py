"""Training throughput on this machine: samples and output megapixels per second per setting.

    python -m benchmarks.train_throughput [--threads N] [--seconds S] [--write]

Times full training steps (forward, MSE, backward, optimiser) of the 9-7-1-5 network
on random data, for the paper recipe's setting and the fast recipe's, float32 and
bf16 autocast, NCHW and channels-last. No research data needed.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from arcnn.models import ConvStack, preset
from arcnn.train import bf16_supported
from benchmarks._common import matmul_ceiling, write_readme_block


def train_flops(model: ConvStack, patch: int) -> float:
    """FLOPs of one training sample of ``patch`` x ``patch`` pixels, counted by PyTorch's FLOP counter
    (as ``arcnn.flops`` counts) over a forward and a backward pass: the backward's weight and input
    gradients, less the first layer's gradient with respect to the image, which is never computed.

    Not ``arcnn.flops.macs_per_pixel`` times the output pixels: that is the cost per pixel of a large
    image, while the valid convolutions of a small patch also work on the border the output loses."""
    counter = FlopCounterMode(display=False)
    with counter:
        model(torch.rand(1, 1, patch, patch)).sum().backward()
    model.zero_grad(set_to_none=True)
    return float(counter.get_total_flops())


def measure(
    patch: int, batch: int, bf16: bool, channels_last: bool, seconds: float, model_name: str = "arcnn"
) -> tuple[float, float, float]:
    """(samples/s, supervised output MP/s, training GFLOP/s)."""
    model = ConvStack(preset(model_name, residual=True))
    flops = train_flops(model, patch)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    b = model.config.border
    x = torch.rand(batch, 1, patch, patch).to(memory_format=fmt)
    y = torch.rand(batch, 1, patch - 2 * b, patch - 2 * b)
    steps, start = 0, None
    while True:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            pred = model(x)
        loss = torch.mean((pred.float() - y) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if start is None:  # first step warms up kernels
            start = time.perf_counter()
            continue
        steps += 1
        dt = time.perf_counter() - start
        if dt >= seconds:
            break
    samples = steps * batch / dt
    return samples, samples * (patch - 2 * b) ** 2 / 1e6, samples * flops / 1e9


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--write", action="store_true", help="update the table in docs/training.md")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    has_bf16 = bf16_supported(torch.device("cpu"))
    ceiling = {False: matmul_ceiling(torch.float32), True: matmul_ceiling(torch.bfloat16)}
    lines = [
        f"torch {torch.__version__}, {args.threads} threads, CPU bf16 instructions: {has_bf16}; "
        f"2048×2048 matrix-product ceiling: float32 {ceiling[False]:.0f} GFLOP/s, "
        f"bf16 {ceiling[True]:.0f} GFLOP/s",
        "",
        "| model | setting | patch | batch | bf16 | channels-last | samples/s | output MP/s | GFLOP/s "
        "| of ceiling |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)  # the header now, the rows as they are measured
    settings = [
        ("arcnn", "paper", 32, 128, False, False),
        ("arcnn", "fast, float32", 64, 16, False, True),
        ("arcnn", "fast, bf16, NCHW", 64, 16, True, False),
        ("arcnn", "fast (as shipped)", 64, 16, True, True),
        ("arcnn", "fast, 48px", 48, 32, True, True),
        ("arcnn", "fast, 96px", 96, 8, True, True),
        ("fast-arcnn", "fast, float32", 128, 16, False, True),
        ("fast-arcnn", "fast (fast-arcnn runs)", 128, 16, True, True),
        ("srcnn", "fast", 64, 16, True, True),
    ]
    for model, name, patch, batch, bf16, cl in settings:
        s, mp, gf = measure(patch, batch, bf16, cl, args.seconds, model)
        share = gf / ceiling[bf16]
        row = f"| {model} | {name} | {patch} | {batch} | {bf16} | {cl} | {s:.0f} | {mp:.3f} | {gf:.0f} |"
        lines.append(f"{row} {share:.0%} |")
        print(lines[-1], flush=True)
    if args.write:
        write_readme_block("train-throughput", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
