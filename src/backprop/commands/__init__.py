"""Subcommands of the ``backprop`` command, one module each with ``add_parser(subparsers)``."""
