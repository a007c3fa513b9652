"""Checks on user input, each failing with a one-line message that names the problem."""

from __future__ import annotations

import math
import numbers
import sys
import weakref
from typing import Any

import numpy as np

from backprop._typing import Array, IntArray, SparseRows
from backprop.errors import DataError, DataTypeError, OptionError, OptionTypeError


def _first_bad_position(finite: np.ndarray) -> str:
    position = tuple(int(i) for i in np.argwhere(~finite)[0])
    if len(position) == 1:
        return f"row {position[0]}"
    return f"row {position[0]}, column {position[1]}"


def as_numeric_array(value: Any, name: str) -> np.ndarray:
    """``value`` as a NumPy array of numbers (bool and object arrays refused)."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise DataError(f"{name} is not a rectangular array of numbers: {error}") from None
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise DataTypeError(f"{name} must be numeric, got an array of dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise DataTypeError(f"{name} must be real, got complex numbers")
    return array


def _surely_finite(array: np.ndarray) -> bool:
    """A fast test that is True only when every entry is finite.

    Σ x² over the array (one BLAS dot product, no temporary array) is NaN
    or inf whenever any entry is; it can also overflow for finite entries
    beyond about 1e19 (float32), so False only means "look closer".
    """
    if array.dtype not in (np.float32, np.float64) or not array.flags.c_contiguous:
        return False
    flat = array.reshape(-1)  # a view: the array is contiguous
    with np.errstate(over="ignore", invalid="ignore"):
        return math.isfinite(float(np.dot(flat, flat)))


#: Arrays the library made, found finite and made read-only (:func:`mark_finite`), by id.
_known_finite: dict[int, weakref.ref[np.ndarray]] = {}


def mark_finite(array: np.ndarray) -> np.ndarray:
    """Remember that ``array``, which the library has just made and checked, is finite, and
    make it read-only so that it stays so; :func:`check_finite` then skips its pass over it.

    Only an array that owns its memory is marked (another array could write into a view's);
    returns ``array``. Setting it writeable again ends the mark: it is checked as any other.
    """
    if not array.flags.owndata:
        return array
    array.flags.writeable = False
    key = id(array)

    def forget(ref: weakref.ref[np.ndarray]) -> None:
        if _known_finite.get(key) is ref:
            del _known_finite[key]

    _known_finite[key] = weakref.ref(array, forget)
    return array


def known_to_be_finite(array: np.ndarray) -> bool:
    """Whether ``array`` is one :func:`mark_finite` marked, still read-only."""
    ref = _known_finite.get(id(array))
    return ref is not None and ref() is array and not array.flags.writeable


def check_finite(array: np.ndarray, name: str) -> None:
    """Refuse NaN and ±inf, naming the first position that holds one."""
    if np.issubdtype(array.dtype, np.integer) or known_to_be_finite(array) or (
            _surely_finite(array)):
        return
    finite = np.isfinite(array)
    if not finite.all():
        where = _first_bad_position(finite)
        bad = array[tuple(np.argwhere(~finite)[0])]
        raise DataError(f"{name} contains {bad} at {where}; NaN and inf are not allowed")


def is_sparse(value: Any) -> bool:
    """Whether ``value`` is a scipy.sparse matrix or array.

    SciPy is never imported for this: a value of one of its sparse types can only exist
    once ``scipy.sparse`` is loaded, so without it loaded the answer is no.
    """
    if isinstance(value, np.ndarray):
        return False
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and bool(sparse.issparse(value))


def check_inputs(X: Any, n_features: int, dtype: np.dtype[Any], name: str = "X", *,
                 accept_sparse: bool = False) -> Array | SparseRows:
    """X as a finite (m, n_features) array of ``dtype`` with m ≥ 1.

    With ``accept_sparse``, a scipy.sparse X is taken too and returned as CSR rows
    (:func:`check_sparse_inputs`); without it, a sparse X is refused in one line.
    """
    if is_sparse(X):
        if not accept_sparse:
            raise DataTypeError(f"{name} is a scipy.sparse matrix, which this takes only as a "
                                f"dense array: give {name}.toarray()")
        return check_sparse_inputs(X, n_features, dtype, name)
    array = shaped_inputs(X, n_features, name)
    check_finite(array, name)
    return cast_finite(array, dtype, name)


def shaped_inputs(X: Any, n_features: int, name: str = "X") -> np.ndarray:
    """A dense X as a 2-D array of numbers, (m, n_features) with m ≥ 1; its values are not
    looked at (:func:`check_inputs` does that too)."""
    array = as_numeric_array(X, name)
    if array.ndim != 2:
        raise DataError(
            f"{name} must be 2-D (samples × features), got shape {array.shape}; "
            f"for one sample use {name}.reshape(1, -1)"
        )
    _check_rows_and_width(array.shape, n_features, name)
    return array


def all_finite(array: np.ndarray) -> bool:
    """Whether every entry of a float array is finite: one fast pass, and a closer look
    only when that pass cannot tell."""
    return _surely_finite(array) or bool(np.isfinite(array).all())


def _check_rows_and_width(shape: tuple[int, ...], n_features: int, name: str) -> None:
    """Refuse a 2-D X of ``shape`` with no rows, or not ``n_features`` wide."""
    if shape[0] == 0:
        raise DataError(f"empty dataset: {name} has 0 rows")
    if shape[1] != n_features:
        raise DataError(
            f"{name} has {shape[1]} features per sample but the network's "
            f"first layer expects {n_features}"
        )


def check_sparse_inputs(X: SparseRows, n_features: int, dtype: np.dtype[Any],
                        name: str = "X") -> SparseRows:
    """A scipy.sparse X as finite CSR rows, (m, n_features), of ``dtype``, m ≥ 1.

    Never densified: the checks read the stored values (``.data``) only. CSR is returned
    as it is when its dtype is ``dtype`` already; any other format (CSC, COO, ...) is
    converted to CSR once, which costs as much memory as X's stored values and indices.
    """
    if len(X.shape) != 2:
        raise DataError(f"{name} must be 2-D (samples × features), got a sparse array of "
                        f"shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):  # bool and object refused, as for arrays
        raise DataTypeError(f"{name} must be numeric, got a sparse matrix of dtype {X.dtype}")
    if np.issubdtype(X.dtype, np.complexfloating):
        raise DataTypeError(f"{name} must be real, got complex numbers")
    _check_rows_and_width(X.shape, n_features, name)
    rows = X.tocsr()  # rows by index, one batch at a time: CSR (no copy when X is CSR)
    _check_stored_finite(rows, name, "contains {bad} at {where}; NaN and inf are not allowed")
    if rows.dtype == dtype:
        return rows
    with np.errstate(over="ignore"):  # 1e39 becomes inf in float32: named just below
        converted = rows.astype(dtype)  # the stored values cast; the zeros stay implicit
    largest = float(np.finfo(dtype).max)
    _check_stored_finite(converted, name, f"holds {{bad:g}} at {{where}}, which overflows "
                         f"{np.dtype(dtype).name} (largest {largest:.3g})", before=rows)
    return converted


def _check_stored_finite(rows: SparseRows, name: str, problem: str,
                         before: SparseRows | None = None) -> None:
    """Refuse a NaN or ±inf among the stored values of CSR ``rows``: "{name} {problem}",
    ``problem`` naming the value {bad} (taken from ``before``, when given) at {where}."""
    data = rows.data
    if np.issubdtype(data.dtype, np.integer) or _surely_finite(data):
        return
    finite = np.isfinite(data)
    if finite.all():
        return
    index = int(np.argmin(finite))
    row = int(np.searchsorted(rows.indptr, index, side="right")) - 1
    column = int(rows.indices[index])
    bad = data[index] if before is None else before[row, column]
    where = f"row {row}, column {column}"
    raise DataError(f"{name} " + problem.format(bad=bad, where=where))


def cast_finite(array: np.ndarray, dtype: Any, name: str) -> Array:
    """A finite ``array`` as ``dtype``, refusing a value the cast would overflow to inf."""
    with np.errstate(over="ignore"):  # 1e39 becomes inf in float32: named just below
        converted = np.ascontiguousarray(array, dtype=dtype)
    if converted is array or _surely_finite(converted):  # not converted: as finite as before
        return converted
    finite = np.isfinite(converted)
    if not finite.all():
        bad = array[tuple(np.argwhere(~finite)[0])]
        largest = float(np.finfo(converted.dtype).max)
        raise DataError(
            f"{name} holds {bad:g} at {_first_bad_position(finite)}, which overflows "
            f"{np.dtype(dtype).name} (largest {largest:.3g})"
        )
    return converted


def check_lengths(n_x: int, n_y: int) -> None:
    if n_x != n_y:
        raise DataError(f"X has {n_x} rows but y has {n_y}; they must match")


def _labels_from_vector(y: np.ndarray, n_classes: int) -> IntArray:
    """Integer class labels in 0..n_classes−1 from a 1-D array."""
    if np.issubdtype(y.dtype, np.floating) and not np.all(y == np.round(y)):
        row = int(np.argmax(y != np.round(y)))
        raise DataError(
            f"y must hold integer class labels for {n_classes} output units, "
            f"got {y[row]} at row {row}"
        )
    labels = y.astype(np.int64)
    out_of_range = (labels < 0) | (labels >= n_classes)
    if out_of_range.any():
        row = int(np.argmax(out_of_range))
        raise DataError(
            f"class label {labels[row]} at row {row} is out of range for "
            f"{n_classes} output units (valid: 0..{n_classes - 1})"
        )
    return labels


def prepare_targets(
    y: Any,
    n_samples: int,
    n_outputs: int,
    loss_name: str,
    dtype: np.dtype[Any],
) -> tuple[Array, IntArray | None]:
    """Targets Y of shape (m, n_outputs) in ``dtype``, and class labels when y names classes.

    y may be integer class labels, shape (m,), which become one-hot rows for
    a network with several outputs; or targets of shape (m, n_outputs)
    (one-hot rows, probabilities, or regression values); or, for one
    output, values of shape (m,).
    """
    array = as_numeric_array(y, "y")
    if array.ndim == 0:
        raise DataError("y must be an array with one target per sample, got a scalar")
    check_lengths(n_samples, array.shape[0])
    check_finite(array, "y")
    classification = loss_name in ("cross_entropy", "binary_cross_entropy")
    labels: IntArray | None = None
    if array.ndim == 1 and n_outputs > 1:
        labels = _labels_from_vector(array, n_outputs)
        Y = np.zeros((n_samples, n_outputs), dtype=dtype)
        Y[np.arange(n_samples), labels] = 1.0  # one-hot rows
        return Y, labels
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[1] != n_outputs:
        raise DataError(
            f"y has shape {np.shape(y)} but the network has {n_outputs} output units; "
            f"give targets of shape ({n_samples}, {n_outputs})"
            + (" or integer class labels of shape (m,)" if n_outputs > 1 else "")
        )
    Y = np.ascontiguousarray(array, dtype=dtype)
    if classification:
        outside = (Y < 0) | (Y > 1)
        if outside.any():
            row, col = (int(i) for i in np.argwhere(outside)[0])
            raise DataError(
                f"{loss_name} targets must lie in [0, 1], got {Y[row, col]} "
                f"at row {row}, column {col}"
            )
        if n_outputs == 1:
            labels = (Y[:, 0] >= 0.5).astype(np.int64)
        else:
            labels = Y.argmax(axis=1).astype(np.int64)
    if loss_name == "cross_entropy":
        sums = Y.sum(axis=1)
        wrong = np.abs(sums - 1.0) > 1e-3
        if wrong.any():
            row = int(np.argmax(wrong))
            raise DataError(
                f"cross_entropy targets must sum to 1 per sample; row {row} sums to {sums[row]:g}"
            )
    if loss_name == "poisson" and (Y < 0).any():
        row, col = (int(i) for i in np.argwhere(Y < 0)[0])
        raise DataError(
            f"poisson targets must be ≥ 0 (counts or rates), got {Y[row, col]} "
            f"at row {row}, column {col}"
        )
    return Y, labels


def check_positive_number(value: Any, name: str) -> float:
    """A finite number > 0 (learning rates, and the like)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise OptionTypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise OptionError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_non_negative_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise OptionTypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise OptionError(f"{name} must be a finite number ≥ 0, got {value!r}")
    return float(value)


def check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise OptionTypeError(f"{name} must be an integer, got {value!r}")
    if value <= 0:
        raise OptionError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_seed(value: Any, name: str = "seed") -> int | None:
    """A random seed: a whole number ≥ 0, or None (a fresh seed from the system)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise OptionTypeError(f"{name} must be a non-negative integer, got {value!r}")
    if value < 0:
        raise OptionError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)
