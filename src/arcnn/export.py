"""ONNX export, and an ONNX Runtime model that restores like a ConvStack.

Needs the ``onnx`` extra (``pip install 'arcnn[onnx]'``): onnx to write the file,
onnxruntime to run it.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import torch

from arcnn.files import atomic_write
from arcnn.models import TorchNetwork, config_from_json

__all__ = ["export_onnx", "OnnxModel", "onnxruntime_available", "on_onnxruntime"]


def export_onnx(model: TorchNetwork, path: str | Path) -> Path:
    """Write ``model`` (valid-convolution forward, any H and W) as ONNX, atomically.

    The graph maps (N, 1, H, W) float32 in [0, 1] to (N, 1, H - 2b, W - 2b); the
    model config is stored in the file's metadata under ``model_config``.
    """
    import onnx

    path = Path(path)
    model = model.eval()
    x = torch.rand(1, model.config.inputs, 64, 64)
    axes = {0: "n", 2: "h", 3: "w"}
    with atomic_write(path) as tmp, warnings.catch_warnings():
        # The TorchScript exporter is deprecated, but it needs no onnxscript and handles these
        # plain convolutions exactly (tests/test_export.py).
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (x,), str(tmp), input_names=["degraded"], output_names=["restored"],
                          dynamic_axes={"degraded": axes, "restored": axes}, dynamo=False)  # fmt: skip
        proto = onnx.load(str(tmp))
        entry = proto.metadata_props.add()
        entry.key, entry.value = "model_config", model.config.to_json()
        onnx.save(proto, str(tmp))
    return path


class OnnxModel:
    """An exported network run by ONNX Runtime; callable on torch tensors like ``ConvStack``."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ValueError(f"{path}: not a readable ONNX model ({e})") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if "model_config" not in meta:
            raise ValueError(f"{path}: ONNX file carries no model_config metadata")
        try:
            self.config = config_from_json(meta["model_config"])
            self._probe()
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None

    def _probe(self) -> None:
        """Run the graph once on a small input of the config's shape: a graph that does not compute
        what its metadata says is refused at load, not halfway through a batch."""
        c = self.config
        side = 2 * c.border + 8 * c.stride
        want = (1, c.channels, side, side) if c.keeps_size else (1, c.channels, 8 * c.stride, 8 * c.stride)
        got = tuple(self(torch.zeros(1, c.inputs, side, side)).shape)
        if got != want:
            raise ValueError(f"the graph computes {got} from a {side}x{side} input, its config says {want}")

    def eval(self) -> OnnxModel:
        return self

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) float32 -> (N, C, H - 2b, W - 2b)."""
        try:
            out = self.session.run(None, {"degraded": np.ascontiguousarray(x.float().numpy())})[0]
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ValueError(f"the ONNX model failed: {str(e)[:300]}") from None
        return torch.from_numpy(np.asarray(out))


def onnxruntime_available() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def on_onnxruntime(model: TorchNetwork) -> OnnxModel:
    """``model`` run by ONNX Runtime: exported once into ``$ARCNN_CACHE/onnx``, keyed by its weights.

    ONNX Runtime's float32 convolutions are faster than PyTorch's on CPUs
    (``python -m benchmarks.inference_speed``), and give the same output (``tests/test_export.py``).
    """
    h = hashlib.sha256(model.config.to_json().encode())
    for k, v in model.state_dict().items():
        h.update(k.encode() + v.detach().float().contiguous().numpy().tobytes())
    from arcnn.data import cache_dir

    cache = cache_dir() / "onnx"
    path = cache / f"{h.hexdigest()[:20]}.onnx"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        export_onnx(model, path)
    return OnnxModel(path)
