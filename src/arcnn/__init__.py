"""arcnn: compression artifact reduction with AR-CNN (Dong, Deng, Loy, Tang, ICCV 2015).

>>> import arcnn
>>> image = arcnn.restore("photo.jpg")                        # model chosen from the JPEG's tables
>>> result = arcnn.Restorer(arcnn.RestoreOptions(chroma="off")).restore("photo.jpg")
>>> result.image, result.model, result.quality
>>> model = arcnn.load_model("arcnn-q10")
"""

from arcnn.models import ConvStack, ModelConfig, build_model, preset
from arcnn.pipeline import Restored, RestoreOptions, Restorer, restore
from arcnn.zoo import REGISTRY, load_model

__version__ = "0.1.0"
__all__ = ["restore", "Restorer", "RestoreOptions", "Restored", "load_model", "build_model", "preset",
           "ConvStack", "ModelConfig", "REGISTRY", "__version__"]  # fmt: skip
