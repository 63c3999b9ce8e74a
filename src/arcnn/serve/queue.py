"""The bounded restoration queue: worker threads, admission, the per-request timeout, and one
:class:`Restorer` per distinct options (its models loaded once).

A restoration runs in a worker thread, so the event loop answers other requests meanwhile. At most
``settings.queue`` restorations wait or run; a place is held until the restoration ends, even
past its request's timeout (a thread cannot be stopped), so memory stays bounded whatever the
clients do.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from arcnn.files import encode_image
from arcnn.options import RestoreOptions
from arcnn.pipeline import Restorer
from arcnn.serve.protocol import ApiError, result_headers
from arcnn.serve.settings import ServeSettings

__all__ = ["Output", "RestoreQueue", "restore_and_encode"]


@dataclass
class Output:
    """An encoded restoration and its response headers."""

    data: bytes
    headers: dict[str, str]


class RestorerCache:
    """The Restorers of the last few distinct options, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[RestoreOptions, Restorer] = OrderedDict()

    def get(self, options: RestoreOptions) -> Restorer:
        with self._lock:  # held while a new one loads its model: the same model is never loaded twice
            restorer = self._items.pop(options, None) or Restorer(options)
            self._items[options] = restorer
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return restorer


def restore_and_encode(cache: RestorerCache, data: bytes, options: RestoreOptions, fmt: str) -> Output:
    """The pipeline, in a worker thread: restore ``data``, encode the result as ``fmt``."""
    result = cache.get(options).restore(data)
    return Output(encode_image(result, fmt, result.info, png_level=options.png_level), result_headers(result))


class RestoreQueue:
    """Runs restorations on ``settings.workers`` threads, ``settings.queue`` at most waiting or
    running; :meth:`restore` refuses the one more with 503 and gives up waiting with 504."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.cache = RestorerCache(settings.cache)
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="arcnn-restore")
        self._lock = threading.Lock()
        self._held = 0
        self._seconds = 1.0  # a running mean of one restoration's time, for Retry-After

    @property
    def held(self) -> int:
        """Restorations waiting or running now."""
        return self._held

    def full(self) -> bool:
        return self._held >= self.settings.queue

    def busy_error(self) -> ApiError:
        wait = max(1, math.ceil(self._seconds * self._held / self.settings.workers))
        return ApiError(503, f"busy: {self._held} restorations queued; retry later",
                        {"Retry-After": str(wait)})  # fmt: skip

    async def restore(self, data: bytes, options: RestoreOptions, fmt: str) -> Output:
        """Restore ``data`` in a worker thread; 503 when the queue is full, 504 past the timeout."""
        with self._lock:
            if self._held >= self.settings.queue:
                raise self.busy_error()
            self._held += 1
        try:
            future = self._pool.submit(self._run, data, options, fmt)
        except RuntimeError:  # shutting down
            self._release(None)
            raise ApiError(503, "the server is shutting down", {"Retry-After": "5"}) from None
        future.add_done_callback(self._release)  # on completion, or when cancelled before it ran
        timeout = self.settings.timeout or None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            raise ApiError(504, f"the restoration took longer than the {timeout:g} s timeout") from None

    def _run(self, data: bytes, options: RestoreOptions, fmt: str) -> Output:
        t = time.perf_counter()
        try:
            return restore_and_encode(self.cache, data, options, fmt)
        finally:
            self._seconds = 0.8 * self._seconds + 0.2 * (time.perf_counter() - t)

    def _release(self, future: Future | None) -> None:
        with self._lock:
            self._held -= 1

    def close(self) -> None:
        """Drop what waits; what runs finishes in its thread."""
        self._pool.shutdown(wait=False, cancel_futures=True)
