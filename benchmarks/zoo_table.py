"""Score every shipped model on LIVE1 and Classic5; print the results tables (docs/results.md).

    python -m benchmarks.zoo_table            # print the tables
    python -m benchmarks.zoo_table --write    # also update the zoo-table block (docs/results.md),
                                              # weights/scores.json and the README's headline
    python -m benchmarks.zoo_table --write --reuse   # only score models whose weights changed

Layout of the paper's Table 1: JPEG, AR-CNN as published, arcnn as measured here
(PSNR dB / SSIM / PSNR-B dB), plus the Gaussian SSIM later papers report, and
each model's training provenance read from its weights file. The per-quality models are
scored twice: the network alone, and as ``arcnn restore`` runs them on a JPEG file (the
output projected onto what the file coded, ``arcnn evaluate --consistency``); the verdict
column compares the latter with the paper.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from arcnn.evaluate import evaluate
from arcnn.files import write_bytes_atomic
from arcnn.manifest import FILES
from arcnn.weights import read_weights
from arcnn.zoo import REGISTRY, SCORES_FILE
from benchmarks._common import (
    PAPER_ARCNN,
    PUBLISHED_PSNR,
    PUBLISHED_PSNRB,
    blind_luma_models,
    require_data,
    write_readme_block,
)
from benchmarks.headline import headline_lines


def _sha256(name: str) -> str:
    """The sha256 of a shipped model's weights, as ``arcnn.manifest`` records it."""
    return FILES[REGISTRY[name].manifest_key]


def _fmt(m: dict | None, gauss: bool = True, digits: int = 2) -> str:
    if m is None:
        return "—"
    s = f"{m['psnr']:.{digits}f} / {m['ssim']:.4f} / {m['psnrb']:.{digits}f}"
    return s + (f" ({m['ssim_gauss']:.4f})" if gauss else "")


def _paper(q: int) -> str:
    p = PAPER_ARCNN.get(q)
    return "—" if p is None else f"{p[0]:.2f} / {p[1]:.4f} / {p[2]:.2f}"


def _beats(m: dict, q: int) -> str:
    p = PAPER_ARCNN[q]
    ok = m["psnr"] >= p[0] and m["ssim"] >= p[1] and m["psnrb"] >= p[2]
    return "yes" if ok else "no"


def blind_table(live1: Path, classic5: Path, score: Callable[..., dict], scores: dict) -> list[str]:
    """Rows of the quality-blind luminance models at q10-q40 on LIVE1 and Classic5 beside DnCNN-3's
    published LIVE1 PSNR / PSNR-B (``scores[name]["live1_q10"]`` ... are stored)."""
    peer = next(iter(PUBLISHED_PSNR))
    title = (
        f"One network for every quality, scored at each (same metrics); {peer} as published (PSNR / PSNR-B):"
    )
    lines = [title, "", "| model | q | LIVE1 | Classic5 |", "|---|---|---|---|"]
    for q in (10, 20, 30, 40):
        lines.append(f"| {peer} (published) | {q} | {PUBLISHED_PSNR[peer][q]:.2f} / — / "
                     f"{PUBLISHED_PSNRB[peer][q]:.2f} | — |")  # fmt: skip
        for name in blind_luma_models():
            res = score(live1, q, name, f"live1_q{q}")
            c5 = score(classic5, q, name, f"classic5_q{q}")["mean"]
            entry = scores.setdefault(name, {"live1_images": {}})
            entry[f"live1_q{q}"], entry[f"classic5_q{q}"] = res["mean"], c5
            lines.append(f"| {name} | {q} | {_fmt(res['mean'])} | {_fmt(c5)} |")
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the tables, the headline and scores.json")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse scores.json's scores of weights with the same sha256")  # fmt: skip
    args = ap.parse_args(argv)
    known = json.loads(SCORES_FILE.read_text()) if args.reuse and SCORES_FILE.exists() else {}

    def score(data: Path, q: int, name: str, key: str, box: tuple[int, int] | None = None) -> dict:
        same = known.get(name, {}).get("sha256") == _sha256(name)
        if same and key in known[name]:
            return {"mean": known[name][key], "images": []}
        return evaluate(data, q, name, box=box, consistency=key.endswith("_restore"))

    live1, classic5 = require_data("live1"), require_data("classic5")

    per_q = {c.quality: n for n, c in REGISTRY.items() if c.per_quality}
    scores: dict[str, dict] = {}
    lines = [
        "LIVE1, PSNR (dB) / SSIM / PSNR-B (dB), with the Gaussian SSIM in brackets.",
        "",
        "| q | JPEG | AR-CNN (paper) | arcnn, network alone | `arcnn restore` | model "
        "| `arcnn restore` ≥ paper in all three |",
        "|---|---|---|---|---|---|---|",
    ]
    c5_lines = ["| q | JPEG | arcnn (this repo) | model |", "|---|---|---|---|"]
    for q in (10, 20, 30, 40):
        jpeg = evaluate(live1, q, "jpeg")["mean"]
        c5_jpeg = evaluate(classic5, q, "jpeg")["mean"]
        name = per_q.get(q)
        ours = restored = c5 = None
        if name is not None:
            res = score(live1, q, name, "live1")
            ours = res["mean"]
            restored = score(live1, q, name, "live1_restore")["mean"]
            c5 = score(classic5, q, name, "classic5")["mean"]
            scores[name] = {"live1": ours, "live1_restore": restored, "classic5": c5,
                            "live1_images": {r["name"]: r for r in res["images"]}}  # fmt: skip
        verdict = _beats(restored, q) if restored else "—"
        lines.append(f"| {q} | {_fmt(jpeg)} | {_paper(q)} | {_fmt(ours, digits=3)} | "
                     f"{_fmt(restored, gauss=False, digits=3)} | {name or '—'} | {verdict} |")  # fmt: skip
        c5_lines.append(f"| {q} | {_fmt(c5_jpeg)} | {_fmt(c5)} | {name or '—'} |")

    # Luminance models of one quality; the chroma models have their own benchmark (colour.py).
    others = [n for n, c in REGISTRY.items()
              if n not in per_q.values() and c.quality is not None and c.colour == "y"]  # fmt: skip
    other_lines = ["| model | architecture | q | LIVE1 | Classic5 |", "|---|---|---|---|---|"]
    for name in others:
        card = REGISTRY[name]
        q_text = f"{card.quality}" + (f", fit into {card.box[0]}×{card.box[1]} first" if card.box else "")
        res = score(live1, card.quality, name, "live1", card.box)
        c5 = score(classic5, card.quality, name, "classic5", card.box)["mean"]
        scores[name] = {"live1": res["mean"], "classic5": c5,
                        "live1_images": {r["name"]: r for r in res["images"]}}  # fmt: skip
        other_lines.append(f"| {name} | {card.architecture} | {q_text} | {_fmt(res['mean'])} | {_fmt(c5)} |")

    blind_lines = blind_table(live1, classic5, score, scores)

    prov = [
        "| model | trained | samples (patches) | wall time | revision | command |",
        "|---|---|---|---|---|---|",
    ]
    for name, card in REGISTRY.items():
        meta, _ = read_weights(card.path)
        if "run_hours" in meta:  # experiments/train_large.py's runs record less: the card says how
            prov.append(f"| {name} | {card.recipe} | {meta.get('step')} steps | {meta['run_hours']} h | "
                        f"{meta.get('git_revision', '?')} | `{meta.get('command', '?')}` |")  # fmt: skip
            continue
        cfg = json.loads(meta.get("train_config", "{}"))
        hours = float(meta.get("train_seconds", "nan")) / 3600
        trained = f"{cfg.get('recipe', '?')} recipe, {cfg.get('patch', '?')}px, batch {cfg.get('batch', '?')}"
        if cfg.get("init_from"):
            src = Path(cfg["init_from"])
            src_name = src.parent.name if src.name == "model.safetensors" else src.stem
            k = cfg.get("init_layers")
            trained += f", {k} layer{'s' if k != 1 else ''} from {src_name}"
        command = meta.get("command", "?")
        where = meta.get("device") or ("a CUDA GPU" if "--device cuda" in command else "2 CPU cores")
        when, revision, command = f"{hours:.2f} h on {where}", meta.get("git_revision", "?"), f"`{command}`"
        if "refit" in meta:  # a closed-form last layer after training (experiments/refit_last_layer.py)
            refit = json.loads(meta["refit"])
            trained += ", then last layer refit"
            when += f", then {refit['seconds'] / 3600:.2f} h on {refit['threads']} CPU cores"
            revision += f", then {refit.get('git_revision', '?')}"
            command += f", then `{refit['command']}`"
        prov.append(f"| {name} | {trained} | {meta.get('samples', '?')} | {when} | {revision} | {command} |")

    prov_title = "Training provenance (read from each weights file's metadata):"
    other_title = "Other shipped models, at their training quality (same metrics):"
    other_block = [other_title, "", *other_lines, ""] if others else []
    table = "\n".join([*lines, "", "Classic5 (grayscale), same metrics:", "", *c5_lines, "",
                       *blind_lines, *other_block, prov_title, "", *prov])  # fmt: skip
    print(table)
    for name, s in scores.items():
        row = s["live1_images"].get("parrots.png")
        if row:
            print(f"\n{name} on LIVE1 parrots: PSNR {row['psnr']:.2f} dB")
    if args.write:
        write_readme_block("zoo-table", table)
        slim = {n: {k: v for k, v in s.items() if k != "live1_images"} | {"sha256": _sha256(n)}
                for n, s in scores.items()}  # fmt: skip
        write_bytes_atomic(SCORES_FILE, (json.dumps(slim, indent=1, sort_keys=True) + "\n").encode())
        write_readme_block("headline", "\n".join(headline_lines()))  # README's table, from scores.json
        print(f"\nwrote the zoo-table and headline blocks and {SCORES_FILE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
