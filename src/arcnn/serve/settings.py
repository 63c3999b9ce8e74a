"""The server's own limits: what no request can change."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ServeSettings", "MB"]

MB = 1 << 20


@dataclass(frozen=True)
class ServeSettings:
    """Limits of one server.

    max_body_bytes: larger request bodies are refused (413), from Content-Length and while read.
    max_pixels: larger images are refused before they are decoded (413; 0: no limit).
    queue: restorations waiting or running at once; one more is refused (503, Retry-After).
    workers: restorations running at once (each uses all of the engine's threads).
    timeout: seconds a request waits for its restoration (504 past it; 0: no limit). A restoration
        that has started runs to its end and holds its place in the queue until then.
    cache: Restorers kept, one per distinct options (each holds its loaded models).
    """

    max_body_bytes: int = 50 * MB
    max_pixels: float = 50e6
    queue: int = 8
    workers: int = 1
    timeout: float = 120.0
    cache: int = 8

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1:
            raise ValueError(f"the body limit must be at least 1 byte, not {self.max_body_bytes}")
        if not math.isfinite(self.max_pixels) or self.max_pixels < 0:
            raise ValueError(f"max_pixels must be a finite number >= 0 (0: no limit), not {self.max_pixels}")
        for name in ("queue", "workers", "cache"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.workers > self.queue:
            raise ValueError(f"workers ({self.workers}) cannot exceed the queue ({self.queue})")
        if not math.isfinite(self.timeout) or self.timeout < 0:
            raise ValueError(f"timeout must be a finite number of seconds >= 0 (0: none), not {self.timeout}")
