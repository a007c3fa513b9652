"""Sparse X (scipy.sparse): the first Dense layer's products take it as it is, never densified.

The engine: a Dense first layer computes Z = A_prev Wᵀ + b and ∂L/∂W = Δᵀ A_prev with SciPy's
sparse × dense products; its gradients are held to central differences in float64, and to
the same network's on the dense copy of X. The checks read the stored values only. The
estimators take CSR and CSC X (other formats as CSR) in every solver, predict and score.

Sparse against dense: SciPy's product adds each row's stored products in column order,
skipping the zeros, where BLAS adds all of them in blocks of its own; the sums are the same
to rounding but not bit for bit. Two kinds of comparison follow from that:

* bit for bit where no sum is reordered: X with at most one stored value per row and per
  column (a one-hot design, each sample its own category), whose every entry of Z and of
  ∂L/∂W^[1] is one product, whatever the order of the zeros added to it;
* to a stated tolerance otherwise (:data:`WEIGHT_TOLERANCE`, :data:`LOSS_TOLERANCE`): each
  step's rounding differs, and training carries it along (L-BFGS more than the others).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("scipy", reason="sparse X is scipy.sparse: pip install 'backprop-mlp[sklearn]'")
pytest.importorskip("sklearn", reason="the estimators need scikit-learn: pip install 'backprop-mlp[sklearn]'")

from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

import backprop as bp
from backprop.errors import DataError, DataTypeError
from backprop.sklearn import MLPClassifier, MLPRegressor
from backprop.validation import check_inputs, is_sparse
from bounds import MEMORY_BOUND, bounded

#: (solver, dtype) → how far a fit on sparse X may end from the fit on its dense copy: the
#: largest difference of a weight relative to the largest weight. Each step's rounding
#: differs by about ε (2.2e-16 in float64, 1.2e-7 in float32); 15 epochs of adam or sgd carry
#: it along to a few ε (measured: ≤ 7e-16 and 5e-7). L-BFGS amplifies it: its curvature
#: pairs are differences of gradients, and in float32 its line search sees J only to 1e-7,
#: so 30 iterations drift apart further (measured over three data sets: ≤ 7e-13 in
#: float64, 3e-4 in float32). Each bound is ten times the largest measured, or more, and far
#: below what a wrong product gives (order 1).
WEIGHT_TOLERANCE = {("adam", "float64"): 1e-12, ("adam", "float32"): 1e-5,
                    ("sgd", "float64"): 1e-12, ("sgd", "float32"): 1e-5,
                    ("lbfgs", "float64"): 1e-10, ("lbfgs", "float32"): 5e-3}
#: dtype → the largest difference of the loss curves, relative to the first loss (measured:
#: ≤ 3e-15 in float64, 1.5e-6 in float32, L-BFGS included: J is flat where θ drifts).
LOSS_TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def random_sparse(m: int, n: int, density: float, seed: int) -> np.ndarray:
    """A dense (m, n) array with about ``density`` of its entries nonzero, N(0, 1)."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random((m, n)) < density, rng.normal(size=(m, n)), 0.0)


def one_hot_design(m: int, n: int, seed: int) -> np.ndarray:
    """(m, n), n ≥ m: row i holds one value, in a column no other row uses, so each entry
    of X Wᵀ and of Δᵀ X is a single product: no sum to reorder."""
    rng = np.random.default_rng(seed)
    X = np.zeros((m, n))
    X[np.arange(m), rng.permutation(n)[:m]] = rng.uniform(0.5, 2.0, m) * rng.choice([-1, 1], m)
    return X


def network(n_in: int = 12, dtype: str = "float64", compiled: bool = False,
            first: Any = None) -> bp.Network:
    layers = [bp.Dense(n_in, 7, "tanh"), bp.Dense(7, 5, "relu"), bp.Dense(5, 3, "softmax")]
    if first is not None:
        layers.insert(0, first)
    return bp.Network(layers, loss="cross_entropy", seed=3, dtype=dtype, compiled=compiled)


# -- the engine ---------------------------------------------------------------------------------
@settings(max_examples=40)
@given(m=st.integers(1, 30), density=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
def test_sparse_gradients_match_central_differences_and_the_dense_ones(
        m: int, density: float, seed: int) -> None:
    X = random_sparse(m, 12, density, seed)
    y = np.random.default_rng(seed).integers(0, 3, m)
    net = network()
    report = bp.gradcheck(net, sparse.csr_matrix(X), y, tolerance=1e-6)
    assert report.passed, str(report)
    from_sparse = net.gradients(sparse.csr_matrix(X), y)
    from_dense = net.gradients(X, y)
    for (dW_s, db_s), (dW_d, db_d) in zip(from_sparse, from_dense, strict=True):
        np.testing.assert_allclose(dW_s, dW_d, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(db_s, db_d, rtol=1e-12, atol=1e-14)


def test_a_sparse_first_layer_passes_gradcheck_with_every_entry_of_W_checked() -> None:
    X = sparse.csr_matrix(random_sparse(9, 12, 0.3, seed=1))
    report = bp.gradcheck(network(), X, np.arange(9) % 3)
    assert report.passed and report.relative_error < 1e-7, str(report)
    first = report.tensors[0]
    assert (first.layer, first.name, first.checked) == (1, "W", 7 * 12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("compiled", [False, True])
def test_no_sum_reordered_gives_the_dense_numbers_bit_for_bit(dtype: str, compiled: bool) -> None:
    if compiled:
        pytest.importorskip("numba", reason="the compiled path is the numba extra")
    X = one_hot_design(10, 12, seed=0)
    y = np.arange(10) % 3
    sparse_net, dense_net = network(dtype=dtype, compiled=compiled), network(dtype=dtype,
                                                                             compiled=compiled)
    for (dW_s, db_s), (dW_d, db_d) in zip(sparse_net.gradients(sparse.csr_matrix(X), y),
                                          dense_net.gradients(X, y), strict=True):
        assert np.array_equal(dW_s, dW_d) and np.array_equal(db_s, db_d)
    assert np.array_equal(sparse_net.forward(sparse.csr_matrix(X)), dense_net.forward(X))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_network_fit_on_sparse_X_is_the_fit_on_its_dense_copy(dtype: str) -> None:
    X, y = one_hot_design(40, 50, seed=4), np.arange(40) % 3
    on_sparse, on_dense = network(50, dtype), network(50, dtype)
    history = on_sparse.fit(sparse.csr_matrix(X), y, epochs=5, batch_size=8, lr=0.1,
                            validation_split=0.2)
    on_dense.fit(X, y, epochs=5, batch_size=8, lr=0.1, validation_split=0.2)
    assert np.array_equal(on_sparse.params, on_dense.params)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert on_sparse.evaluate(sparse.csr_matrix(X), y) == on_dense.evaluate(X, y)


@pytest.mark.parametrize("make", [
    sparse.csr_matrix, sparse.csc_matrix, sparse.coo_matrix, sparse.lil_matrix,
    sparse.csr_array, sparse.csc_array, sparse.dok_array,
    lambda X: sparse.csr_matrix(X.astype(np.int64)),
], ids=["csr", "csc", "coo", "lil", "csr_array", "csc_array", "dok_array", "int_data"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_format_is_checked_into_csr_rows_of_the_networks_dtype(make: Any, dtype: str) -> None:
    X = np.round(random_sparse(6, 12, 0.4, seed=2) * 4)
    net = network(dtype=dtype)
    rows = net.check_inputs(make(X))
    assert is_sparse(rows) and rows.format == "csr" and rows.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(rows.toarray(), X.astype(dtype))
    close = {"rtol": 1e-5, "atol": 1e-7} if dtype == "float32" else {"rtol": 1e-12, "atol": 0}
    np.testing.assert_allclose(net.forward(make(X)), net.forward(X), **close)


def test_csr_rows_in_the_networks_dtype_are_taken_as_they_are() -> None:
    X = sparse.csr_matrix(random_sparse(5, 12, 0.5, seed=0))
    assert network().check_inputs(X) is X  # checked, not copied


def test_int64_indices_are_taken() -> None:
    X = sparse.csr_matrix(random_sparse(8, 12, 0.5, seed=5))
    wide = X.copy()
    wide.indices, wide.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    net = network()
    np.testing.assert_array_equal(net.forward(wide), net.forward(X))


@pytest.mark.parametrize("X, error, message", [
    (sparse.csr_matrix(([1.0, np.nan], ([0, 3], [2, 5])), shape=(4, 12)), DataError,
     "X contains nan at row 3, column 5; NaN and inf are not allowed"),
    (sparse.csc_matrix(([np.inf], ([2], [7])), shape=(4, 12)), DataError,
     "X contains inf at row 2, column 7"),
    (sparse.csr_matrix((4, 11)), DataError,
     "X has 11 features per sample but the network's first layer expects 12"),
    (sparse.csr_matrix((0, 12)), DataError, "empty dataset: X has 0 rows"),
    (sparse.csr_matrix(np.eye(4, 12, dtype=bool)), DataTypeError,
     "X must be numeric, got a sparse matrix of dtype bool"),
    (sparse.csr_matrix(np.eye(4, 12) * 1j), DataTypeError, "X must be real"),
    (sparse.coo_array(([1.0], ([3],)), shape=(12,)), DataError,
     "X must be 2-D (samples × features), got a sparse array of shape (12,)"),
])
def test_bad_sparse_X_is_named_in_one_line(X: Any, error: type, message: str) -> None:
    with pytest.raises(error, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        network().check_inputs(X)


def test_a_value_that_overflows_float32_is_named_where_it_sits() -> None:
    X = sparse.csr_matrix(([1.0, 1e39], ([1, 2], [0, 4])), shape=(3, 12))
    with pytest.raises(DataError, match=r"^X holds 1e\+39 at row 2, column 4, which overflows "
                                        r"float32 \(largest 3\.4e\+38\)$"):
        network(dtype="float32").check_inputs(X)


@pytest.mark.parametrize("first", [bp.Dropout(12, 0.5), bp.BatchNorm(12),
                                   bp.ActivationLayer(12, "tanh")],
                         ids=["Dropout", "BatchNorm", "ActivationLayer"])
def test_a_first_layer_that_needs_dense_input_refuses_sparse_X_in_one_line(first: Any) -> None:
    net = network(first=first)
    X = sparse.csr_matrix(random_sparse(4, 12, 0.5, seed=0))
    with pytest.raises(DataTypeError, match=r"^X is sparse but the first layer, .* takes dense "
                                            r"input only .*; give X.toarray\(\)$") as caught:
        net.forward(X)
    assert "\n" not in str(caught.value)
    net.forward(X.toarray())  # the same network takes the dense copy


def test_a_check_that_takes_only_dense_input_refuses_sparse_in_one_line() -> None:
    X = sparse.csr_matrix(np.eye(3))
    with pytest.raises(DataTypeError, match=r"^x is a scipy.sparse matrix, which this takes only "
                                            r"as a dense array: give x.toarray\(\)$"):
        check_inputs(X, 3, np.dtype(np.float64), name="x")


def test_sparse_is_recognised_without_importing_scipy() -> None:
    code = ("import sys, numpy as np, backprop as bp\n"
            "net = bp.Network([bp.Dense(2, 1)], seed=0)\n"
            "net.forward([[1.0, 2.0]]); net.forward(np.ones((3, 2)))\n"
            "assert 'scipy' not in sys.modules, 'scipy was imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr


# -- the estimators -----------------------------------------------------------------------------
ESTIMATORS = {"classifier": MLPClassifier, "regressor": MLPRegressor}


def targets(kind: str, X: np.ndarray) -> np.ndarray:
    if kind == "classifier":
        return np.arange(X.shape[0]) % 3
    return X @ np.linspace(-1, 1, X.shape[1]) + 0.5


def fitted(kind: str, X: Any, y: np.ndarray, **params: Any) -> Any:
    estimator = ESTIMATORS[kind](hidden_layer_sizes=(8,), random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


SOLVERS = {
    "adam": {"solver": "adam", "max_iter": 15, "batch_size": 16, "learning_rate_init": 0.01},
    "sgd": {"solver": "sgd", "max_iter": 15, "batch_size": 16, "learning_rate_init": 0.05},
    "lbfgs": {"solver": "lbfgs", "max_iter": 30},
}


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", ESTIMATORS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_fit_on_sparse_X_is_the_dense_fit_bit_for_bit_when_no_sum_is_reordered(
        solver: str, kind: str, dtype: str) -> None:
    X = one_hot_design(60, 64, seed=1).astype(dtype)
    y = targets(kind, X)
    on_sparse = fitted(kind, sparse.csr_matrix(X), y, **SOLVERS[solver])
    on_dense = fitted(kind, X, y, **SOLVERS[solver])
    assert on_sparse.loss_curve_ == on_dense.loss_curve_
    assert on_sparse.loss_curve_[-1] < on_sparse.loss_curve_[0]  # it trained
    for W_s, W_d in zip(on_sparse.coefs_, on_dense.coefs_, strict=True):
        assert W_s.dtype == np.dtype(dtype) and np.array_equal(W_s, W_d)
    assert np.array_equal(on_sparse.predict(sparse.csr_matrix(X)), on_dense.predict(X))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", ESTIMATORS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_fit_on_sparse_X_is_the_dense_fit_to_rounding(solver: str, kind: str,
                                                         dtype: str) -> None:
    X = random_sparse(80, 30, 0.2, seed=6).astype(dtype)
    y = targets(kind, X)
    on_sparse = fitted(kind, sparse.csr_matrix(X), y, **SOLVERS[solver])
    on_dense = fitted(kind, X, y, **SOLVERS[solver])
    assert on_sparse.n_iter_ == on_dense.n_iter_
    assert on_sparse.loss_curve_[-1] < on_sparse.loss_curve_[0]
    for W_s, W_d in zip(on_sparse.coefs_, on_dense.coefs_, strict=True):
        assert np.max(np.abs(W_s - W_d)) <= WEIGHT_TOLERANCE[solver, dtype] * np.max(np.abs(W_d))
    drift = np.max(np.abs(np.subtract(on_sparse.loss_curve_, on_dense.loss_curve_)))
    assert drift <= LOSS_TOLERANCE[dtype] * on_dense.loss_curve_[0]


@pytest.mark.parametrize("kind", ESTIMATORS)
def test_csc_X_is_converted_to_the_same_csr_rows_once(kind: str) -> None:
    X = random_sparse(50, 20, 0.3, seed=7)
    y = targets(kind, X)
    on_csr = fitted(kind, sparse.csr_matrix(X), y, **SOLVERS["adam"])
    on_csc = fitted(kind, sparse.csc_matrix(X), y, **SOLVERS["adam"])
    assert on_csr.loss_curve_ == on_csc.loss_curve_
    assert np.array_equal(on_csr.predict(sparse.csc_matrix(X)), on_csc.predict(
        sparse.csr_matrix(X)))


@pytest.mark.parametrize("kind", ESTIMATORS)
def test_early_stopping_and_partial_fit_on_sparse_X_match_the_dense_ones(kind: str) -> None:
    X = one_hot_design(60, 64, seed=2)
    y = targets(kind, X)
    params = {**SOLVERS["adam"], "early_stopping": True, "validation_fraction": 0.2}
    on_sparse, on_dense = fitted(kind, sparse.csr_matrix(X), y, **params), fitted(kind, X, y,
                                                                                  **params)
    assert on_sparse.validation_scores_ == on_dense.validation_scores_
    assert np.array_equal(on_sparse.coefs_[0], on_dense.coefs_[0])
    extra = {"classes": np.arange(3)} if kind == "classifier" else {}
    partial_sparse = ESTIMATORS[kind](hidden_layer_sizes=(8,), random_state=0)
    partial_dense = ESTIMATORS[kind](hidden_layer_sizes=(8,), random_state=0)
    for _ in range(3):
        partial_sparse.partial_fit(sparse.csr_matrix(X), y, **extra)
        partial_dense.partial_fit(X, y, **extra)
    assert partial_sparse.loss_curve_ == partial_dense.loss_curve_
    assert partial_sparse.score(sparse.csr_matrix(X), y) == partial_dense.score(X, y)


def test_the_estimators_declare_sparse_input() -> None:
    from sklearn.utils import get_tags

    assert get_tags(MLPClassifier()).input_tags.sparse
    assert get_tags(MLPRegressor()).input_tags.sparse


# -- no dense copy ------------------------------------------------------------------------------
def wide_csr(m: int, n: int, per_row: int, seed: int) -> Any:
    """CSR (m, n) with ``per_row`` values in each row, one in each block of n // per_row
    columns (so sorted and distinct), float64, without a dense array ever made."""
    rng = np.random.default_rng(seed)
    block = n // per_row
    columns = (np.arange(per_row) * block + rng.integers(0, block, (m, per_row))).astype(np.int32)
    indptr = np.arange(0, m * per_row + 1, per_row, dtype=np.int32)
    return sparse.csr_matrix((rng.normal(size=m * per_row), columns.reshape(-1), indptr),
                             shape=(m, n))


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_fitting_a_wide_sparse_X_makes_no_dense_copy_of_it_nor_of_a_batch(solver: str) -> None:
    # 20000 × 10000 at 1%: 2 million stored values (24 MB with their indices), 1.6 GB as a
    # dense float64 array; a dense batch of 1000 rows would be 80 MB. The bound (bounds.py,
    # 64 MiB of allocations at the peak, X itself made before) catches either copy.
    X = wide_csr(20_000, 10_000, per_row=100, seed=0)
    y = np.arange(X.shape[0]) % 2
    batch = 1000
    assert batch * X.shape[1] * 8 > MEMORY_BOUND  # a densified batch could not hide under it
    model = MLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=1, batch_size=batch,
                          random_state=0)
    with warnings.catch_warnings(), bounded(f"fitting sparse X with {solver}"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        probabilities = model.predict_proba(X)
    assert probabilities.shape == (20_000, 2) and np.isfinite(probabilities).all()
    assert model.network_.layers[0].W.shape == (8, 10_000)
