"""The exceptions backprop raises for problems a user can fix.

Each message is one line that names the problem: the file, row, column,
shape or value at fault, and what would be valid instead.
"""


class DataError(ValueError):
    """Input data that cannot be used: a bad file, cell, shape, label or value."""


class ModelFileError(ValueError):
    """A model file that is missing, corrupt, truncated or not a backprop model."""


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss or gradient."""
