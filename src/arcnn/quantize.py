"""int8 networks: an exported float32 ONNX network quantised by ONNX Runtime's static quantisation.

Needs the ``onnx`` extra; imports onnx and onnxruntime only when called. The result keeps the input
and output names, the dynamic axes and the ``model_config`` metadata of the float32 file, so
``arcnn.export.OnnxModel`` loads it like any exported network. Which recipe is shipped, and what it
costs in PSNR and gains in speed, is measured by ``python -m experiments.quantize_int8`` and
``python -m benchmarks.int8`` (docs/speed.md).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arcnn.files import atomic_write

__all__ = ["Recipe", "quantize_onnx", "FORMATS", "METHODS", "TYPES", "REDUCE"]

FORMATS = ("qdq", "qoperator")
METHODS = ("minmax", "percentile", "entropy")
TYPES = ("uint8", "int8")
REDUCE = ("none", "first", "all")
_CONVS = ("Conv", "ConvTranspose")


@dataclass(frozen=True)
class Recipe:
    """How a float32 network becomes int8 (the arguments of onnxruntime's ``quantize_static``).

    format: "qdq" (QuantizeLinear/DequantizeLinear pairs that the runtime fuses into integer
    kernels) or "qoperator" (QLinearConv nodes written out).
    per_channel: one weight scale per output channel instead of one per layer.
    method: the activation ranges from the calibration data's "minmax", a "percentile" of it
    (``percentile``), or the "entropy" (KL divergence) choice.
    reduce_range: 7-bit weights in "all" convolutions, the "first" one, or "none", so that x86 CPUs
    without VNNI, whose 8-bit products are summed in pairs into a saturating int16, cannot overflow
    there. The first convolution reads the image, whose values span all 8 bits: the likeliest to.
    activations, weights: "uint8" or "int8".
    float_layers: indices (negative from the end) of convolutions that stay float32, e.g. ``(-1,)``
    for the last one, a small share of the multiply-adds whose output is not rounded to 8 bits then.
    float_outputs: the convolutions' outputs stay float32 (only their inputs are rounded): one
    rounding less before a PReLU, but onnxruntime then runs them as float32 convolutions.
    """

    format: str = "qdq"
    per_channel: bool = True
    method: str = "minmax"
    percentile: float = 99.999
    reduce_range: str = "none"
    activations: str = "uint8"
    weights: str = "int8"
    float_layers: tuple[int, ...] = ()
    float_outputs: bool = False

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {self.format!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        if self.activations not in TYPES or self.weights not in TYPES:
            raise ValueError(f"activations and weights must be one of {', '.join(TYPES)}")
        if self.reduce_range not in REDUCE:
            raise ValueError(f"reduce_range must be one of {', '.join(REDUCE)}, not {self.reduce_range!r}")
        if not 50 < self.percentile <= 100:
            raise ValueError(f"percentile must be in (50, 100], not {self.percentile}")

    def label(self) -> str:
        """A short name of the recipe, e.g. ``qdq pc minmax u8/s8``."""
        parts = [self.format, "pc" if self.per_channel else "pt"]
        parts.append(f"p{self.percentile:g}" if self.method == "percentile" else self.method)
        parts.append(f"{self.activations[0] if self.activations == 'uint8' else 's'}8/"
                     f"{self.weights[0] if self.weights == 'uint8' else 's'}8")  # fmt: skip
        return " ".join(
            parts
            + [f"7bit-{self.reduce_range}"] * (self.reduce_range != "none")
            + [f"float{list(self.float_layers)}"] * bool(self.float_layers)
        )

    def to_dict(self) -> dict:
        return asdict(self)


class _Reader:
    """onnxruntime's CalibrationDataReader protocol over (N, C, H, W) float32 batches."""

    def __init__(self, name: str, batches: Iterable[np.ndarray]) -> None:
        self._feeds: Iterator[dict[str, np.ndarray]] = iter(
            {name: np.ascontiguousarray(b, dtype=np.float32)} for b in batches
        )

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)

    def rewind(self) -> None:  # one pass is all quantize_static makes
        pass


def _quant_type(name: str) -> Any:
    from onnxruntime.quantization import QuantType

    return QuantType.QUInt8 if name == "uint8" else QuantType.QInt8


def quantize_onnx(
    src: str | Path, dst: str | Path, calibration: Iterable[np.ndarray], recipe: Recipe = Recipe()
) -> Path:
    """Write the int8 version of the float32 ONNX network ``src`` to ``dst``.

    ``calibration``: float32 (N, C, H, W) batches in [0, 1] of what the network will see (the
    degraded planes of its JPEG quality, cut to its input's shape); every batch the same size for
    the histogram methods. The file keeps ``src``'s input/output names, dynamic H and W, and its
    metadata (``model_config``).
    """
    import onnx

    from arcnn.export import import_onnxruntime

    import_onnxruntime()  # before onnxruntime.quantization imports it: telemetry off
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    src, dst = Path(src), Path(dst)
    proto = onnx.load(str(src))
    name = proto.graph.input[0].name
    method = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
              "entropy": CalibrationMethod.Entropy}[recipe.method]  # fmt: skip
    extra: dict[str, Any] = {"CalibPercentile": recipe.percentile} if recipe.method == "percentile" else {}
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        # Shape inference and constant folding first, as onnxruntime's quantiser asks: the shape
        # arithmetic of the exported graph folds away, leaving the convolutions.
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        graph = onnx.load(str(pre)).graph
        convs = [n.name for n in graph.node if n.op_type in _CONVS]
        # The input holds k / 255 for 8-bit planes: a [0, 1] range quantises it exactly (the first
        # convolution reads it, or reads it padded).
        first = next(n for n in graph.node if n.op_type in _CONVS)
        overrides: dict[str, list[dict]] = {
            first.input[0]: [{"rmin": np.float32(0.0), "rmax": np.float32(1.0)}]
        }
        if recipe.reduce_range == "first":
            # An override replaces the defaults: per-channel scales must be asked for again.
            axis = {"axis": 1 if first.op_type == "ConvTranspose" else 0} if recipe.per_channel else {}
            overrides[first.input[1]] = [{"reduce_range": True, **axis}]
        extra["TensorQuantOverrides"] = overrides
        if recipe.float_outputs:
            extra["OpTypesToExcludeOutputQuantization"] = list(_CONVS)
        out = Path(tmp) / "int8.onnx"
        quantize_static(
            str(pre), str(out), _Reader(name, calibration),
            quant_format=QuantFormat.QDQ if recipe.format == "qdq" else QuantFormat.QOperator,
            # Convolutions (and the ReLUs they fuse) only: the residual sum and the output stay
            # float32, not rounded to 8 bits.
            op_types_to_quantize=[*_CONVS, "Relu"], nodes_to_exclude=[convs[i] for i in recipe.float_layers],
            per_channel=recipe.per_channel, reduce_range=recipe.reduce_range == "all",
            activation_type=_quant_type(recipe.activations), weight_type=_quant_type(recipe.weights),
            calibrate_method=method, extra_options=extra,
        )  # fmt: skip
        q = onnx.load(str(out))
    del q.metadata_props[:]
    q.metadata_props.extend(proto.metadata_props)
    entry = q.metadata_props.add()
    entry.key, entry.value = "quantization", json.dumps(recipe.to_dict())
    dst.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(dst) as tmp_dst:
        onnx.save(q, str(tmp_dst))
    return dst
