"""The speed frontier: LIVE1 PSNR gain against file-to-file speed, per shipped model and engine.

    python -m benchmarks.frontier [--files 10] [--qualities 10 20 30 40] [--write]

For each quality, LIVE1's protocol luminance (``arcnn.data.load_luma``) is written once as
grayscale JPEG files (Pillow, as the protocol codes them) into a temporary folder; then each row
restores the first ``--files`` of them file to file with ``arcnn restore`` (decode, quality from
the tables, network, consistency projection, PNG encode and write), timed in this process, and
scores the PNGs against the clean luminance: the PSNR gain over the JPEGs on the same files. Rows:
every shipped per-quality luminance model at its quality, ``arcnn-large`` and ``arcnn-blind`` at
each quality, on ONNX Runtime float32 (the default), PyTorch float32 (``--backend torch``) and PyTorch bf16
(``--bf16``, where the CPU has bf16), and the int8 ONNX file where ``weights/int8/NAME.onnx``
exists; jpegqs (``/usr/bin/jpegqs``, when installed) with its default settings and with ``-q 1``,
two threads; DnCNN-3's architecture with random weights (speed only: its PSNR is the published
one, ``_common.PUBLISHED_PSNR``, against the paper's JPEG row). Each row's rate is also given as
the share of the float32 matrix-product ceiling measured in the same run that its multiply-adds
reach. ``--write`` puts the table into its block (docs/speed.md), the plot into
docs/images/frontier.png and a summary of the rows a user chooses between (:func:`readme_lines`)
into README.md's ``speed`` block. Exits 2 without the research data.

    python -m benchmarks.frontier --fast-targets [--write]

measures issue 22's fast-tier targets on all of LIVE1 (29 files per row, where the frontier's rows
take the first ``--files``): per quality, jpegqs's defaults and the model ``--fast`` picks on each
engine, timed and scored as the frontier's rows are, then each against the targets (1.0 dB more gain
than jpegqs, 40% of its rate): the ``fast-targets`` block of docs/speed.md.

    python -m benchmarks.frontier --from-docs [--write]

measures nothing: it reads the table back from docs/speed.md and makes the README block and the
plot from it. Both modes make the README block from the table's text, so the README always
matches the table it names (``tests/test_docs.py`` checks it).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks._common import (
    DOCS,
    PAPER_JPEG,
    PUBLISHED_PSNR,
    ROOT,
    matmul_ceiling,
    publish,
    read_block,
    require_data,
)

JPEGQS = "/usr/bin/jpegqs"
LIVE1_FILES = 29
PLOT = DOCS / "images" / "frontier.png"
# (label, extra ``arcnn restore`` arguments) of each engine.
ENGINES = {"onnxruntime": ["--backend", "auto"], "torch": ["--backend", "torch"], "bf16": ["--bf16"]}


@dataclass
class Row:
    """One point of the frontier: ``gain`` in dB over the JPEG, ``mps`` file to file (MP/s)."""

    quality: int
    method: str
    engine: str
    files: int
    gain: float
    mps: float
    macs: float | None  # multiply-adds per pixel; None for jpegqs
    load: float  # 1-minute load average when the row started
    published: bool = False  # the gain is the published PSNR's, not measured here


def setup_args() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=10, help=f"LIVE1 files restored per row (1..{LIVE1_FILES})")
    p.add_argument("--dncnn-files", type=int, default=3, help="files for DnCNN-3's architecture (slow)")
    p.add_argument("--qualities", type=int, nargs="+", default=[10, 20, 30, 40])
    p.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    p.add_argument("--write", action="store_true",
                   help="publish the table, the plot and README.md's speed block")  # fmt: skip
    p.add_argument(
        "--fast-targets",
        action="store_true",
        help="measure the fast tier against jpegqs on all of LIVE1 (the fast-targets block)",
    )
    p.add_argument("--from-docs", action="store_true",
                   help="measure nothing: make the README block and the plot from docs/speed.md's "
                        "table")  # fmt: skip
    return p


def write_jpegs(live1: Path, quality: int, n: int, folder: Path) -> list[tuple[Path, np.ndarray]]:
    """The first ``n`` LIVE1 images as grayscale q``quality`` JPEG files in ``folder``: (file, clean
    uint8 (H, W) luminance) pairs."""
    from arcnn.data import list_images, load_luma

    folder.mkdir(parents=True, exist_ok=True)
    pairs = []
    for src in list_images(live1)[:n]:
        clean = load_luma(src)
        path = folder / f"{src.stem}.jpg"
        Image.fromarray(clean).save(path, quality=quality)
        pairs.append((path, clean))
    return pairs


def mean_psnr(pairs: list[tuple[Path, np.ndarray]], outputs: list[Path]) -> float:
    """Mean PSNR (dB) of the output files' gray values against each clean luminance."""
    from arcnn.metrics import psnr

    scores = []
    for (_, clean), out in zip(pairs, outputs):
        with Image.open(out) as im:
            scores.append(psnr(clean, np.asarray(im.convert("L"))))
    return float(np.mean(scores))


def restore_files(pairs: list[tuple[Path, np.ndarray]], model: str, extra: list[str], out: Path) -> float:
    """Seconds ``arcnn restore FILES -o OUT/ --model MODEL EXTRA`` takes in this process."""
    from arcnn.cli import main

    shutil.rmtree(out, ignore_errors=True)
    argv = ["restore", *(str(p) for p, _ in pairs), "-o", f"{out}/", "-q", "--model", model, *extra]
    t = time.perf_counter()
    rc = main(argv)
    seconds = time.perf_counter() - t
    if rc != 0:
        raise SystemExit(f"arcnn restore {' '.join(argv[1:])} failed with exit code {rc}")
    return seconds


def jpegqs_files(pairs: list[tuple[Path, np.ndarray]], options: list[str], out: Path) -> float:
    """Seconds jpegqs takes to smooth each file (one process per file, two threads) into ``out``."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t = time.perf_counter()
    for p, _ in pairs:
        subprocess.run([JPEGQS, "-t", "2", "-i", "0", *options, str(p), str(out / p.name)], check=True)
    return time.perf_counter() - t


JPEGQS_SETTINGS = [("default", []), ("-q 1", ["-q", "1"])]  # (label, options)


def jpegqs_row(quality: int, pairs: list, jpeg: float, label: str, options: list[str], tmp: Path) -> Row:
    """jpegqs with ``options`` on the JPEG files of ``pairs``, timed and scored as a model's row."""
    load = os.getloadavg()[0]
    seconds = jpegqs_files(pairs, options, tmp / "qs")
    gain = mean_psnr(pairs, [tmp / "qs" / p.name for p, _ in pairs]) - jpeg
    mps = sum(c.size for _, c in pairs) / seconds / 1e6
    row = Row(quality, f"jpegqs {label}", "jpegqs", len(pairs), gain, mps, None, load)
    print(_cells(row, None), flush=True)
    return row


def dncnn3_onnx(path: Path) -> tuple[Path, float]:
    """DnCNN-3's architecture (20 3x3 convolutions, 64 wide, residual) with random weights, exported
    as ONNX to ``path``: (file, multiply-adds per pixel)."""
    from arcnn.export import export_onnx
    from arcnn.flops import macs_per_pixel
    from arcnn.models import ConvStack
    from arcnn.netconfig import ModelConfig

    torch.manual_seed(0)
    net = ConvStack(ModelConfig(kernels=(3,) * 20, widths=(64,) * 19 + (1,), residual=True)).eval()
    return export_onnx(net, path), macs_per_pixel(net)


def model_rows(name: str, quality: int, pairs: list, jpeg: float, tmp: Path, engines: list[str]) -> list[Row]:
    """One row per engine (and int8 where shipped) for shipped model ``name`` at ``quality``."""
    from arcnn.files import FAST_PNG_LEVEL
    from arcnn.flops import macs_per_pixel
    from arcnn.zoo import REGISTRY, load_model

    macs = macs_per_pixel(load_model(name))
    # The fast tier's models write PNG at the level --fast writes (RestoreOptions.output_png_level).
    level = ["--png-level", str(FAST_PNG_LEVEL)] if REGISTRY[name].tier == "fast" else []
    runs = [(e, name, ENGINES[e] + level) for e in engines]
    int8 = ROOT / "src" / "arcnn" / "weights" / "int8" / f"{name}.onnx"
    if int8.is_file():
        runs.append(("int8", str(int8), level))
    rows = []
    for engine, model, extra in runs:
        load = os.getloadavg()[0]
        out = tmp / "out"
        seconds = restore_files(pairs, model, extra, out)
        gain = mean_psnr(pairs, [out / f"{p.stem}.png" for p, _ in pairs]) - jpeg
        mps = sum(c.size for _, c in pairs) / seconds / 1e6
        rows.append(Row(quality, name, engine, len(pairs), gain, mps, macs, load))
        print(_cells(rows[-1], None), flush=True)
    return rows


def shipped_luma_models() -> dict[str, int | None]:
    """Shipped luminance models for JPEG files by the protocol: name -> quality (None: blind)."""
    from arcnn.zoo import REGISTRY

    return {n: c.quality for n, c in REGISTRY.items()
            if c.colour == "y" and c.box is None and "webp" not in n}  # fmt: skip


def _cells(r: Row, ceiling: float | None) -> str:
    share = "" if r.macs is None or ceiling is None else f"{r.mps * 2 * r.macs / 1e3 / ceiling:.0%}"
    gain = f"{r.gain:+.2f}" + (" (published)" if r.published else "")
    macs = "" if r.macs is None else f"{r.macs / 1e3:.0f} k"
    return (f"| q{r.quality} | {r.method} | {r.engine} | {macs} | {r.files} | {gain} | {r.mps:.3f} | {share} "
            f"| {r.load:.1f} |")  # fmt: skip


def cpu_name() -> str:
    """The processor's model name (Linux's /proc/cpuinfo), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


HEADER = re.compile(
    r"(?:Run of (?P<date>[\d-]+) on (?P<cpu>[^:]+): )?.*?(?:the first|all) (?P<files>\d+) files per row.*?"
    r"torch (?P<torch>[^,]+), (?P<threads>\d+) threads, (?P<cpus>\d+) CPUs; "
    r"float32 matrix-product ceiling \*\*(?P<ceiling>[\d.]+) GFLOP/s\*\*"
)


def parse_block(text: str) -> tuple[dict[str, str], list[Row]]:
    """The run's description (:data:`HEADER`'s fields; date and cpu None for runs before they were
    written) and the rows of a ``frontier`` block's text, as :func:`main` writes it."""
    match = HEADER.search(text)
    if match is None:
        raise SystemExit("the frontier block's first line does not say which run it is (torch, ceiling)")
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 9 or not re.fullmatch(r"q\d+", cells[0]):
            continue
        quality, method, engine, macs, files, gain, mps, _, load = cells
        rows.append(Row(int(quality[1:]), method, engine, int(files), float(gain.split()[0]), float(mps),
                        float(macs.split()[0]) * 1e3 if macs else None, float(load),
                        published="published" in gain))  # fmt: skip
    if not rows:
        raise SystemExit("the frontier block has no rows")
    return match.groupdict(), rows


# What README.md's speed block shows: (how to ask for it, what it runs, method, engine). "arcnn-qN" is
# each per-quality model at its own quality (:func:`_group`); rows the run did not measure are left out.
README_ROWS = [
    ("`arcnn restore` (defaults)", "arcnn-qN, ONNX Runtime float32", "arcnn-qN", "onnxruntime"),
    ("`--int8`", "arcnn-qN, ONNX Runtime int8", "arcnn-qN", "int8"),
    ("`--backend torch`", "arcnn-qN, PyTorch float32", "arcnn-qN", "torch"),
    ("`--bf16`", "arcnn-qN, PyTorch bfloat16", "arcnn-qN", "bf16"),
    ("`--fast`", "Fast AR-CNN, ReLU and 5×5 (fast-arcnn-relu-qN), ONNX Runtime float32", "fast-arcnn-relu-qN",
     "onnxruntime"),
    ("`--model fast-arcnn-qN`", "Fast AR-CNN as published, ONNX Runtime float32", "fast-arcnn-qN",
     "onnxruntime"),
    ("`--model fast-arcnn-qN --int8`", "Fast AR-CNN, ONNX Runtime int8", "fast-arcnn-qN", "int8"),
    ("`--model arcnn-large`", "the U-Net, ONNX Runtime float32", "arcnn-large", "onnxruntime"),
    ("`--model arcnn-blind`", "quality-blind, ONNX Runtime float32", "arcnn-blind", "onnxruntime"),
    ("(not arcnn) `jpegqs`", "jpegqs, its defaults (JPEG out)", "jpegqs default", "jpegqs"),
    ("(not arcnn) `jpegqs -q 1`", "jpegqs, its lowest setting (JPEG out)", "jpegqs -q 1", "jpegqs"),
    ("(not arcnn) DnCNN-3", "its architecture, ONNX Runtime float32; gain as published",
     "DnCNN-3 (random weights)", "onnxruntime"),
]  # fmt: skip


# The families of per-quality models, each shown as one series (``arcnn-q10`` at q10: ``arcnn-qN``).
FAMILIES = ("arcnn", "fast-arcnn", "fast-arcnn-relu")


def _group(method: str, quality: int) -> str:
    """``FAMILY-qN`` for a per-quality model of :data:`FAMILIES` at its own quality, else the method."""
    family = method.removesuffix(f"-q{quality}")
    return f"{family}-qN" if family != method and family in FAMILIES else method


# Issue 22's fast tier: at least this much more gain than jpegqs's defaults, at this share of its rate.
FAST_GAIN_OVER_JPEGQS, FAST_SHARE_OF_JPEGQS = 1.0, 0.40


def fast_target_lines(rows: list[Row]) -> list[str]:
    """The verdict of the ``fast-targets`` block (docs/speed.md): per quality and engine, the fast
    tier's model (the one ``--fast`` picks at that quality) against jpegqs's defaults in ``rows``."""
    from arcnn.policy import auto_model

    gain, share = FAST_GAIN_OVER_JPEGQS, FAST_SHARE_OF_JPEGQS
    lines = ["The fast tier (`--fast`) against jpegqs's defaults, from the rows above "
             f"(targets: {gain:.1f} dB more gain, {share:.0%} of its rate):", "",
             "| quality | `--fast` runs | engine | gain − jpegqs's (dB) | met | MP/s ÷ jpegqs's | met |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for q in sorted({r.quality for r in rows}):
        qs = next((r for r in rows if r.quality == q and r.method == "jpegqs default"), None)
        pick = auto_model(q, fast=True)
        for r in (r for r in rows if r.quality == q and r.method == pick and qs is not None):
            more, part = r.gain - qs.gain, r.mps / qs.mps
            lines.append(f"| q{q} | {pick} | {r.engine} | {more:+.2f} | {_yes(more >= gain)} | {part:.0%} "
                         f"| {_yes(part >= share)} |")  # fmt: skip
    return lines


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def readme_lines(run: dict[str, str], rows: list[Row]) -> list[str]:
    """README.md's ``speed`` block: per way of running ``arcnn restore`` (and the two reference
    points), the PSNR gain at each quality and the range of its file-to-file rates."""
    qualities = sorted({r.quality for r in rows})
    where = f"{run['cpu']}, " if run.get("cpu") else ""
    when = f"its run of {run['date']}" if run.get("date") else "its last run"
    lines = [
        f"LIVE1 grayscale JPEGs (the first {run['files']} files) restored file to file by `arcnn restore` "
        "(decode, network, consistency, PNG write): the PSNR gain over the JPEG, and megapixels per "
        f"second (lowest–highest over the qualities) on {where}{run['cpus']} CPUs, torch {run['torch']}, "
        f"{run['threads']} threads (float32 matrix-product ceiling {float(run['ceiling']):.0f} GFLOP/s). "
        f"The rows are from the frontier table of [docs/speed.md](docs/speed.md), {when}, with every "
        "model and engine and a plot: `python -m benchmarks.frontier --write` measures and writes both; "
        "`--from-docs` remakes this block from that table.",
        "",
        f"| how | runs | PSNR gain, {' / '.join(f'q{q}' for q in qualities)} (dB) | MP/s |",
        "|---|---|---|---|",
    ]
    for how, what, method, engine in README_ROWS:
        found = {r.quality: r for r in rows if _group(r.method, r.quality) == method and r.engine == engine}
        if not found:
            continue
        gains = " / ".join(f"{found[q].gain:+.2f}" if q in found else "—" for q in qualities)
        lo, hi = min(r.mps for r in found.values()), max(r.mps for r in found.values())
        rate = f"{lo:.2f}" if f"{lo:.2f}" == f"{hi:.2f}" else f"{lo:.2f}–{hi:.2f}"
        lines.append(f"| {how} | {what} | {gains} | {rate} |")
    return lines


ENGINE_MARKERS = {"onnxruntime": "o", "torch": "s", "bf16": "^", "int8": "D", "jpegqs": "X"}
ENGINE_NAMES = {"onnxruntime": "ONNX Runtime float32", "torch": "PyTorch float32", "bf16": "PyTorch bf16",
                "int8": "ONNX Runtime int8", "jpegqs": "jpegqs (not a network)"}  # fmt: skip


def plot(rows: list[Row], path: Path) -> None:
    """One panel per quality, two to a row: PSNR gain (dB) against file-to-file MP/s (log scale);
    a colour per model (the per-quality models share one), a marker per engine, one legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    qualities = sorted({r.quality for r in rows})
    groups = list(dict.fromkeys(_group(r.method, r.quality) for r in rows))
    colours = {g: plt.get_cmap("tab10")(i % 10) for i, g in enumerate(groups)}
    ncols = min(2, len(qualities))
    nrows = -(-len(qualities) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols + 3.2, 3.6 * nrows), squeeze=False,
                             sharex=True, sharey=True)  # fmt: skip
    for ax, q in zip(axes.flat, qualities):
        for r in (r for r in rows if r.quality == q):
            colour = colours[_group(r.method, r.quality)]
            ax.scatter(r.mps, r.gain, s=42, marker=ENGINE_MARKERS.get(r.engine, "*"), color=colour,
                       edgecolors="black", linewidths=0.4)  # fmt: skip
        ax.set_xscale("log")
        ax.set_title(f"LIVE1, q{q}", fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(qualities) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("file-to-file MP/s (log scale)")
    for ax in axes[:, 0]:
        ax.set_ylabel("PSNR gain over the JPEG (dB)")
    engines = [e for e in ENGINE_MARKERS if any(r.engine == e for r in rows)]
    names = {f"{f}-qN": f"{f}-qN (at its quality)" for f in FAMILIES}
    names["DnCNN-3 (random weights)"] = "DnCNN-3 (published gain)"
    handles = [Line2D([], [], ls="", marker="s", ms=8, color=colours[g], label=names.get(g, g))
               for g in groups]  # fmt: skip
    handles += [Line2D([], [], ls="", color="none", label="")]  # a gap between the two lists
    handles += [Line2D([], [], ls="", marker=ENGINE_MARKERS[e], ms=7, markerfacecolor="white",
                       markeredgecolor="black", label=ENGINE_NAMES[e]) for e in engines]  # fmt: skip
    fig.legend(handles=handles, loc="center right", fontsize=8, frameon=False,
               title="colour: model; marker: engine", title_fontsize=8)  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1 - 2.6 / fig.get_figwidth(), 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# The columns of the frontier's rows (:func:`_cells`), in both blocks that list them.
TABLE_HEAD = [
    "| quality | method | engine | MAC/px | files | PSNR gain (dB) | MP/s | of float32 ceiling | load |",
    "|---|---|---|---|---|---|---|---|---|",
]


def runnable_engines(names: list[str]) -> list[str]:
    """``names`` less bf16 where this CPU has no bf16 instructions."""
    from arcnn.train import bf16_supported

    return [e for e in names if e != "bf16" or bf16_supported(torch.device("cpu"))]


def measure(args: argparse.Namespace) -> list[str]:
    """Every row, timed here: the ``frontier`` block's lines."""
    live1 = require_data("live1")
    engines = runnable_engines(args.engines)
    ceiling = matmul_ceiling(torch.float32)
    from arcnn.files import FAST_PNG_LEVEL

    models = shipped_luma_models()
    n = min(max(args.files, 1), LIVE1_FILES)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        dncnn, dncnn_macs = dncnn3_onnx(tmp / "dncnn3.onnx")
        for q in args.qualities:
            pairs = write_jpegs(live1, q, n, tmp / f"q{q}")
            jpeg = mean_psnr(pairs, [p for p, _ in pairs])
            for name, trained in models.items():
                if trained in (q, None):
                    rows += model_rows(name, q, pairs, jpeg, tmp, engines)
            if Path(JPEGQS).is_file():
                rows += [jpegqs_row(q, pairs, jpeg, *setting, tmp) for setting in JPEGQS_SETTINGS]
            if q in PUBLISHED_PSNR["DnCNN-3"] and q in PAPER_JPEG:
                few = pairs[: max(1, args.dncnn_files)]
                load = os.getloadavg()[0]
                mps = sum(c.size for _, c in few) / restore_files(few, str(dncnn), [], tmp / "out") / 1e6
                gain = PUBLISHED_PSNR["DnCNN-3"][q] - PAPER_JPEG[q][0]
                rows.append(Row(q, "DnCNN-3 (random weights)", "onnxruntime", len(few), gain, mps, dncnn_macs,
                                load, published=True))  # fmt: skip
                print(_cells(rows[-1], None), flush=True)
    return [
        f"Run of {time.strftime('%Y-%m-%d')} on {cpu_name()}: "
        f"LIVE1 grayscale JPEGs (the protocol's luminance, Pillow), the first {n} files per row "
        f"unless the files column says otherwise; `arcnn restore FILES -o DIR/` "
        f"(consistency projection on, PNG out at zlib level 6; the fast tier's models at level "
        f"{FAST_PNG_LEVEL}, as `--fast` writes), timed file to file in one process; "
        f"torch {torch.__version__}, {torch.get_num_threads()} "
        f"threads, {os.cpu_count()} CPUs; float32 matrix-product ceiling **{ceiling:.0f} GFLOP/s**; the "
        "load column is the 1-minute load average as each row started. Gain: mean PSNR of the outputs "
        "minus that of the JPEGs, on the same files; DnCNN-3's is its paper's LIVE1 PSNR minus AR-CNN's "
        "paper's JPEG row (its speed: its architecture with random weights). "
        "Plot: [images/frontier.png](images/frontier.png) (`python -m benchmarks.frontier --write`).",
        "",
        *TABLE_HEAD,
        *(_cells(r, ceiling) for r in rows),
    ]


def measure_fast_targets(args: argparse.Namespace) -> list[str]:
    """The ``fast-targets`` block's lines: on all 29 LIVE1 files, per quality, jpegqs's defaults and the
    model ``--fast`` picks on each engine (rows as the frontier's), then each against the targets."""
    from arcnn.policy import auto_model

    live1 = require_data("live1")
    if not Path(JPEGQS).is_file():
        print(f"{JPEGQS} is not installed (Debian package jpegqs): nothing to compare", file=sys.stderr)
        sys.exit(2)
    engines = runnable_engines(args.engines)
    ceiling = matmul_ceiling(torch.float32)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for q in args.qualities:
            pairs = write_jpegs(live1, q, LIVE1_FILES, tmp / f"q{q}")
            jpeg = mean_psnr(pairs, [p for p, _ in pairs])
            rows.append(jpegqs_row(q, pairs, jpeg, *JPEGQS_SETTINGS[0], tmp))
            rows += model_rows(auto_model(q, fast=True), q, pairs, jpeg, tmp, engines)
    return [
        f"Run of {time.strftime('%Y-%m-%d')} on {cpu_name()}: all {LIVE1_FILES} files per row of LIVE1 as "
        "grayscale JPEGs (the protocol's luminance, Pillow), restored and timed file to file as the "
        f"frontier's rows are; torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs; float32 matrix-product ceiling **{ceiling:.0f} GFLOP/s** "
        "(`python -m benchmarks.frontier --fast-targets --write`).",
        "",
        *TABLE_HEAD,
        *(_cells(r, ceiling) for r in rows),
        "",
        *fast_target_lines(rows),
    ]


def main(argv: list[str] | None = None) -> int:
    args = setup_args().parse_args(argv)
    if args.fast_targets:
        publish("fast-targets", measure_fast_targets(args), args.write)
        return 0
    if args.from_docs:
        text = read_block("frontier")
    else:
        lines = measure(args)
        publish("frontier", lines, args.write)
        text = "\n".join(lines)
    # The README block and the plot are made from the table's text in both modes: the same rows,
    # rounded as the table shows them.
    run, rows = parse_block(text)
    publish("speed", readme_lines(run, rows), args.write)
    if args.write:
        plot(rows, PLOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
