"""``python -m arcnn``: the ``arcnn`` command."""

from arcnn.cli import entry

entry()
