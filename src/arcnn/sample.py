"""Small images shipped inside the package, each checked against its sha256 (``arcnn.manifest``).

``astronaut-q10.jpg``: NASA's portrait of Eileen Collins (public domain, via
scikit-image), 512x512 colour, Pillow JPEG at quality 10 (4:2:0).
``astronaut-y128.png``: a clean 128x128 luminance crop of the same photo.
Regenerate both with ``python tools/make_samples.py``.
"""

from __future__ import annotations

from pathlib import Path

from arcnn.manifest import FILES, PACKAGE_DIR, verified_path

__all__ = ["SAMPLES", "SAMPLE_DIR", "sample_path"]

SAMPLE_DIR = PACKAGE_DIR / "samples"
SAMPLES = tuple(k.split("/", 1)[1] for k in FILES if k.startswith("samples/"))


def sample_path(name: str) -> Path:
    """Path of a shipped sample, after checking its hash; ``ValueError`` if unknown or altered."""
    if name not in SAMPLES:
        raise ValueError(f"unknown sample {name!r}; shipped: {', '.join(SAMPLES)}")
    return verified_path(f"samples/{name}")
