"""Type aliases shared by the package, and the float dtypes the engine computes in."""

from typing import Any

import numpy as np
import numpy.typing as npt

from backprop.errors import OptionError

#: A floating-point array: float32 by default, float64 on request.
Array = npt.NDArray[np.floating[Any]]
#: An integer array (class labels, sample indices).
IntArray = npt.NDArray[np.integer[Any]]
#: A scipy.sparse matrix or array of inputs, one sample per row (CSR once checked). SciPy is
#: optional and the core never imports it, so to the type checker this is Any.
SparseRows = Any

_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}


def float_dtype(dtype: Any) -> np.dtype[Any]:
    """The NumPy dtype for "float32" or "float64" (or their dtypes); an OptionError otherwise."""
    resolved: np.dtype[Any] | None
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    # "is None" first: a dtype compares equal to None (NumPy reads None as float64)
    if resolved is None or resolved not in _DTYPES.values():
        raise OptionError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
    return resolved
