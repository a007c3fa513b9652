"""The library's version (also written into every model file), and the name it is installed by."""

__version__ = "0.1.0"

#: The distribution's name on the package index. The module and the command are ``backprop``,
#: but the name "backprop" there belongs to an unrelated project.
DISTRIBUTION = "backprop-mlp"


def install_hint(extra: str) -> str:
    """The command that installs an optional extra: ``pip install 'backprop-mlp[lab]'``."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"
