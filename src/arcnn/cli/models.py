"""``arcnn models``: the shipped models, what each is for, its cost and its measured scores."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_parser", "run", "model_rows", "markdown_table"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    m = sub.add_parser("models", help="list the shipped models: use, cost (MAC/px), LIVE1 scores")
    fmt = m.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="a Markdown table (the README's)")
    fmt.add_argument("--json", action="store_true", help="one JSON object per model")


def model_rows() -> list[dict]:
    """One row per shipped model: name, quality, use, MAC per pixel (counted), LIVE1 PSNR / SSIM at its
    quality, q10 for a model of every quality (``python -m benchmarks.zoo_table`` measures them; None
    where it does not score the model)."""
    from safetensors import safe_open

    from arcnn.flops import macs_per_pixel
    from arcnn.models import build_network
    from arcnn.netconfig import config_from_json
    from arcnn.zoo import REGISTRY

    rows = []
    for card in REGISTRY.values():
        with safe_open(str(card.path), framework="pt") as f:
            config = config_from_json((f.metadata() or {})["model_config"])
        live1 = card.scores.get("live1_restore") or card.scores.get("live1") or {}
        quality = card.quality
        if not live1 and "live1_q10" in card.scores:  # a model of every quality: its q10 score
            live1, quality = card.scores["live1_q10"], 10
        rows.append({"name": card.name, "quality": quality, "use": card.use,
                     "macs_per_pixel": round(macs_per_pixel(build_network(config))),
                     "live1_psnr": live1.get("psnr"), "live1_ssim": live1.get("ssim")})  # fmt: skip
    return rows


def markdown_table(rows: list[dict]) -> str:
    lines = ["| model | for | MAC/px | LIVE1 PSNR / SSIM at its quality |", "|---|---|---:|---|"]
    for r in rows:
        score = (
            "—"
            if r["live1_psnr"] is None
            else f"{r['live1_psnr']:.2f} / {r['live1_ssim']:.4f} (q{r['quality']})"
        )
        lines.append(f"| `{r['name']}` | {r['use']} | {r['macs_per_pixel'] / 1000:.0f} k | {score} |")
    return "\n".join(lines)


def _plain(rows: list[dict]) -> str:
    lines = [f"{'model':<18} {'MAC/px':>8}  {'LIVE1':>13}  for"]
    for r in rows:
        score = "" if r["live1_psnr"] is None else f"{r['live1_psnr']:.2f} dB q{r['quality']}"
        lines.append(f"{r['name']:<18} {r['macs_per_pixel'] / 1000:>6.0f} k  {score:>13}  {r['use']}")
    return "\n".join(lines)


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    rows = model_rows()
    if args.json:
        print("\n".join(json.dumps(r) for r in rows))
    else:
        print(markdown_table(rows) if args.markdown else _plain(rows))
    return 0
