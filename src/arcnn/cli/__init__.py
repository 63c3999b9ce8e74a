"""The ``arcnn`` command: one module per subcommand, each with ``add_parser(sub)`` and ``run(args)``.

``main(argv) -> int`` is what the console script, ``python -m arcnn`` and the tests call.
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType, ModuleType

from arcnn.cli import evaluate, export, models, plot, quality, restore, serve, train
from arcnn.cli._common import Parser, err

__all__ = ["main", "entry", "build_parser", "COMMANDS"]

COMMANDS: dict[str, ModuleType] = {
    "restore": restore, "evaluate": evaluate, "train": train, "export": export, "quality": quality,
    "models": models, "plot": plot, "serve": serve,
}  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    from arcnn import __version__

    p = Parser(prog="arcnn", description="Compression artifact reduction with AR-CNN.")
    p.add_argument("--version", action="version", version=f"arcnn {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in COMMANDS.values():
        module.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    try:
        return COMMANDS[args.command].run(args, argv)
    except (ValueError, OSError) as e:
        err(str(e))
        return 2
    except Terminated:
        err("terminated")
        return 143
    except KeyboardInterrupt:
        err("interrupted")
        return 130


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C, so that every ``finally`` runs (temporary files
    are removed, the write in flight ends) before the process exits with 143."""


# The signals received: Ctrl-C or SIGTERM landing inside an extension module's import (numpy, ONNX
# Runtime, loaded lazily by the commands) can surface as another error (numpy raises ImportError).
_SIGNALLED: list[int] = []


def _terminate(signum: int, frame: FrameType | None) -> None:
    _SIGNALLED.append(signum)
    raise Terminated


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C as Python answers it (KeyboardInterrupt), noted first."""
    _SIGNALLED.append(signum)
    signal.default_int_handler(signum, frame)


def entry() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        code = main()
    except Terminated:  # outside main's own handling: during start-up
        err("terminated")
        code = 143
    except KeyboardInterrupt:
        err("interrupted")
        code = 130
    except Exception:
        if not _SIGNALLED:
            raise
        terminated = _SIGNALLED[-1] == signal.SIGTERM
        err("terminated" if terminated else "interrupted")
        code = 143 if terminated else 130
    sys.exit(code)
