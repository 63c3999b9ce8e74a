"""Weights files: write them, read them, and build the network they describe, without pickle.

One loader for every kind of file, picked by its suffix:

- ``.safetensors``: tensors, with the architecture as JSON in the metadata (``model_config``);
- ``.pt``: a training checkpoint, read with ``torch.load(weights_only=True)``; the architecture
  is stored inside it (``model_config``);
- ``.onnx``: an exported model, run by ONNX Runtime.

The architecture is validated before anything is allocated, and any failure is one
``ValueError`` naming the file and what is wrong with it. PyTorch is imported only for the
files that hold PyTorch networks: loading an ``.onnx`` file never imports it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

# safetensors, zipfile and pickletools are imported in the functions that use them: a restore on
# ONNX Runtime needs none of them (python -m benchmarks.startup)
from arcnn.files import atomic_write
from arcnn.netconfig import NetConfig, Network, config_from_json

if TYPE_CHECKING:
    import torch

    from arcnn.models import TorchNetwork

__all__ = ["save_weights", "read_weights", "read_checkpoint", "read_state", "load_weights_file",
           "expected_shapes", "MAX_PARAMETERS"]  # fmt: skip


def save_weights(path: str | Path, model: TorchNetwork, metadata: dict[str, str] | None = None) -> None:
    """Write ``model`` as safetensors (atomically) with its config in the metadata."""
    from safetensors.torch import save_file

    path = Path(path)
    meta = dict(metadata or {})
    meta["model_config"] = model.config.to_json()
    state = {k: v.detach().float().contiguous().cpu() for k, v in model.state_dict().items()}
    with atomic_write(path) as tmp:
        save_file(state, str(tmp), metadata=meta)


def read_weights(path: str | Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """(metadata, tensors) of a safetensors file; ``ValueError`` if it is not one."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        return meta, load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise ValueError(f"{path}: not a readable safetensors weights file ({e})") from None


# A weights file's config is untrusted input: its network is sized before anything is allocated.
MAX_PARAMETERS = 50_000_000


def expected_shapes(config: NetConfig) -> dict[str, tuple[int, ...]]:
    """The tensor shapes of ``config``'s network, found without allocating it (``ValueError`` past
    ``MAX_PARAMETERS``)."""
    import torch

    from arcnn.models import build_network

    with torch.device("meta"):
        model = build_network(config)
    n = sum(p.numel() for p in model.parameters())
    if n > MAX_PARAMETERS:
        raise ValueError(f"model config asks for {n} parameters, more than the {MAX_PARAMETERS} allowed")
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _check_shapes(expected: dict[str, tuple[int, ...]], got: dict[str, tuple[int, ...]]) -> None:
    if got != expected:
        missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
        wrong = sorted(k for k in set(got) & set(expected) if got[k] != expected[k])
        raise ValueError(f"tensors do not fit the model config (missing {missing[:3]}, "
                         f"unexpected {extra[:3]}, wrong shape {wrong[:3]})")  # fmt: skip


def _network(config: NetConfig, state: dict[str, Any], source: Path) -> Network:
    import torch

    from arcnn.models import build_network

    try:
        _check_shapes(expected_shapes(config), {k: tuple(v.shape) for k, v in state.items()
                                                if isinstance(v, torch.Tensor)})  # fmt: skip
        model = build_network(config)
        model.load_state_dict(state)
    except (ValueError, RuntimeError) as e:
        raise ValueError(f"{source}: {e}") from None
    return model.eval().requires_grad_(False)


def _from_safetensors(path: Path) -> Network:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise ValueError(f"{path}: not a readable safetensors weights file ({e})") from None
    if "model_config" not in meta:
        raise ValueError(f"{path}: weights carry no model_config metadata")
    try:
        config = config_from_json(meta["model_config"])
        _check_shapes(expected_shapes(config), shapes)  # before the tensors are read
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return _network(config, read_weights(path)[1], path)


def _screen_checkpoint(path: str | Path) -> None:
    """``ValueError`` unless ``path`` is a zip archive as ``torch.save`` writes it: readable by
    ``zipfile``, every member stored uncompressed and no larger than the file, and a ``data.pkl``
    whose every opcode (and every length it claims) fits inside it."""
    import pickletools
    import zipfile

    size = Path(path).stat().st_size
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
            bad = [m.filename for m in members if m.compress_type != zipfile.ZIP_STORED or m.file_size > size]
            pkl = [m for m in members if m.filename.endswith("/data.pkl") or m.filename == "data.pkl"]
            if bad or len(pkl) != 1:
                raise ValueError("unexpected members")
            data = z.read(pkl[0])
        # pickletools reads each claimed length from the bytes at hand: a string that claims more
        # than data.pkl holds ends the scan here, where torch.load would have allocated it first
        for _ in pickletools.genops(io.BytesIO(data)):
            pass
    except Exception as e:  # noqa: BLE001 - any failure here means "not what torch.save writes"
        raise ValueError(f"{path}: not a readable checkpoint (not the zip format of torch.save: "
                         f"{e.__class__.__name__})") from None  # fmt: skip


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A training checkpoint (``.pt``), read with ``torch.load(weights_only=True)``; ``ValueError``
    unless it holds the model's tensors under ``"model"``."""
    # Only the zip format torch.save has written since PyTorch 1.6, screened first: torch's readers
    # size buffers from the file's own claims (a few bytes can ask for gigabytes) before checking.
    _screen_checkpoint(path)
    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure here means "not a readable checkpoint"
        raise ValueError(f"{path}: not a readable checkpoint ({e.__class__.__name__})") from None
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict):
        raise ValueError(f"{path}: not an arcnn checkpoint (no model tensors)")
    return ckpt


def read_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The model tensors of a checkpoint (``.pt``) or a weights file (safetensors), without pickle."""
    return read_checkpoint(path)["model"] if str(path).endswith(".pt") else read_weights(path)[1]


def _from_checkpoint(path: Path) -> Network:
    ckpt = read_checkpoint(path)
    if not isinstance(ckpt.get("model_config"), str):
        raise ValueError(f"{path}: checkpoint carries no model_config (written before it was stored)")
    try:
        config = config_from_json(ckpt["model_config"])
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return _network(config, ckpt["model"], path)


def _from_onnx(path: Path, probe: bool) -> Network:
    from arcnn.export import OnnxModel

    try:
        return OnnxModel(path, probe=probe)
    except ImportError:
        raise ValueError(f"{path}: running ONNX models needs onnxruntime (pip install onnxruntime)") from None


def load_weights_file(path: str | Path, verified: bool = False) -> Network:
    """The network stored in ``path`` (``.safetensors``, ``.pt`` or ``.onnx``), ready for inference.

    ``verified``: the file's sha256 was checked against the manifest, so an ONNX graph is not run
    once at load to check it against its metadata (the tests check every shipped one)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such weights file")
    if path.suffix == ".onnx":
        return _from_onnx(path, probe=not verified)
    if path.suffix == ".pt":
        return _from_checkpoint(path)
    return _from_safetensors(path)
