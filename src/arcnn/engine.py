"""The engine: a network applied to whole planes of any size, tile by tile, exactly.

Below the pipeline (``arcnn.pipeline``), above the networks: tiling with each tile's exact
receptive field, the self-ensemble, bfloat16, the JPEG consistency projection, the quality
plane of conditioned networks, and the choice of PyTorch or ONNX Runtime (:func:`on_backend`).
Tiles are numpy arrays throughout; PyTorch is imported only to run a PyTorch network.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from arcnn.codec import project_to_jpeg, scaled_quality
from arcnn.netconfig import Network, NetworkConfig
from arcnn.options import BACKENDS, TILE, check_ensemble

__all__ = ["MATCHED_MAX_QUALITY", "network_quality", "to_studio", "from_studio", "restore_luma",
           "restore_chroma", "on_backend", "is_torch", "auto_tile"]  # fmt: skip

# One tile through a network: float32 (1, C_in, h, w) -> float32 (1, C, h', w'), both numpy (any strides).
Run = Callable[[np.ndarray], np.ndarray]


# Full-range Y is told the quality whose steps it shows up to here, the highest quality arcnn-large
# learned; above it the matched plane reaches further past its training and the restored Y of
# BSDS500 val's colour JPEGs falls (python -m experiments.full_range_quality; docs/results.md).
MATCHED_MAX_QUALITY = 40

# (quarter turns, mirror) of each self-ensemble member; the first 4 are the flips, which map a
# JPEG's (non-symmetric) quantisation tables onto themselves.
_ENSEMBLE = [(0, False), (0, True), (2, False), (2, True), (1, False), (1, True), (3, False), (3, True)]
# A 4:2:0 file's chroma blocks cover 16x16 image pixels: planes padded to a multiple of this keep
# every block boundary on a block boundary when flipped or turned.
_GRID = 16


def network_quality(quality: int | None) -> int | None:
    """The quality plane a network reads for a colour JPEG's full-range Y of JPEG quality
    ``quality``, mapped to the studio range (``restore_luma``'s ``full_range``): the quality whose
    steps match the mapped ones up to ``MATCHED_MAX_QUALITY``, else ``quality`` itself.

    Example:
        >>> network_quality(10), network_quality(40), network_quality(75), network_quality(None)
        (12, 47, 75, None)
    """
    if quality and quality <= MATCHED_MAX_QUALITY:
        return scaled_quality(quality, 219 / 255)
    return quality


def to_studio(t: Any) -> Any:
    """Full-range values on [0, 1] (an array or a tensor) -> MATLAB's studio range, [16, 235] / 255."""
    return (16.0 + 219.0 * t) / 255.0


def from_studio(t: Any) -> Any:
    """The inverse of :func:`to_studio`."""
    return (255.0 * t - 16.0) / 219.0


def restore_luma(
    model: Network,
    luma: np.ndarray,
    tile: int | None = None,
    bf16: bool = False,
    ensemble: int = 1,
    full_range: bool = False,
    qtable: np.ndarray | None = None,
    quality: int | None = None,
    rounded: bool = True,
    match_quality: bool = True,
) -> np.ndarray:
    """Restore one uint8 (H, W) plane; returns uint8 (H, W). A uint16 plane (16-bit images) is
    scaled to [0, 1] by 65535 instead of 255 and comes back as uint16. ``rounded=False``: float32
    (H, W) on the same range, unrounded (for a colour conversion that rounds once).

    ``bf16``: compute under bfloat16 autocast (faster on CPUs with AVX-512 BF16;
    ``python -m benchmarks.inference_speed`` measures the PSNR it costs).
    ``ensemble``: 1, or the mean of 2 (a mirror), 4 (flips) or 8 (flips and quarter turns)
    restorations of the flipped/turned plane, mapped back (``python -m benchmarks.ensemble``
    measures the gain).
    ``full_range``: the plane is a colour image's JFIF Y (0-255); the networks learned MATLAB's
    studio-range Y (16-235), so the network sees it mapped to that range, in floating point. The
    mapping shrinks the file's quantisation steps by 219/255, so a network that reads the quality
    is told the one whose steps match (:func:`arcnn.codec.scaled_quality`: q10 -> q12) up to
    ``MATCHED_MAX_QUALITY``, unless ``match_quality`` is False (``python -m
    experiments.full_range_quality`` compares them).
    ``qtable``: the (64,) quantisation table of the JPEG plane ``luma`` is (decoded, block grid at
    the origin): the result is projected onto the images that JPEG could have come from
    (:func:`arcnn.codec.project_to_jpeg`; ``python -m benchmarks.consistency`` measures it).
    ``quality``: the JPEG quality, for networks that read it as a plane (``unet.UNetConfig``
    ``conditioned``); None: unknown. Other networks ignore it.

    The plane is symmetric-padded once (by the network's ``edge``: its whole border for
    valid-convolution networks, less for size-keeping ones), then cut into ``tile``-sized output
    tiles, each computed from its exact receptive field, so the result does not depend on the
    tiling.
    """
    if luma.dtype not in (np.uint8, np.uint16) or luma.ndim != 2:
        raise ValueError(f"expected a uint8 or uint16 (H, W) plane, got {luma.dtype} {luma.shape}")
    check_ensemble(ensemble)
    if qtable is not None and luma.dtype != np.uint8:
        raise ValueError("qtable is for 8-bit JPEG planes")
    if full_range and match_quality:
        quality = network_quality(quality)
    project = None
    if qtable is not None:

        def project(y: np.ndarray, r: int, c: int) -> np.ndarray:
            return project_to_jpeg(y, luma[r : r + y.shape[0], c : c + y.shape[1]], qtable)

    model.eval()
    tile = auto_tile(model.config) if tile is None else tile
    if ensemble == 1:
        if project is not None:  # tiles on the 8x8 block grid (and a stride of 1, 2, 4): projected whole
            tile = max(8, tile - tile % 8)
        dtype = luma.dtype.type if rounded else np.float32
        return _restore_float(model, luma, tile, bf16, dtype, full_range, project, quality)
    acc = _ensemble_mean(partial(_restore_float, model, tile=tile, bf16=bf16, full_range=full_range,
                                 quality=quality), luma, ensemble)  # fmt: skip
    if project is not None:
        for r in range(0, len(acc), 512):  # strips on the block grid: float64 copies stay small
            acc[r : r + 512] = np.clip(project(acc[r : r + 512], r, 0), 0, 255)
    return acc.round().astype(luma.dtype) if rounded else acc


def restore_chroma(
    model: Network,
    ycbcr: np.ndarray,
    tile: int | None = None,
    bf16: bool = False,
    quality: int | None = None,
    rounded: bool = True,
    ensemble: int = 1,
) -> np.ndarray:
    """Restore the chroma of a decoded colour JPEG: uint8 (H, W, 3) JFIF YCbCr -> uint8 (H, W, 2) CbCr
    (``rounded=False``: float32 on 0..255, unrounded).

    ``model`` reads (Y, Cb, Cr) and returns (Cb, Cr) (``ModelConfig(in_channels=3, channels=2)``,
    ``UNetConfig(planes=3, channels=2)``). ``quality``: the JPEG quality, for networks that read it
    as a plane in front (a ``conditioned`` U-Net, 4 inputs); None: unknown. Others ignore it.
    ``ensemble``: as :func:`restore_luma`'s.
    """
    if ycbcr.dtype != np.uint8 or ycbcr.ndim != 3 or ycbcr.shape[2] != 3 or model.config.inputs not in (3, 4):
        raise ValueError(f"expected uint8 (H, W, 3) planes for a network of 3 or 4 inputs, got "
                         f"{ycbcr.dtype} {ycbcr.shape} for {model.config.inputs}")  # fmt: skip
    check_ensemble(ensemble)
    model.eval()
    tile = auto_tile(model.config) if tile is None else tile
    if ensemble == 1:
        return _restore_float(model, ycbcr, tile, bf16, np.uint8 if rounded else np.float32, quality=quality)
    member = partial(_restore_float, model, tile=tile, bf16=bf16, quality=quality)
    acc = _ensemble_mean(member, ycbcr, ensemble)
    return acc.round().astype(np.uint8) if rounded else acc


def _ensemble_mean(restore: Callable[[np.ndarray], np.ndarray], planes: np.ndarray, n: int) -> np.ndarray:
    """The mean of ``restore`` (uint8 (H, W[, C]) -> float32 (H, W[, C'])) over the first ``n``
    flips and turns of ``planes``, each mapped back: float32. The planes are first mirrored out at
    the bottom and right to a multiple of ``_GRID``, so each member sees the JPEG's blocks where
    the file has them, whatever the image's size."""
    h, w = planes.shape[:2]
    pad = [(0, -h % _GRID), (0, -w % _GRID)] + [(0, 0)] * (planes.ndim - 2)
    x = np.pad(planes, pad, mode="symmetric")
    acc: np.ndarray | None = None
    for k, mirror in _ENSEMBLE[:n]:
        back = np.rot90(restore(np.ascontiguousarray(np.rot90(x[:, ::-1] if mirror else x, k))), -k)
        back = back[:, ::-1] if mirror else back
        if acc is None:
            acc = back.copy()
        else:
            acc += back  # in place: a large image holds one full-size sum, not two
    assert acc is not None
    mean = acc[:h, :w]
    mean /= np.float32(n)
    return mean


def auto_tile(config: NetworkConfig) -> int:
    """The output tile side used when none is given: ``TILE``, or ten borders rounded up to 512 px for
    networks that see far (``UNet``), whose narrower tiles would spend most of their work on context."""
    return max(TILE, -(-10 * config.border // 512) * 512)


def _restore_float(
    model: Network,
    planes: np.ndarray,
    tile: int,
    bf16: bool,
    dtype: type = np.float32,
    full_range: bool = False,
    post: Callable[[np.ndarray, int, int], np.ndarray] | None = None,
    quality: int | None = None,
) -> np.ndarray:
    """uint8 (H, W) or (H, W, C_in) -> (H, W) or (H, W, C) in [0, 255]: float32 before rounding,
    or rounded to uint8 tile by tile (``dtype=np.uint8``), which keeps huge images small.
    uint16 planes are on [0, 65535] instead. ``post(tile, row, col)``: applied to each float
    (h, w) output tile of a one-channel network before rounding. ``quality``: the plane in front
    of the input of networks that read one more channel than they are given (None: 0, unknown)."""
    b, e, s = model.config.border, model.config.edge, model.config.stride
    # Tiles start on the stride's grid, so a strided network samples every tile alike.
    tile = max(s, tile - tile % s)
    h, w = planes.shape[:2]
    peak = 65535.0 if planes.dtype == np.uint16 else 255.0
    # Padded in uint8, converted to float one tile at a time: memory stays ~2 bytes per pixel.
    mode = "symmetric" if min(h, w) >= e else "edge"  # as models.pad_symmetric
    pad = [(e, e), (e, e)] + [(0, 0)] * (planes.ndim - 2)
    x = np.pad(planes, pad, mode=mode)  # type: ignore[call-overload]
    run = _runner(model, bf16)
    out = np.empty((h, w, model.config.channels), dtype)
    given = 1 if planes.ndim == 2 else planes.shape[2]
    plane = (quality or 0) / 100.0 if model.config.inputs == given + 1 else None
    for r in range(0, h, tile):
        for c in range(0, w, tile):
            r1, c1 = min(r + tile, h), min(c + tile, w)
            # A tile's context: the border, cut where the padded plane ends (e < b: size-keeping
            # networks, whose zero-padded edges then fall where the whole plane's do).
            r0, c0 = max(0, r + e - b), max(0, c + e - b)
            t = x[r0 : r1 + e + b, c0 : c1 + e + b].astype(np.float32) / np.float32(peak)
            if full_range:
                t = to_studio(t)
            t = t[None, None] if t.ndim == 2 else t.transpose(2, 0, 1)[None]
            if plane is not None:
                t = np.concatenate([np.full_like(t[:, :1], plane), t], axis=1)
            y = run(t)  # a view for colour planes: (1, C, h, w) over HWC memory, as channels-last
            if model.config.keeps_size:
                y = y[..., r + e - r0 : r1 + e - r0, c + e - c0 : c1 + e - c0]
            if full_range:
                y = from_studio(y)
            z = (np.clip(y, 0, 1) * np.float32(peak))[0].transpose(1, 2, 0)
            if post is not None:
                # float32 as unrounded planes are kept, so a rounded plane is the unrounded one rounded
                z = np.clip(post(z[..., 0], r, c), 0, peak).astype(np.float32)[..., None]
            out[r:r1, c:c1] = z if dtype == np.float32 else z.round()
    return out[..., 0] if planes.ndim == 2 else out


def is_torch(model: Any) -> bool:
    """Whether ``model`` is a PyTorch module (called on tensors), without importing PyTorch: a
    process that has not imported it holds no PyTorch module."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _runner(model: Network, bf16: bool) -> Run:
    """``model`` as a numpy function of one tile; PyTorch is imported only for PyTorch networks."""
    if not is_torch(model):
        return model  # ONNX Runtime: float32 whatever bf16 says, as its graph is float32
    import torch

    # channels-last (NHWC) lets oneDNN run these convolutions without layout reorders, which is faster.
    model.to(memory_format=torch.channels_last)  # type: ignore[attr-defined]

    def run(t: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(t).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return model(x).float().numpy()

    return run


def on_backend(model: Network, backend: str = "auto", bf16: bool = False) -> Network:
    """``model`` on the chosen float32 engine: ``"torch"``, ``"onnxruntime"``, or ``"auto"`` (ONNX
    Runtime unless ``bf16``: faster on CPUs, ``python -m benchmarks.inference_speed``).

    A PyTorch network goes to ONNX Runtime through an export cached by its weights
    (:func:`arcnn.export.on_onnxruntime`; needs the ``onnx`` extra, without which ``"auto"`` keeps
    PyTorch); an ONNX model stays as it is. Shipped models need no export: ``zoo.load_model`` loads
    their shipped ONNX files."""
    from arcnn.export import on_onnxruntime, onnx_export_available, onnxruntime_available

    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "onnxruntime" and not onnxruntime_available():
        raise ValueError("backend onnxruntime needs onnxruntime: pip install onnxruntime")
    if backend == "onnxruntime" and bf16:
        raise ValueError("bf16 runs on PyTorch: use backend torch or auto")
    if not is_torch(model) or bf16 or backend == "torch":
        return model
    if not onnx_export_available():  # a PyTorch network reaches ONNX Runtime through an export
        if backend == "onnxruntime":
            raise ValueError("running a PyTorch model on onnxruntime exports it first, which needs the "
                             "onnx extra: pip install 'arcnn[onnx]'")  # fmt: skip
        return model
    return on_onnxruntime(model)  # type: ignore[arg-type]
