"""The paper's easy-hard transfer experiments at one small, equal budget per arm.

    python -m experiments.transfer --figure 6 [--steps 3000] [--write]   # shallow -> deeper
    python -m experiments.transfer --figure 7 [--steps 3000] [--write]   # high -> low quality
    python -m experiments.transfer --figure 8 [--steps 3000] [--write]   # standard -> social media

Fig. 6: the 5-layer ``arcnn5`` (9-7-3-1-5) at q10 from (a) Gaussian σ = 0.001, (b) He et al.
init, (c) its first two layers copied from ``arcnn-q10``.
Fig. 7: ``arcnn`` at q10 from (a) scratch (He), (b) its first layer copied from ``arcnn-q20``,
(c) its first two layers copied from ``arcnn-q20``.
Fig. 8: ``arcnn`` on the social-media degradation (fit into 600×450 with bicubic, then a 4:2:0
colour JPEG at q75; see ``data.Degradation``) from (a) scratch, (b) the first layer of
``arcnn-q10``, (c) the first layer of ``arcnn-q20``.

``arcnn-q10`` and ``arcnn-q20`` here are the 2-core models in ``experiments/weights/``.
Every arm: the fast recipe, batch 16 of 64×64 crops, the same ``--steps``, seed 0. Arms run one
after another into ``runs/figN-ARM`` and resume there after a stop. Scores: LIVE1 under the
figure's degradation; curves: validation PSNR on the first 50 images of BSDS500 val against samples seen.
"""

from __future__ import annotations

import argparse
import sys
import time

from arcnn.evaluate import evaluate
from arcnn.plot import plot_logs, read_log
from arcnn.zoo import REGISTRY
from benchmarks._common import ROOT, kept_weights, require_data, train_run, write_readme_block

# The sources are the 2-core zoo models these figures were run with (the shipped arcnn-q10 and
# arcnn-q20 were later fine-tuned further on a GPU; docs/training.md).
Q10, Q20 = (str(kept_weights(f"arcnn-q{q}-cpu.safetensors")) for q in (10, 20))
SOCIAL = ["--box", "600x450", "--quality", "75"]
ARCNN5_Q10, ARCNN_Q10 = ["--model", "arcnn5", "--quality", "10"], ["--model", "arcnn", "--quality", "10"]
FIGURES = {
    6: ("Fig. 6: shallow to deeper (arcnn5, q10)", 10, None, {
        "a-gauss": [*ARCNN5_Q10, "--init-method", "gauss"],
        "b-he": [*ARCNN5_Q10, "--init-method", "he"],
        "c-2-layers-from-arcnn-q10": [*ARCNN5_Q10, "--init", Q10, "--init-layers", "2"],
    }),
    7: ("Fig. 7: high to low quality (arcnn, q10)", 10, None, {
        "a-scratch": ARCNN_Q10,
        "b-1-layer-from-arcnn-q20": [*ARCNN_Q10, "--init", Q20, "--init-layers", "1"],
        "c-2-layers-from-arcnn-q20": [*ARCNN_Q10, "--init", Q20, "--init-layers", "2"],
    }),
    8: ("Fig. 8: standard to social media (600×450, q75, 4:2:0)", 75, (600, 450), {
        "a-scratch": ["--model", "arcnn", *SOCIAL],
        "b-1-layer-from-arcnn-q10": ["--model", "arcnn", *SOCIAL, "--init", Q10, "--init-layers", "1"],
        "c-1-layer-from-arcnn-q20": ["--model", "arcnn", *SOCIAL, "--init", Q20, "--init-layers", "1"],
    }),
}  # fmt: skip

# The paper's conclusions (Sec. 4.2), each checked on this run's numbers: arm -> {"third": val PSNR
# after a third of the budget (how fast), "final": val PSNR at the end, "live1": LIVE1 PSNR}.
CLAIMS = {
    6: [
        ("transferring two layers converges faster than He et al.'s init",
         lambda r: r["c-2-layers-from-arcnn-q10"]["third"] > r["b-he"]["third"]),
        ("... and ends better than it (LIVE1)",
         lambda r: r["c-2-layers-from-arcnn-q10"]["live1"] > r["b-he"]["live1"]),
        ("Gaussian σ = 0.001 trains the 5-layer net worse than either (LIVE1)",
         lambda r: r["a-gauss"]["live1"] < min(r["b-he"]["live1"], r["c-2-layers-from-arcnn-q10"]["live1"])),
    ],
    7: [
        ("both transfers converge faster than training from scratch",
         lambda r: min(r["b-1-layer-from-arcnn-q20"]["third"], r["c-2-layers-from-arcnn-q20"]["third"])
         > r["a-scratch"]["third"]),
        ("transferring one layer ends better than scratch (LIVE1)",
         lambda r: r["b-1-layer-from-arcnn-q20"]["live1"] > r["a-scratch"]["live1"]),
    ],
    8: [
        ("both transfers converge faster than training from scratch",
         lambda r: min(r["b-1-layer-from-arcnn-q10"]["third"], r["c-1-layer-from-arcnn-q20"]["third"])
         > r["a-scratch"]["third"]),
        ("both transfers end better than scratch (LIVE1)",
         lambda r: min(r["b-1-layer-from-arcnn-q10"]["live1"], r["c-1-layer-from-arcnn-q20"]["live1"])
         > r["a-scratch"]["live1"]),
    ],
}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--figure", type=int, choices=sorted(FIGURES), required=True)
    ap.add_argument("--steps", type=int, default=3000, help="training steps of every arm (batch 16)")
    ap.add_argument("--write", action="store_true", help="update docs/experiments.md and the plot")
    args = ap.parse_args(argv)
    live1 = require_data("live1")
    title, quality, box, arms = FIGURES[args.figure]
    val_every = max(1, args.steps // 6)
    for arm, extra in arms.items():
        budget = ["--steps", str(args.steps), "--val-every", str(val_every), "--val-images", "50"]
        train_run(ROOT / "runs" / f"fig{args.figure}-{arm}", ["--recipe", "fast", *budget, *extra])
    samples = args.steps * 16
    lines = [
        f"{title}. Every arm {args.steps} steps × 16 crops of 64×64 = {samples:,} samples (fast recipe); "
        f"LIVE1 PSNR (dB) / SSIM / PSNR-B (dB) under the same degradation.",
        "",
        "| arm | LIVE1 | val PSNR after 1/3 of the budget | after all of it | wall time |",
        "|---|---|---|---|---|",
    ]
    logs, results = {}, {}
    for arm in arms:
        out = ROOT / "runs" / f"fig{args.figure}-{arm}"
        m = evaluate(live1, quality, str(out / "model.safetensors"), box=box)["mean"]
        log = read_log(out / "log.csv")
        third = next(v for s, v in zip(log["step"], log["val_psnr"]) if s >= args.steps / 3)
        lines.append(f"| {arm} | {m['psnr']:.2f} / {m['ssim']:.4f} / {m['psnrb']:.2f} | {third:.3f} | "
                     f"{log['val_psnr'][-1]:.3f} | {log['elapsed_s'][-1] / 60:.1f} min |")  # fmt: skip
        logs[arm] = out / "log.csv"
        results[arm] = {"third": third, "final": log["val_psnr"][-1], "live1": m["psnr"]}
    lines += ["", "The paper's conclusions at this budget:", ""]
    lines += [
        f"- {text}: {'holds' if check(results) else 'does not hold'}" for text, check in CLAIMS[args.figure]
    ]
    best = max(results, key=lambda a: results[a]["live1"])
    lines += ["", f"Best arm on LIVE1: {best}."]
    cmd = f"python -m experiments.transfer --figure {args.figure} --steps {args.steps} --write"
    lines += ["", f"`{cmd}`, {time.strftime('%Y-%m-%d')}, 2 CPU cores."]
    text = "\n".join(lines)
    print(text)
    if args.write:
        plot = ROOT / "docs" / "experiments" / f"fig{args.figure}-curves.png"
        plot_logs(logs, plot, title=f"{title}: validation PSNR against samples seen")
        text += f"\n\n![Fig. {args.figure} curves](experiments/{plot.name})"
        write_readme_block(f"fig{args.figure}", text)
    shipped = [n for n in REGISTRY if n.startswith("arcnn5")]
    if args.figure == 6 and not shipped:
        print("ship the best arm: python tools/ship_model.py runs/fig6-ARM arcnn5-q10")
    return 0


if __name__ == "__main__":
    sys.exit(main())
