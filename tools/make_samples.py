"""Regenerate the sample images shipped in src/arcnn/samples (needs scikit-image).

The astronaut photo (Eileen Collins, NASA, public domain) comes from scikit-image's data.
    python tools/make_samples.py
"""

import io
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from arcnn.codec import rgb2ycbcr

out = Path(__file__).resolve().parents[1] / "src" / "arcnn" / "samples"
rgb = data.astronaut()
buf = io.BytesIO()
Image.fromarray(rgb).save(buf, format="JPEG", quality=10)  # Pillow default 4:2:0
(out / "astronaut-q10.jpg").write_bytes(buf.getvalue())
y = rgb2ycbcr(rgb)[..., 0][32:160, 192:320]  # 128x128 luminance crop: helmet, face and flag
Image.fromarray(np.ascontiguousarray(y)).save(out / "astronaut-y128.png", optimize=True)
