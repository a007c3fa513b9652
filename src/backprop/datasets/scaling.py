"""Feature scaling fitted on training data, storable in a model file.

Both kinds compute X_scaled = (X - offset) / scale per column:
"standard" uses the mean and standard deviation, "minmax" the minimum
and the range (so training data lands in [0, 1]). A column with zero
spread gets scale 1, so it becomes 0 rather than NaN.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from backprop.datasets.statistics import Statistics, column_statistics
from backprop.errors import DataError, OptionError

ScalerKind = Literal["standard", "minmax"]
_KINDS: tuple[ScalerKind, ...] = ("standard", "minmax")
FloatArray = npt.NDArray[np.floating[Any]]


class Scaler:
    """Per-column scaling: fit(X_train) once, then transform any X.

    Arguments:
        kind: "standard" (zero mean, unit variance) or "minmax" ([0, 1]).
    """

    def __init__(self, kind: ScalerKind = "standard") -> None:
        if kind not in _KINDS:
            raise OptionError(f"Scaler kind must be 'standard' or 'minmax', got {kind!r}")
        self.kind: ScalerKind = kind
        self.offset: npt.NDArray[np.float64] | None = None  # (n_features,)
        self.scale: npt.NDArray[np.float64] | None = None  # (n_features,)

    def __repr__(self) -> str:
        fitted = "unfitted" if self.offset is None else f"{self.offset.shape[0]} features"
        return f"Scaler({self.kind!r}, {fitted})"

    @property
    def fitted(self) -> bool:
        """Whether fit (or from_state) has set offset and scale."""
        return self.offset is not None

    def fit(self, X: Any) -> Scaler:
        """Learn offset and scale, shape (n_features,), from training data X (m, n_features),
        read a block of rows at a time (:mod:`backprop.datasets.statistics`, the accumulator
        that data streamed from disk uses too: the same rows give the same scaler)."""
        array = _as_2d(X, "fit")
        if array.shape[0] == 0:
            raise DataError("Scaler.fit: X has no rows")
        fitted = self.from_statistics(self.kind, column_statistics(array, "Scaler.fit: X"))
        self.offset, self.scale = fitted.offset, fitted.scale
        return self

    @classmethod
    def from_statistics(cls, kind: ScalerKind, stats: Statistics) -> Scaler:
        """The Scaler of ``kind`` for data of these column statistics: offset and spread are
        the mean and standard deviation (standard) or the min and the range (minmax)."""
        scaler = cls(kind)
        if kind == "standard":
            offset, spread = stats.mean, stats.std
        else:
            offset, spread = stats.min, stats.max - stats.min
        scaler.offset = offset
        scaler.scale = np.where(spread > 0, spread, 1.0)
        return scaler

    def transform(self, X: Any) -> FloatArray:
        """X (m, n_features) scaled; float32 in gives float32 out, else float64."""
        if self.offset is None or self.scale is None:
            raise RuntimeError("Scaler is not fitted; call fit(X_train) first")
        array = _as_2d(X, "transform")
        self._check_width(array, "transform")
        out = _float_copy(array)
        out -= self.offset.astype(out.dtype)
        out /= self.scale.astype(out.dtype)
        return out

    def fit_transform(self, X: Any) -> FloatArray:
        """fit(X), then transform(X)."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> FloatArray:
        """Undo transform: X * scale + offset (float32 stays float32)."""
        if self.offset is None or self.scale is None:
            raise RuntimeError("Scaler is not fitted; call fit(X_train) first")
        array = _as_2d(X, "inverse_transform")
        self._check_width(array, "inverse_transform")
        out = _float_copy(array)
        out *= self.scale.astype(out.dtype)
        out += self.offset.astype(out.dtype)
        return out

    def to_state(self) -> dict[str, np.ndarray | str]:
        """{"kind": str, "offset": (n,) float64, "scale": (n,) float64}, for a model file."""
        if self.offset is None or self.scale is None:
            raise RuntimeError("Scaler is not fitted; there is no state to save")
        return {"kind": self.kind, "offset": self.offset.copy(), "scale": self.scale.copy()}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray | str]) -> Scaler:
        """The Scaler that to_state described (DataError if the state is malformed)."""
        missing = [key for key in ("kind", "offset", "scale") if key not in state]
        if missing:
            raise DataError(f"Scaler state lacks {', '.join(missing)}")
        kind = state["kind"]
        if isinstance(kind, np.ndarray) and kind.ndim == 0 and kind.dtype.kind in "US":
            kind = str(kind)  # a string that went through np.savez
        if not isinstance(kind, str) or kind not in _KINDS:
            raise DataError(f"Scaler state has kind {kind!r}; expected 'standard' or 'minmax'")
        arrays = []
        for key in ("offset", "scale"):
            value = np.asarray(state[key])
            if value.ndim != 1 or value.dtype.kind not in "iuf" or not np.isfinite(value).all():
                raise DataError(
                    f"Scaler state {key} must be a finite 1-D numeric array, "
                    f"got {value.dtype} {value.shape}"
                )
            arrays.append(value.astype(np.float64))
        offset, scale = arrays
        if offset.shape != scale.shape:
            raise DataError(f"Scaler state: offset {offset.shape} and scale {scale.shape} differ")
        if not (scale >= np.finfo(np.float64).tiny).all():  # x / subnormal overflows
            raise DataError("Scaler state: every scale must be > 0 and not subnormal "
                            "(at least 2.2e-308)")
        scaler = cls(kind)
        scaler.offset, scaler.scale = offset, scale
        return scaler

    def _check_width(self, array: np.ndarray, method: str) -> None:
        assert self.offset is not None
        if array.shape[1] != self.offset.shape[0]:
            raise DataError(
                f"Scaler.{method}: X has {array.shape[1]} features but the scaler was fitted "
                f"on {self.offset.shape[0]}"
            )


def _as_2d(X: Any, method: str) -> np.ndarray:
    array = np.asarray(X)
    if array.dtype.kind not in "biuf":
        raise DataError(f"Scaler.{method}: X has dtype {array.dtype}; expected numbers")
    if array.ndim != 2:
        raise DataError(f"Scaler.{method}: X must be 2-D (samples, features), got {array.shape}")
    return array


def _float_copy(array: np.ndarray) -> FloatArray:
    """A float copy of array: float32 stays float32, anything else becomes float64."""
    if array.dtype == np.float32:
        return array.astype(np.float32)
    return array.astype(np.float64)
