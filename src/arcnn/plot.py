"""Training curves: validation PSNR and train loss against samples seen (needs matplotlib)."""

from __future__ import annotations

import csv
from pathlib import Path

from arcnn.files import atomic_write

__all__ = ["read_log", "plot_logs"]


def read_log(path: str | Path) -> dict[str, list[float]]:
    """Columns of a run's ``log.csv`` as float lists."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: log has no rows yet")
    return {k: [float(r[k]) for r in rows] for k in rows[0]}


def plot_logs(logs: dict[str, str | Path], out: str | Path, title: str = "") -> None:
    """One PNG with validation PSNR (left) and train loss (right) for each ``{label: log.csv}``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError("plotting needs matplotlib: pip install 'arcnn[plot]'") from None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for label, path in logs.items():
        log = read_log(path)
        ax1.plot(log["samples"], log["val_psnr"], marker=".", label=label)
        ax2.plot(log["samples"], log["train_loss"], label=label)
    ax1.set(xlabel="samples seen (backprops x batch)", ylabel="validation PSNR (dB)")
    ax2.set(xlabel="samples seen (backprops x batch)", ylabel="train MSE ([0,1] scale)", yscale="log")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out = Path(out)
    with atomic_write(out) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
