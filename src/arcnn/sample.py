"""Small images shipped inside the package, each checked against its sha256.

``astronaut-q10.jpg``: NASA's portrait of Eileen Collins (public domain, via
scikit-image), 512x512 colour, Pillow JPEG at quality 10 (4:2:0).
``astronaut-y128.png``: a clean 128x128 luminance crop of the same photo.
Regenerate both with ``python tools/make_samples.py``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["SAMPLES", "SAMPLE_DIR", "sample_path"]

SAMPLE_DIR = Path(__file__).parent / "samples"

SAMPLES: dict[str, str] = {
    "astronaut-q10.jpg": "c5b4b60a7f8ef44c8da6d27fdb47f0f629c5f350799cd302ce7adcdee1ae1a4d",
    "astronaut-y128.png": "44338f33b5bc86b3941729890de9931574a207ba0ae6fda9e8f2a33225a94f21",
}


def sample_path(name: str) -> Path:
    """Path of a shipped sample, after checking its hash; ``ValueError`` if unknown or altered."""
    if name not in SAMPLES:
        raise ValueError(f"unknown sample {name!r}; shipped: {', '.join(SAMPLES)}")
    path = SAMPLE_DIR / name
    if hashlib.sha256(path.read_bytes()).hexdigest() != SAMPLES[name]:
        raise ValueError(f"sample {name} does not match its registered sha256")
    return path
