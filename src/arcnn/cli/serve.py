"""``arcnn serve``: the restoration service and its page, on Starlette and uvicorn (docs/serve.md)."""

from __future__ import annotations

import argparse
import importlib.util
from typing import Any

from arcnn.cli._common import err, max_pixels_arg
from arcnn.serve.settings import MB, ServeSettings

__all__ = ["add_parser", "run", "settings_from_args", "make_app"]

NEEDS = ("starlette", "uvicorn")
DEFAULTS = ServeSettings()


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="serve restorations over HTTP, with a page (pip install 'arcnn[serve]')")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    s.add_argument("--port", type=int, default=8000, help="port to listen on")
    s.add_argument("--max-body-mb", type=float, default=DEFAULTS.max_body_bytes / MB,
                   help="refuse larger request bodies (413)")  # fmt: skip
    s.add_argument("--max-pixels", type=max_pixels_arg, default=DEFAULTS.max_pixels,
                   help="refuse larger images (413, decompression-bomb guard); 0 = no limit")  # fmt: skip
    s.add_argument("--queue", type=int, default=DEFAULTS.queue,
                   help="restorations waiting or running at once; one more gets 503")  # fmt: skip
    s.add_argument("--workers", type=int, default=DEFAULTS.workers,
                   help="restorations running at once (each uses all of the engine's threads)")  # fmt: skip
    s.add_argument("--timeout", type=float, default=DEFAULTS.timeout,
                   help="seconds a request waits for its restoration (504 after); 0 = no limit")  # fmt: skip
    s.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"], default="info",
                   help="uvicorn's log level (info: one line per request)")  # fmt: skip


def settings_from_args(args: argparse.Namespace) -> ServeSettings:
    """The server's limits a parsed ``arcnn serve`` command line asks for."""
    if not args.max_body_mb > 0:
        raise ValueError(f"--max-body-mb must be > 0, not {args.max_body_mb}")
    return ServeSettings(max_body_bytes=int(args.max_body_mb * MB), max_pixels=args.max_pixels,
                         queue=args.queue, workers=args.workers, timeout=args.timeout)  # fmt: skip


def make_app(settings: ServeSettings | None = None) -> Any:
    """The application, with ``GET /models`` answered by ``arcnn models``' rows."""
    from arcnn.cli.models import model_rows
    from arcnn.serve.app import create_app

    return create_app(settings, models=model_rows)


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    missing = [m for m in NEEDS if importlib.util.find_spec(m) is None]
    if missing:
        err(f"arcnn serve needs {' and '.join(missing)}: pip install 'arcnn[serve]'")
        return 2
    if not 0 <= args.port <= 65535:
        err(f"--port must be in 0..65535, not {args.port}")
        return 2
    app = make_app(settings_from_args(args))  # a bad limit is a ValueError: one line, exit 2
    import uvicorn

    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, server_header=False)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM, raised again once uvicorn has shut down cleanly
        return 0
    return 0
