"""``python -m arcnn`` and the ``arcnn`` console script: the command, with Ctrl-C and SIGTERM during
start-up answered by one line too (the command's own handlers take over once it is imported)."""

import atexit
import os
import sys
import threading


def main() -> None:
    try:
        from arcnn.cli import entry
    except KeyboardInterrupt:
        sys.stderr.write("arcnn: error: interrupted\n")
        sys.exit(130)
    try:
        entry()
    except SystemExit as e:
        if isinstance(e.code, int):
            finish(e.code)
        raise


def finish(code: int) -> None:
    """End the process with ``code`` as Python would end it, less the teardown of its modules.

    What Python does at exit that matters is kept: once no thread but this one is left, the atexit
    callbacks run (Ray's shutdown, a coverage tool's save) and the standard streams are flushed.
    Then the process exits without unloading numpy and ONNX Runtime, which costs a small restore
    a noticeable share of its time (``python -m benchmarks.startup``). Every output file is
    written and closed before the command returns. Returns only when a thread is still running
    or a standard stream cannot be flushed: the caller then exits the usual way.
    """
    if threading.active_count() > 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - a closed pipe: Python's own exit reports it as it always has
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


if __name__ == "__main__":
    main()
