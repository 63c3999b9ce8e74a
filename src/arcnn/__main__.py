"""``python -m arcnn`` and the ``arcnn`` console script: the command, with Ctrl-C and SIGTERM during
start-up answered by one line too (the command's own handlers take over once it is imported)."""

import sys


def main() -> None:
    try:
        from arcnn.cli import entry
    except KeyboardInterrupt:
        sys.stderr.write("arcnn: error: interrupted\n")
        sys.exit(130)
    entry()


if __name__ == "__main__":
    main()
