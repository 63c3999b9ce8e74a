"""arcnn: compression artifact reduction with AR-CNN (Dong, Deng, Loy, Tang, ICCV 2015).

>>> import arcnn
>>> restored = arcnn.restore(pil_image)            # model chosen from the JPEG's tables
>>> model = arcnn.load_model("arcnn-q10")
"""

from arcnn.models import ConvStack, ModelConfig, build_model, preset
from arcnn.restore import restore
from arcnn.zoo import REGISTRY, load_model

__version__ = "0.1.0"
__all__ = ["restore", "load_model", "build_model", "preset", "ConvStack", "ModelConfig", "REGISTRY"]
