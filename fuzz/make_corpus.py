"""Write the committed seed corpus under ``fuzz/corpus/<corpus>/`` (deterministic; run from the repo root).

    python -m fuzz.make_corpus            # rewrite every seed
    python -m fuzz.make_corpus --check    # list the seeds and their total size, write nothing

Files named ``regress-*`` are not generated: they are the reproducers of fixed findings, kept
as they are. Seeds are tiny (16 to 64 px images, a 100-parameter network) so that mutations reach the
interesting bytes quickly; the whole corpus stays well under 200 KB. Weights seeds start with
the byte that picks the file suffix (``fuzz.targets.WEIGHT_SUFFIXES``); pixels seeds with the
5-byte header that ``fuzz.targets.pixels`` reads.
"""

from __future__ import annotations

import argparse
import io
import json
import pickle
import struct
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

ROOT = Path(__file__).resolve().parent / "corpus"
LIMIT = 200_000  # bytes, the whole corpus
# Regression seeds: reproducers of fixed findings (moved here from fuzz/known/), kept as they are.
REGRESSION_PREFIX = "regress-"


def _smooth(h: int, w: int, colour: bool, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    planes = [
        120
        + 70 * np.sin(5 * xx + c) * np.cos(4 * yy)
        + 40 * ((xx + yy) % 0.5 > 0.25)
        + rng.normal(0, 3, (h, w))
        for c in range(3 if colour else 1)
    ]
    a = np.clip(np.stack(planes, -1) if colour else planes[0], 0, 255)
    return a.astype(np.uint8)


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def image_seeds() -> dict[str, bytes]:
    """Valid and broken image files in the formats arcnn reads."""
    gray, rgb = Image.fromarray(_smooth(16, 16, False)), Image.fromarray(_smooth(16, 24, True))
    s: dict[str, bytes] = {}
    s["gray-q50.jpg"] = _save(gray, "JPEG", quality=50)
    s["colour-q10-420.jpg"] = _save(rgb, "JPEG", quality=10)
    s["colour-q75-444.jpg"] = _save(rgb, "JPEG", quality=75, subsampling=0)
    s["colour-q30-422.jpg"] = _save(rgb, "JPEG", quality=30, subsampling=1)
    s["progressive.jpg"] = _save(rgb, "JPEG", quality=40, progressive=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation
    exif[0x010F] = "arcnn-fuzz"  # make
    s["exif-icc.jpg"] = _save(
        rgb,
        "JPEG",
        quality=20,
        exif=exif.tobytes(),
        dpi=(72, 300),
        icc_profile=_srgb_icc(),
    )
    # Odd tables: all ones, all 255, three tables, a 16-bit (extended) table.
    ones, top = [1] * 64, [255] * 64
    s["tables-ones.jpg"] = _save(gray, "JPEG", qtables=[ones])
    s["tables-255.jpg"] = _save(rgb, "JPEG", qtables=[top, ones, top], subsampling=0)
    s["tables-16bit.jpg"] = _save(gray, "JPEG", qtables=[[1000 + i for i in range(64)]])
    s["cmyk.jpg"] = _save(rgb.convert("CMYK"), "JPEG", quality=30)
    s["gray.png"] = _save(gray, "PNG")
    s["rgb-dpi-text.png"] = _save(rgb, "PNG", dpi=(150, 150), pnginfo=_pnginfo())
    s["16bit.png"] = _save(Image.fromarray(_smooth(16, 16, False).astype(np.uint16) * 257), "PNG")
    s["rgba.png"] = _save(rgb.convert("RGBA"), "PNG")
    s["la.png"] = _save(gray.convert("LA"), "PNG")
    pal = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    s["palette-trns.png"] = _save(pal, "PNG", transparency=0)
    s["1bit.png"] = _save(gray.convert("1"), "PNG")
    frames = [pal, pal.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    s["two-frames.gif"] = _save(
        frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0
    )
    s["two-pages.tif"] = _save(
        rgb, "TIFF", save_all=True, append_images=[gray.copy()], compression="tiff_deflate"
    )
    s["16bit.tif"] = _save(Image.fromarray(_smooth(8, 8, False).astype(np.uint16) * 257), "TIFF")
    s["lossy.webp"] = _save(rgb, "WEBP", quality=20)
    s["lossless-alpha.webp"] = _save(rgb.convert("RGBA"), "WEBP", lossless=True)
    s["rgb.bmp"] = _save(Image.fromarray(_smooth(4, 4, True)), "BMP")
    s["gray.pgm"] = _save(Image.fromarray(_smooth(8, 8, False)), "PPM")
    s["rgb.ppm"] = _save(Image.fromarray(_smooth(4, 4, True)), "PPM")
    # Broken ones.
    s["truncated.jpg"] = s["colour-q10-420.jpg"][: len(s["colour-q10-420.jpg"]) // 2]
    s["bad-crc.png"] = s["gray.png"][:29] + b"\0\0\0\0" + s["gray.png"][33:]
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    s["bomb-header.png"] = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )
    s["sof-zero-size.jpg"] = _zero_size_jpeg(s["gray-q50.jpg"])
    s["empty"] = b""
    return s


def _srgb_icc() -> bytes:
    """LittleCMS's sRGB profile, its creation date (header bytes 24..35) fixed: the same bytes every run."""
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return icc[:24] + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + icc[36:]


def _pnginfo():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "fuzz seed")
    info.add_itxt("Description", "ünïcode", lang="de")
    return info


def _zero_size_jpeg(jpeg: bytes) -> bytes:
    """The JPEG with its frame header's height set to 0 (a DNL-style file)."""
    i = jpeg.index(b"\xff\xc0")
    return jpeg[: i + 5] + b"\0\0" + jpeg[i + 7 :]


def restore_seeds() -> dict[str, bytes]:
    """A few larger images: several tiles, partial blocks at the edges, the consistency projection."""
    rgb = Image.fromarray(_smooth(40, 56, True, seed=1))
    gray = Image.fromarray(_smooth(37, 45, False, seed=2))
    return {
        "colour-q10-40x56.jpg": _save(rgb, "JPEG", quality=10),
        "gray-q20-37x45.jpg": _save(gray, "JPEG", quality=20),
        "gray-from-jpeg.png": _save(Image.open(io.BytesIO(_save(gray, "JPEG", quality=15))), "PNG"),
        "rgba-40x56.png": _save(rgb.convert("RGBA"), "PNG"),
        "cmyk-40x56.jpg": _save(rgb.convert("CMYK"), "JPEG", quality=25),
    }


def pixel_seeds() -> dict[str, bytes]:
    """Headers (kind, h - 1, w - 1, max_blocks little-endian) and planes for ``fuzz.targets.pixels``."""

    def plane(a: np.ndarray, kind: int = 0, max_blocks: int = 16384) -> bytes:
        return bytes([kind, a.shape[0] - 1, a.shape[1] - 1]) + struct.pack("<h", max_blocks) + a.tobytes()

    s: dict[str, bytes] = {}
    g = _smooth(48, 48, False, seed=3)
    for q in (10, 40, 80):
        decoded = np.asarray(Image.open(io.BytesIO(_save(Image.fromarray(g), "JPEG", quality=q))))
        s[f"jpeg-q{q}-48.bin"] = plane(decoded)
    s["crop-q10-43.bin"] = plane(
        np.ascontiguousarray(
            np.asarray(Image.open(io.BytesIO(_save(Image.fromarray(g), "JPEG", quality=10))))[3:, 2:45]
        )
    )
    s["flat-16.bin"] = plane(np.full((16, 16), 128, np.uint8))
    s["tiny-4.bin"] = plane(np.arange(16, dtype=np.uint8).reshape(4, 4))
    s["max-blocks-1.bin"] = plane(g[:32, :32], kind=3, max_blocks=1)
    s["wrong-dtype.bin"] = plane(g[:8, :8], kind=2)
    # kind 1: estimate_quality on tables: (id, length, 16-bit values) repeated.
    from arcnn.codec import ijg_table

    def tables(*ts: tuple[int, np.ndarray]) -> bytes:
        return b"".join(bytes([i, len(t)]) + np.asarray(t, "<u2").tobytes() for i, t in ts)

    s["tables-q50.bin"] = bytes([1, 0, 0, 0, 0]) + tables((0, ijg_table(50)), (1, ijg_table(50, True)))
    s["tables-q95-luma.bin"] = bytes([1, 0, 0, 0, 0]) + tables((0, ijg_table(95)))
    s["tables-short.bin"] = bytes([1, 0, 0, 0, 0]) + tables((0, ijg_table(10)[:8]), (1, np.zeros(64)))
    return s


WEIGHT_SUFFIXES = (".safetensors", ".pt", ".onnx")  # the same as fuzz.targets.WEIGHT_SUFFIXES


def weight_seeds() -> dict[str, bytes]:
    """Weights files of a 100-parameter network (and the restore target's), valid and hostile."""
    import torch
    from safetensors.torch import save as st_save

    from arcnn.models import ConvStack, ModelConfig, preset

    def pick(suffix: str, data: bytes) -> bytes:
        return bytes([WEIGHT_SUFFIXES.index(suffix)]) + data

    torch.manual_seed(0)
    tiny = ConvStack(ModelConfig(kernels=(3, 1, 3), widths=(4, 2, 1), residual=True))
    state = {k: v.contiguous() for k, v in tiny.state_dict().items()}
    cfg = tiny.config.to_json()
    s: dict[str, bytes] = {}
    s["tiny.safetensors"] = pick(".safetensors", st_save(state, {"model_config": cfg}))
    torch.manual_seed(0)
    srcnn = ConvStack(preset("srcnn", residual=True))
    s["srcnn.safetensors"] = pick(
        ".safetensors",
        st_save(
            {k: v.contiguous() for k, v in srcnn.state_dict().items()},
            {"model_config": srcnn.config.to_json()},
        ),
    )
    s["unet.safetensors"] = pick(
        ".safetensors",
        st_save(
            {"x": torch.zeros(1)},
            {
                "model_config": json.dumps(
                    {"arch": "unet", "widths": [2, 2], "blocks": [0, 1], "conditioned": True}
                )
            },
        ),
    )
    s["no-config.safetensors"] = pick(".safetensors", st_save(state))
    s["huge-config.safetensors"] = pick(
        ".safetensors",
        st_save(state, {"model_config": json.dumps({"kernels": [15] * 32, "widths": [1024] * 31 + [1]})}),
    )
    s["wrong-shape.safetensors"] = pick(
        ".safetensors", st_save({**state, "convs.0.weight": torch.zeros(4, 1, 5, 5)}, {"model_config": cfg})
    )
    s["half.safetensors"] = pick(
        ".safetensors", st_save({k: v.half() for k, v in state.items()}, {"model_config": cfg})
    )
    header = json.dumps(
        {
            "__metadata__": {"model_config": cfg},
            "w": {"dtype": "F32", "shape": [1 << 40], "data_offsets": [0, 4]},
        }
    ).encode()
    s["lying-shape.safetensors"] = pick(".safetensors", struct.pack("<Q", len(header)) + header + b"\0" * 4)
    s["huge-header.safetensors"] = pick(".safetensors", struct.pack("<Q", 1 << 62) + b"{}")
    buf = io.BytesIO()
    torch.save({"model": state, "model_config": cfg, "step": 1, "optimizer": {}}, buf)
    s["tiny.pt"] = pick(".pt", buf.getvalue())
    buf = io.BytesIO()
    torch.save({"model": state}, buf)
    s["no-config.pt"] = pick(".pt", buf.getvalue())
    # A checkpoint whose pickle calls a function on load: weights_only must refuse it (the target
    # traps pickle itself, so any unrestricted unpickling is a finding).
    buf = io.BytesIO()
    torch.save({"model": state, "model_config": cfg, "evil": _Evil()}, buf)
    s["pickle-call.pt"] = pick(".pt", buf.getvalue())
    s["legacy-pickle.pt"] = pick(".pt", pickle.dumps({"model": {}, "model_config": cfg}, protocol=2))
    s["tiny.onnx"] = pick(".onnx", _onnx_bytes(tiny))
    s["garbage.onnx"] = pick(".onnx", b"\x08\x07\x12\x04fuzz" + b"\xff" * 8)
    return s


class _Evil:
    def __reduce__(self):
        return (print, ("unpickled!",))


def _onnx_bytes(model) -> bytes:
    try:
        from arcnn.export import export_onnx
    except ImportError:  # pragma: no cover - onnx is in the test extra
        return b""
    with tempfile.TemporaryDirectory() as d:
        return export_onnx(model, Path(d) / "tiny.onnx").read_bytes()


CORPORA = {"image": image_seeds, "restore": restore_seeds, "pixels": pixel_seeds, "weights": weight_seeds}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="write nothing; list the seeds and their size")
    args = p.parse_args(argv)
    total = 0
    for name, make in CORPORA.items():
        seeds = make()
        folder = ROOT / name
        if not args.check:
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.iterdir():
                if old.name not in seeds and not old.name.startswith(REGRESSION_PREFIX):
                    old.unlink()
            for fname, data in seeds.items():
                (folder / fname).write_bytes(data)
        kept = [p for p in folder.glob(f"{REGRESSION_PREFIX}*") if p.is_file()]
        size = sum(len(d) for d in seeds.values()) + sum(p.stat().st_size for p in kept)
        total += size
        print(f"{name}: {len(seeds)} seeds and {len(kept)} regression seeds, {size} bytes")
    print(f"total: {total} bytes (limit {LIMIT})")
    return 0 if total <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
