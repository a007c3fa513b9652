"""Type aliases shared by the package."""

from typing import Any

import numpy as np
import numpy.typing as npt

#: A floating-point array: float32 by default, float64 on request.
Array = npt.NDArray[np.floating[Any]]
#: An integer array (class labels, sample indices).
IntArray = npt.NDArray[np.integer[Any]]
