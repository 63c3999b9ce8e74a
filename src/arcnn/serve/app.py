"""The Starlette application: ``POST /restore``, ``GET /healthz``, ``GET /models``, ``GET /`` (the page).

Example (``pip install 'arcnn[serve]'``):
    >>> from starlette.testclient import TestClient
    >>> client = TestClient(create_app())
    >>> client.get("/healthz").json()["status"]
    'ok'
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from importlib.resources import files

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from arcnn.serve.protocol import MEDIA_TYPES, ApiError, error_for, multipart_file, parse_query
from arcnn.serve.queue import RestoreQueue
from arcnn.serve.settings import ServeSettings
from arcnn.zoo import REGISTRY

__all__ = ["create_app", "Upload", "STATIC", "DRAIN_BYTES"]

# The page's files: name -> media type. Read once; no request path ever reaches the file system.
STATIC = {"page.css": "text/css; charset=utf-8", "page.js": "text/javascript; charset=utf-8"}
DRAIN_BYTES = 64 << 20  # read and dropped after a refusal, at most, so that the client gets the answer
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
}


def registry_rows() -> list[dict]:
    """A short description of each shipped model (``arcnn models`` gives the full one)."""
    return [{"name": c.name, "quality": c.quality, "use": c.use} for c in REGISTRY.values()]


def create_app(settings: ServeSettings | None = None,
               models: Callable[[], list[dict]] = registry_rows) -> Starlette:  # fmt: skip
    """The application; ``models`` lists the shipped models for ``GET /models`` (the command passes
    ``arcnn.cli.models.model_rows``)."""
    settings = settings or ServeSettings()
    queue = RestoreQueue(settings)
    assets = _read_assets()
    model_list: list[dict] = []

    async def restore(request: Request) -> Response:
        upload = Upload(request)
        try:
            options, fmt = parse_query(request.query_params.multi_items(), settings)
            if queue.full():
                raise queue.busy_error()  # before the upload is read
            data = await upload.read(settings.max_body_bytes)
            output = await queue.restore(data, options, fmt)
        except (ApiError, ValueError) as e:  # ValueError: the pipeline's (RestoreError) or the encoder's
            error = e if isinstance(e, ApiError) else error_for(e)
            with suppress(ApiError):
                if not await upload.drain():
                    error.headers["Connection"] = "close"
            return _error(error)
        headers = {**output.headers, "Cache-Control": "no-store"}
        return Response(output.data, media_type=MEDIA_TYPES[fmt], headers=headers)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "queue": queue.held, "queue_limit": settings.queue,
                             "workers": settings.workers})  # fmt: skip

    async def list_models(request: Request) -> Response:
        if not model_list:  # built once, off the event loop: counting MACs builds every network
            model_list.extend(await run_in_threadpool(models))
        return JSONResponse(model_list)

    async def page(request: Request) -> Response:
        return Response(assets["index.html"], media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return _error(ApiError(404, "not found"))
        return Response(assets[name], media_type=STATIC[name], headers=PAGE_HEADERS)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        queue.close()

    routes = [
        Route("/restore", restore, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/models", list_models, methods=["GET"]),
        Route("/", page, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.queue = queue
    return app


class Upload:
    """A request's body, read by hand: the image in it, and, after a refusal, the rest of it drained.

    A connection closed with unread data is reset, and the client may lose the answer while it is
    still sending (a browser then shows a network error, not the 413). So what was not read is read
    and dropped, up to ``DRAIN_BYTES``, before a refusal is sent; past that the connection is closed.
    """

    def __init__(self, request: Request) -> None:
        self.request = request
        self.done = False  # the whole body has been received
        length = request.headers.get("content-length", "")
        self.length = int(length) if length.isdigit() else None

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self.done:
            message = await self.request.receive()
            if message["type"] == "http.disconnect":
                raise ApiError(400, "the client closed the connection before the body was sent")
            self.done = not message.get("more_body", False)
            yield message.get("body", b"")

    async def read(self, limit: int) -> bytes:
        """The image: the raw body, or the multipart field ``file``; past ``limit`` bytes (by
        Content-Length, or counted as it arrives) 413, before more is read."""
        too_large = ApiError(413, f"the body exceeds the limit of {limit} bytes")
        if self.length is not None and self.length > limit:
            raise too_large
        parts, size = [], 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                raise too_large
            parts.append(chunk)
        body = b"".join(parts)
        content_type = self.request.headers.get("content-type", "")
        if content_type.lower().startswith("multipart/form-data"):
            body = multipart_file(body, content_type)
        if not body:
            raise ApiError(422, "no image: send it as the request body, or as the multipart field 'file'")
        return body

    async def drain(self) -> bool:
        """Read and drop the rest of the body; False when it is too large to (close the connection)."""
        if self.done:
            return True
        if self.request.headers.get("expect", "").lower() == "100-continue":
            return False  # the client waits for a go-ahead before it sends: none will come
        if self.length is not None and self.length > DRAIN_BYTES:
            return False
        size = 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > DRAIN_BYTES:
                return False
        return True


def _error(e: ApiError) -> Response:
    return JSONResponse({"error": e.message}, status_code=e.status, headers=e.headers)


def _read_assets() -> dict[str, bytes]:
    folder = files("arcnn.serve") / "static"
    return {name: (folder / name).read_bytes() for name in ["index.html", *STATIC]}
