"""Colour restoration on LIVE1: RGB JPEGs at 4:2:0, 4:2:2 and 4:4:4, and with mozjpeg's tables.

    python -m benchmarks.colour [--write] [--qualities 5 10 20 30 40 50 60 75 90 95]
                                [--settings 4:2:0 4:2:2 4:4:4 mozjpeg] [--data live1] [--every 1]
    python -m benchmarks.colour --data skimage [--write]
    python -m benchmarks.colour --from-docs [--write]
    python -m benchmarks.colour --fast [--write]

Each LIVE1 image is saved by Pillow as an RGB JPEG at quality q, in each setting: IJG's tables
(Pillow's and libjpeg's) with 4:2:0, 4:2:2 or 4:4:4 chroma, and ``mozjpeg``: mozjpeg's default
tables (N. Robidoux's, for luminance and chroma alike, scaled by libjpeg's quality curve) at 4:2:0.
The file's bytes are restored as ``arcnn restore`` restores them (on ONNX Runtime, its default
engine): Y only (``--chroma off``: the luminance model ``--quality auto`` picks, kept consistent
with the file, chroma as decoded), colour (``--chroma on``: the same Y plus the chroma model picked
from the file's quality, reading the restored Y) and the default (``--chroma auto``: what users
get). The three share one restoration of the luminance, built from the library's pieces as
``arcnn.pipeline.Restorer`` builds it (and IJG's three settings, which code the same Y plane,
share it too); the first file of each row is also restored three times by
``Restorer`` itself, and the run stops unless every pixel agrees. Reports RGB PSNR (all three
channels), the PSNR of MATLAB Y and the CIEDE2000 colour difference ΔE (``arcnn.metrics.ciede2000``,
lower is better), means over images, against the JPEG as libjpeg decodes it to RGB.
``--fast`` measures the fast tier (``arcnn restore --fast``: its luminance and chroma models) the
same way; ``--fast --write`` puts it into the ``colour-fast`` block (docs/speed.md).
``--write`` updates the ``colour`` block (docs/results.md) and the README's ``colour-readme`` block
(the default at 4:2:0, made from the first block's text); it needs every setting and image of
LIVE1. ``--from-docs [--write]`` measures nothing: it remakes the README block from
docs/results.md's. ``--data bsds500/val --every 3`` checks on a third of BSDS500 val, where the
thresholds of ``--chroma auto`` were set (``arcnn.policy.CHROMA_AUTO_MAX_QUALITY``).
``--data skimage [--write]`` runs the colour photos of ``benchmarks.generalisation``'s held-out set
(scikit-image's: never used for training or tuning) into the ``colour-heldout`` block, with the
default's gains beside LIVE1's from the ``colour`` block. ``--jfif-luma``, ``--decoded-y``,
``--chroma-model``, ``--model`` and ``--ensembles`` measure what ``arcnn restore`` does not do by
default; such a variant, or ``--ensemble``, never replaces the published blocks. The last line
gives the default's cost in multiply-adds per pixel.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import re
import sys
from collections import Counter
from typing import Any

import numpy as np
from PIL import Image

from arcnn.codec import rgb2ycbcr
from arcnn.data import list_images
from arcnn.engine import restore_chroma, restore_luma
from arcnn.files import open_image
from arcnn.metrics import ciede2000, psnr
from arcnn.options import ENSEMBLES
from arcnn.pipeline import Restorer, luma_qtable, map_luma
from arcnn.policy import CHROMA_MODEL, chroma_model, ensembles, file_quality, pick_model, within_range
from arcnn.zoo import REGISTRY
from benchmarks._common import publish, read_block, require_data, restorer

QUALITIES = [5, 10, 20, 30, 40, 50, 60, 75, 90, 95]
SETTINGS = {"4:2:0": "IJG tables, 4:2:0 (Pillow's and cameras' default)", "4:2:2": "IJG tables, 4:2:2",
            "4:4:4": "IJG tables, 4:4:4 (full-resolution chroma)",
            "mozjpeg": "mozjpeg's default tables (the same for luminance and chroma), 4:2:0"}  # fmt: skip
ROWS = ("jpeg", "yonly", "colour", "auto")
# The targets: RGB PSNR (dB) of the default restoration of 4:2:0 JPEGs.
RGB_TARGETS = {10: 27.30, 40: 31.50}
# mozjpeg's default tables (profile JCP_MAX_COMPRESSION: index 3 of jcparam.c's tables, for
# luminance and chroma alike), from N. Robidoux; row-major, scaled as libjpeg scales its own.
ROBIDOUX = np.array([16, 16, 16, 18, 25, 37, 56, 85, 16, 17, 20, 27, 34, 40, 53, 75,
                     16, 20, 24, 31, 43, 62, 91, 135, 18, 27, 31, 40, 53, 74, 106, 156,
                     25, 34, 43, 53, 69, 94, 131, 189, 37, 40, 62, 74, 94, 124, 169, 238,
                     56, 53, 91, 106, 131, 169, 226, 311, 85, 75, 135, 156, 189, 238, 311, 418])  # fmt: skip


def mozjpeg_table(quality: int) -> list[int]:
    """mozjpeg's default table at ``quality``, baseline-clamped to 1..255 as libjpeg clamps it."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [int(v) for v in np.clip((ROBIDOUX * scale + 50) // 100, 1, 255)]


def encode(rgb: np.ndarray, setting: str, quality: int) -> bytes:
    """The JPEG file of ``rgb`` that Pillow writes in ``setting`` at ``quality``."""
    buf = io.BytesIO()
    if setting == "mozjpeg":
        table = mozjpeg_table(quality)
        options: dict[str, Any] = {"qtables": [table, table], "subsampling": "4:2:0"}
    else:
        options = {"quality": quality, "subsampling": setting}
    Image.fromarray(rgb).save(buf, format="JPEG", **options)
    return buf.getvalue()


def _rgb_psnr(ref: np.ndarray, out: np.ndarray) -> float:
    return psnr(ref.reshape(ref.shape[0], -1), out.reshape(out.shape[0], -1))


def _as_arcnn_restore(data: bytes, restorers: dict[str, Restorer]) -> tuple[dict[str, np.ndarray], tuple]:
    """The default, Y-only and colour restorations of the JPEG ``data`` exactly as ``arcnn restore``
    makes them, and the models used: (luminance, chroma of --chroma on, chroma of the default).
    The default gives what one of the others gives when it picks the same chroma model (or none):
    that one is not restored twice."""
    default = restorers["auto"].restore(data)
    out = {"auto": default}
    with open_image(data) as im:
        picks = {k: chroma_model(im, restorers[k].options.chroma, restorers[k].options.fast)
                 for k in ("yonly", "colour")}  # fmt: skip
    for k, pick in picks.items():
        out[k] = default if pick == default.chroma_model else restorers[k].restore(data)
    images = {k: np.asarray(o.image) for k, o in out.items()}
    return images, (str(default.model), str(out["colour"].chroma_model), str(default.chroma_model))


# Restored luminance planes by (model, options, plane): IJG's tables code the same Y plane at
# 4:2:0, 4:2:2 and 4:4:4, so each is restored once for the three settings. Oldest dropped first.
_LUMA: dict[tuple, np.ndarray] = {}
_LUMA_KEPT = 300


def _luma(
    net: Any, y: np.ndarray, name: str, full_range: bool, qtable: Any, q: int | None, n: int
) -> np.ndarray:
    """``restore_luma(..., rounded=False, ensemble=n)`` of ``y``, from :data:`_LUMA` if it was
    restored before."""
    table = None if qtable is None else np.asarray(qtable).tobytes()
    key = (name, full_range, table, q, n, y.shape, hashlib.blake2b(y.tobytes(), digest_size=16).digest())
    if key not in _LUMA:
        _LUMA[key] = restore_luma(net, y, full_range=full_range, qtable=qtable, quality=q, rounded=False,
                                  ensemble=n)  # fmt: skip
        while len(_LUMA) > _LUMA_KEPT:
            del _LUMA[next(iter(_LUMA))]
    return _LUMA[key]


def _variant(data: bytes, r: Restorer, args: argparse.Namespace) -> tuple[dict[str, np.ndarray], tuple]:
    """What ``arcnn restore`` does not do, built from the library's pieces as ``Restorer`` builds it
    (``RestoreOptions`` cannot ask for these): the luminance model fed JFIF Y as is (``--jfif-luma``),
    the chroma model reading the decoded Y (``--decoded-y``), another chroma model (``--chroma-model``),
    another luminance model at every quality (``--model``).
    The luminance is restored once and shared by both rows; the default is the colour row where
    ``--chroma auto`` restores chroma, else the Y-only row."""
    fast = r.options.fast
    with open_image(data) as im:
        estimate = file_quality(im)
        q = None if estimate is None else estimate.quality
        name = args.model or within_range(pick_model("auto", im, fast), q)
        cname = args.chroma_model or chroma_model(im, "on", fast) or CHROMA_MODEL
        auto = chroma_model(im, "auto", fast)
        qtable = None if args.no_consistency else luma_qtable(im)
        im.load()
        ycc = np.asarray(im.convert("YCbCr"))
        luma_n, chroma_n = args.ensembles or ensembles(r.options.ensemble, fast)[1:]
        y = _luma(
            r.network(name), np.ascontiguousarray(ycc[..., 0]), name, not args.jfif_luma, qtable, q, luma_n
        )

        def keep_y(_: np.ndarray) -> np.ndarray:
            return y

        def keep_y_rounded(_: np.ndarray) -> np.ndarray:
            return y.round().astype(np.uint8)

        def chroma(planes: np.ndarray) -> np.ndarray:
            if args.decoded_y:
                planes = np.dstack([ycc[..., :1], planes[..., 1:]])
            return restore_chroma(
                r.network(cname, "chroma"), planes, quality=q, rounded=False, ensemble=chroma_n
            )

        out = {"yonly": map_luma(im, keep_y_rounded), "colour": map_luma(im, keep_y, chroma)}
    out["auto"] = out["yonly" if auto is None else "colour"]
    return {k: np.asarray(v) for k, v in out.items()}, (name, cname, str(auto and cname))


def _checked(data: bytes, restorers: dict[str, Restorer], args: argparse.Namespace, check: bool) -> tuple:
    """:func:`_variant`'s rows (one luminance restoration for the three), compared pixel for pixel
    with :func:`_as_arcnn_restore`'s when ``check``."""
    images, names = _variant(data, restorers["colour"], args)
    if check:
        exact, exact_names = _as_arcnn_restore(data, restorers)
        differ = [k for k in exact if not np.array_equal(images[k], exact[k])]
        if differ or names != exact_names:
            raise SystemExit(f"rows {differ} or models {names} differ from arcnn restore's ({exact_names})")
    return images, names


def _scores(rgb: np.ndarray, ref_y: np.ndarray, out: np.ndarray) -> tuple[float, float, float]:
    return _rgb_psnr(rgb, out), psnr(ref_y, rgb2ycbcr(out)[..., 0]), ciede2000(rgb, out)


def measure(images: list[np.ndarray], setting: str, q: int, restore: Any) -> tuple[dict, tuple]:
    """Mean (RGB PSNR, Y PSNR, ΔE) of each row over ``images``, and the models most images got.
    ``restore(data, first)``: the rows of one JPEG file; ``first``: the row's first file."""
    scores: dict[str, list] = {k: [] for k in ROWS}
    used: Counter = Counter()
    for i, rgb in enumerate(images):
        data = encode(rgb, setting, q)
        with Image.open(io.BytesIO(data)) as im:
            outs = {"jpeg": np.asarray(im.convert("RGB"))}  # as libjpeg decodes it to RGB
        restored, names = restore(data, i == 0)
        outs |= restored
        used[names] += 1
        ref_y = rgb2ycbcr(rgb)[..., 0]
        done: list[tuple[np.ndarray, tuple]] = []  # rows that gave the same pixels are scored once
        for k, out in outs.items():
            same = [m for o, m in done if np.array_equal(o, out)]
            m = same[0] if same else _scores(rgb, ref_y, out)
            done.append((out, m))
            scores[k].append(m)
    return {k: np.mean(v, axis=0) for k, v in scores.items()}, used.most_common(1)[0][0]


def heldout_images() -> tuple[str, list[np.ndarray]]:
    """The colour photos of ``benchmarks.generalisation``'s held-out set (scikit-image's, never used
    for training or tuning): (their label, RGB uint8 arrays); exits 2 without scikit-image."""
    from benchmarks.generalisation import IMAGES

    try:
        from skimage import data
    except ImportError:
        print("scikit-image is missing: pip install -e '.[test]'; nothing was measured", file=sys.stderr)
        sys.exit(2)
    names, images = [], []
    for name in IMAGES:
        img = getattr(data, name)()
        img = img[0] if isinstance(img, tuple) else img  # a stereo pair: its left view
        if img.ndim == 3:
            names.append(name)
            images.append(np.ascontiguousarray(img[..., :3], dtype=np.uint8))
    return f"scikit-image's colour photos, held out ({', '.join(names)})", images


def gains_lines(live1: dict[int, dict], results: dict[int, dict]) -> list[str]:
    """The default's gain over the JPEG at 4:2:0 here against LIVE1's (``live1``: :func:`parse_block`'s
    rows): RGB PSNR dB and ΔE, at the qualities both hold."""
    lines = ["| q | RGB PSNR gain: here | LIVE1 | ΔE change: here | LIVE1 |", "|---|---|---|---|---|"]

    def change(m: dict, i: int) -> float:
        return m["auto"][i] - m["jpeg"][i]

    for q in [q for q in results if q in live1]:
        here, there = results[q], live1[q]
        psnr = f"{change(here, 0):+.2f} | {change(there, 0):+.2f}"
        lines.append(f"| {q} | {psnr} | {change(here, 2):+.3f} | {change(there, 2):+.3f} |")
    return lines


def _cell(m: np.ndarray) -> str:
    return f"{m[0]:.2f} / {m[1]:.2f} / {m[2]:.3f}"


def _diff(a: np.ndarray, b: np.ndarray) -> str:
    return f"{a[0] - b[0]:+.3f} / {a[2] - b[2]:+.3f}"


def table_row(q: int, m: dict, names: tuple) -> str:
    name, cname, auto = names
    chroma = "chroma as decoded" if auto == "None" else f"+ {auto}"
    cells = [_cell(m["jpeg"]), f"{_cell(m['yonly'])} ({name})", f"{_cell(m['colour'])} ({cname})",
             f"{_cell(m['auto'])} ({chroma})", _diff(m["auto"], m["jpeg"]),
             _diff(m["colour"], m["yonly"])]  # fmt: skip
    return f"| {q} | " + " | ".join(cells) + " |"


def verdict(setting: str, results: dict[int, dict]) -> str:
    """Whether the default beats the JPEG at every quality, in RGB PSNR and in ΔE."""
    gain = {q: m["auto"][0] - m["jpeg"][0] for q, m in results.items()}
    de = {q: m["auto"][2] - m["jpeg"][2] for q, m in results.items()}
    qg, qd = min(gain, key=gain.__getitem__), max(de, key=de.__getitem__)
    return (
        f"{setting}: the default better than the JPEG in RGB PSNR at every q: "
        f"{'yes' if gain[qg] > 0 else 'no'} (smallest gain: q{qg}, {gain[qg]:+.3f} dB); "
        f"ΔE lower at every q: {'yes' if de[qd] < 0 else 'no'} (smallest drop: q{qd}, {de[qd]:+.3f})."
    )


def targets(results: dict[int, dict]) -> str:
    found = [(q, t, results[q]["auto"][0]) for q, t in RGB_TARGETS.items() if q in results]
    met = all(m >= t for _, t, m in found)
    parts = [f"q{q} {t:.2f} dB RGB (measured {m:.2f}, {m - t:+.2f})" for q, t, m in found]
    return f"The issue's targets for the default at 4:2:0: {'; '.join(parts)}: {'met' if met else 'not met'}."


def results_lines(label: str, n: int, results: dict[str, dict], names: dict, fast: bool = False) -> list[str]:
    command = "`arcnn restore --fast`" if fast else "`arcnn restore`"
    lines = [
        f"{label} ({n} images) as RGB JPEGs written by Pillow. Each cell: RGB PSNR dB / Y PSNR dB / mean "
        "CIEDE2000 ΔE (lower: closer colours); differences: RGB PSNR dB / ΔE. Y only: `--chroma off`; "
        f"on: `--chroma on`; default: `--chroma auto`, what {command} does."
    ]
    head = "| q | JPEG | Y only (model) | on (chroma model) | default | default − JPEG | on − Y only |"
    for setting, by_q in results.items():
        lines += ["", f"{SETTINGS[setting]}:", "", head, "|---|---|---|---|---|---|---|"]
        lines += [table_row(q, m, names[setting][q]) for q, m in by_q.items()]
    lines += [""] + [verdict(s, r) for s, r in results.items()]
    if label == "LIVE1" and not fast and set(RGB_TARGETS) & set(results.get("4:2:0", {})):
        lines.append(targets(results["4:2:0"]))
    return lines


# The budget for the default: luminance and chroma multiply-adds per image pixel.
MACS_BUDGET = 0.5e6


def cost_line(
    names: dict[str, dict], ensemble: int | None, apart: list[int] | None = None, fast: bool = False
) -> str:
    """The default's (``fast``: the fast tier's) largest cost over the rows measured: each model's
    multiply-adds per image pixel (``arcnn.flops``) times its self-ensemble size (``apart``:
    luminance, chroma), luminance plus chroma where it is restored."""
    from arcnn.flops import macs_per_pixel
    from arcnn.zoo import load_model

    luma_n, chroma_n = apart or ensembles(ensemble, fast)[1:]
    macs = {}
    for name, _, auto in {n for by_q in names.values() for n in by_q.values()}:
        parts = [(name, luma_n)] + ([(auto, chroma_n)] if auto != "None" else [])
        macs[" + ".join(f"{n} × {m}" for m, n in parts)] = sum(
            n * macs_per_pixel(load_model(m)) for m, n in parts
        )
    worst = max(macs, key=macs.__getitem__)
    if fast:
        return (f"`--fast`'s cost: at most {macs[worst] / 1e3:.1f} k multiply-adds per image pixel ({worst}; "
                "`arcnn.flops`).")  # fmt: skip
    return (f"The default's cost, at most {macs[worst] / 1e3:.0f} k multiply-adds per image pixel ({worst}, "
            f"self-ensembles counted; `arcnn.flops`): within the issue's {MACS_BUDGET / 1e6:.1f} M: "
            f"{'yes' if macs[worst] <= MACS_BUDGET else 'no'}.")  # fmt: skip


def parse_block(text: str) -> tuple[str, int, dict[int, dict]]:
    """The data label, the image count and the 4:2:0 rows of a ``colour`` block's text (what
    :func:`results_lines` writes): q -> {"jpeg", "auto"} -> (RGB PSNR, Y PSNR, ΔE) as rounded there."""
    found = re.match(r"(.+) \((\d+) images\)", text)
    if found is None or f"\n{SETTINGS['4:2:0']}:\n" not in text:
        raise SystemExit("the colour block holds no 4:2:0 table: python -m benchmarks.colour --write")
    table = text.split(f"\n{SETTINGS['4:2:0']}:\n", 1)[1].strip("\n").split("\n\n")[0]
    by_q = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        jpeg, auto = (tuple(float(v) for v in re.findall(r"-?\d+\.\d+", c)[:3]) for c in (cells[1], cells[4]))
        by_q[int(cells[0])] = {"jpeg": jpeg, "auto": auto}
    return found.group(1), int(found.group(2)), by_q


def readme_lines(label: str, n: int, by_q: dict[int, dict]) -> list[str]:
    """The README's table: the default restoration of 4:2:0 JPEGs against the JPEG, a column a quality."""
    qs = list(by_q)
    rows = [
        ("JPEG", "jpeg", 0),
        ("`arcnn restore`", "auto", 0),
        ("JPEG", "jpeg", 2),
        ("`arcnn restore`", "auto", 2),
    ]
    lines = ["| " + " | ".join(["LIVE1, 4:2:0", *(f"q{q}" for q in qs)]) + " |", "|---" * (len(qs) + 1) + "|"]
    for what, row, i in rows:
        unit = "RGB PSNR dB" if i == 0 else "ΔE"
        lines.append(f"| {what}: {unit} | " + " | ".join(f"{by_q[q][row][i]:.2f}" for q in qs) + " |")
    return lines + [
        "",
        f"{label} ({n} images) saved by Pillow at 4:2:0 and restored by `arcnn restore` with its defaults; "
        "ΔE: the mean CIEDE2000 colour difference from the original (lower: closer colours). 4:2:2, "
        "4:4:4, mozjpeg's tables, Y PSNR and luminance-only restoration: "
        "[docs/results.md](docs/results.md#colour-jpegs) (`python -m benchmarks.colour --write`).",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the colour blocks (docs/results.md, README)")
    ap.add_argument("--qualities", type=int, nargs="+", default=QUALITIES)
    ap.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    ap.add_argument("--data", default="live1",
                    help="folder of ../shared/data (bsds500/val to check on val), or skimage: held-out "
                         "photos (`benchmarks.generalisation`)")  # fmt: skip
    ap.add_argument(
        "--every", type=int, default=1, help="every N-th image only, from the first (a quicker check)"
    )
    ap.add_argument("--jfif-luma", action="store_true",
                    help="luminance models see full-range Y as is (measures the mapping)")  # fmt: skip
    ap.add_argument("--no-consistency", action="store_true",
                    help="luminance without the projection onto what the JPEG coded")  # fmt: skip
    ap.add_argument("--decoded-y", action="store_true",
                    help="the chroma model reads the decoded Y, not the restored one")  # fmt: skip
    ap.add_argument("--chroma-model", default=None,
                    help="this chroma model at every quality (default: as arcnn restore picks)")  # fmt: skip
    ap.add_argument("--model", default=None,
                    help="this luminance model for every image (default: arcnn restore's pick)")  # fmt: skip
    ap.add_argument("--ensemble", type=int, choices=ENSEMBLES, default=None,
                    help="as arcnn restore's --ensemble (default: its default)")  # fmt: skip
    ap.add_argument("--ensembles", type=int, nargs=2, choices=ENSEMBLES, metavar=("LUMA", "CHROMA"),
                    help="self-ensemble sizes of a colour image's luminance and chroma apart")  # fmt: skip
    ap.add_argument("--fast", action="store_true",
                    help="the fast tier, as arcnn restore --fast (--write: its own block)")  # fmt: skip
    ap.add_argument("--from-docs", action="store_true",
                    help="measure nothing: the README block from docs/results.md's colour table")  # fmt: skip
    args = ap.parse_args(argv)
    if args.from_docs:
        publish("colour-readme", readme_lines(*parse_block(read_block("colour"))), args.write)
        return 0
    if CHROMA_MODEL not in REGISTRY:
        print(f"{CHROMA_MODEL} is not shipped: nothing to measure", file=sys.stderr)
        return 2
    if args.data == "skimage":
        label, images = heldout_images()
        images = images[:: args.every]
    else:
        label, images = ("LIVE1" if args.data == "live1" else args.data), []
        for f in list_images(require_data(args.data))[:: args.every]:
            with Image.open(f) as im:
                images.append(np.asarray(im.convert("RGB")))
    kept = {"consistency": not args.no_consistency, "backend": "auto", "ensemble": args.ensemble,
            "fast": args.fast}  # fmt: skip
    chromas = {"yonly": "off", "colour": "on", "auto": "auto"}
    restorers = {k: restorer(chroma=c, **kept) for k, c in chromas.items()}
    variant = args.jfif_luma or args.decoded_y or args.chroma_model or args.model or args.ensembles

    def restore(data: bytes, first: bool) -> tuple[dict[str, np.ndarray], tuple]:
        return _checked(data, restorers, args, check=first and not variant)

    results: dict[str, dict] = {s: {} for s in args.settings}
    names: dict[str, dict] = {s: {} for s in args.settings}
    for setting in args.settings:
        for q in args.qualities:
            results[setting][q], names[setting][q] = measure(images, setting, q, restore)
            print(setting, table_row(q, results[setting][q], names[setting][q]), flush=True)
    published = args.write and not (variant or args.no_consistency or args.every > 1)
    published = published and args.ensemble is None and args.data in ("live1", "skimage")
    published = published and set(args.settings) == set(SETTINGS)
    lines = results_lines(label, len(images), results, names, args.fast) + [
        cost_line(names, args.ensemble, args.ensembles, args.fast)
    ]
    if args.fast:
        publish("colour-fast", lines, published and args.data == "live1")
        return 0
    if args.data == "skimage":
        if "4:2:0" in results:
            lines += ["", "The default against the JPEG at 4:2:0, here and on LIVE1 (its colour block):", ""]
            lines += gains_lines(parse_block(read_block("colour"))[2], results["4:2:0"])
        publish("colour-heldout", lines, published)
        return 0
    publish("colour", lines, published)
    if "4:2:0" in results:  # from the text, as --from-docs makes it: the README matches the table
        publish("colour-readme", readme_lines(*parse_block("\n".join(lines))), published)
    return 0


if __name__ == "__main__":
    sys.exit(main())
