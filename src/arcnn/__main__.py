"""``python -m arcnn`` and the ``arcnn`` console script: the command, with Ctrl-C and SIGTERM during
start-up answered by one line too (the command's own handlers take over once it is imported)."""

import signal
import sys
from types import FrameType

_INTERRUPTED: list[int] = []


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C as Python answers it (KeyboardInterrupt), noted first: an interrupt that lands inside
    an extension module's import can surface as another error (numpy raises ImportError)."""
    _INTERRUPTED.append(signum)
    signal.default_int_handler(signum, frame)


def main() -> None:
    signal.signal(signal.SIGINT, _interrupt)
    try:
        from arcnn.cli import entry

        entry()
    except KeyboardInterrupt:  # during the import above; entry() answers its own
        sys.stderr.write("arcnn: error: interrupted\n")
        sys.exit(130)
    except Exception:
        if not _INTERRUPTED:
            raise
        sys.stderr.write("arcnn: error: interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
