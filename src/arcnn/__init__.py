"""arcnn: compression artifact reduction with AR-CNN (Dong, Deng, Loy, Tang, ICCV 2015).

>>> import arcnn
>>> image = arcnn.restore("photo.jpg")                        # model chosen from the JPEG's tables
>>> result = arcnn.Restorer(arcnn.RestoreOptions(chroma="off")).restore("photo.jpg")
>>> result.image, result.model, result.quality
>>> model = arcnn.load_model("arcnn-q10")

Names are imported on first use, so ``import arcnn`` (and ``arcnn --help``) do not load PyTorch, and
``arcnn.restore`` with the default engine never does.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "restore": "arcnn.pipeline", "Restorer": "arcnn.pipeline", "Restored": "arcnn.pipeline",
    "RestoreOptions": "arcnn.options", "load_model": "arcnn.zoo", "REGISTRY": "arcnn.zoo",
    "build_model": "arcnn.models", "preset": "arcnn.models", "ConvStack": "arcnn.models",
    "ModelConfig": "arcnn.netconfig",
}  # fmt: skip
__all__ = ["restore", "Restorer", "Restored", "RestoreOptions", "load_model", "REGISTRY", "build_model",
           "preset", "ConvStack", "ModelConfig", "__version__"]  # fmt: skip

if TYPE_CHECKING:
    from arcnn.models import ConvStack, build_model, preset
    from arcnn.netconfig import ModelConfig
    from arcnn.options import RestoreOptions
    from arcnn.pipeline import Restored, Restorer, restore
    from arcnn.zoo import REGISTRY, load_model


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'arcnn' has no attribute {name!r}")
