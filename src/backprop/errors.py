"""The exceptions backprop raises for problems a user can fix.

Each message is one line that names the problem: the file, row, column,
shape or value at fault, and what would be valid instead.

Every one of them is a :class:`BackpropError`, so a front end can tell a
user's mistake (show the line) from a bug (show the traceback). Each also
keeps the built-in base class it has always had, so ``except ValueError``
and ``pytest.raises(TypeError)`` in user code go on working:

    BackpropError
    ├── DataError (ValueError)            bad data: a file, cell, shape, label or value
    │   └── DataTypeError (TypeError)     data of the wrong type, e.g. strings for X
    ├── ModelFileError (ValueError)       a model or checkpoint file that cannot be used
    ├── OptionError (ValueError)          a bad option, argument or config value
    │   └── OptionTypeError (TypeError)   an argument of the wrong type
    └── DivergenceError (RuntimeError)    training produced a non-finite loss or gradient
"""


class BackpropError(Exception):
    """A problem the user can fix; the message is one line that names it."""


class DataError(BackpropError, ValueError):
    """Input data that cannot be used: a bad file, cell, shape, label or value."""


class DataTypeError(DataError, TypeError):
    """Input data of the wrong type, e.g. strings or complex numbers where numbers belong."""


class ModelFileError(BackpropError, ValueError):
    """A model file that is missing, corrupt, truncated or not a backprop model."""


class OptionError(BackpropError, ValueError):
    """A bad option, argument or config value: out of range, unknown name, wrong pairing."""

    #: The field at fault, where the raiser knows it (a spec's "momentum"), so that a front
    #: end can name it in its own words (the command's --momentum); None otherwise.
    field: str | None = None


class OptionTypeError(OptionError, TypeError):
    """An option or argument of the wrong type, e.g. a string where a number belongs."""


class DivergenceError(BackpropError, RuntimeError):
    """Training produced a non-finite loss or gradient."""
