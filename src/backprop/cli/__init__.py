"""The ``backprop`` command: :func:`main` parses the arguments, one module per subcommand."""

from backprop.cli.entry import main

__all__ = ["main"]
