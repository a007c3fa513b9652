"""BLAS's threads while training (backprop.blas_threads): one thread for small products,
the threads BLAS has for large ones, never more than the user allowed; and float32
estimators' predictions that do not depend on the rows predicted with them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.blas_threads import ONE_THREAD_BELOW, product_work, threads_for

threadpoolctl = pytest.importorskip("threadpoolctl", reason="the policy acts through "
                                    "threadpoolctl: pip install 'backprop-mlp[sklearn]'")


def blas_threads() -> int:
    return min(info["num_threads"] for info in threadpoolctl.threadpool_info()
               if info["user_api"] == "blas")


class ThreadsSeen(bp.Callback):
    """Records BLAS's thread count at every batch."""

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def on_batch_end(self, state: Any, logs: dict[str, float]) -> None:
        self.seen.add(blas_threads())


def test_the_size_rule_counts_float64_multiply_adds() -> None:
    # 200 rows × a 100 × 64 matrix: 1.28 million multiply-adds, one thread
    assert product_work(200, 6400, 8) == 1_280_000
    assert threads_for(200, 6400, 8) == 1
    # float32 counts half: the same product in float32 is half the work
    assert product_work(200, 6400, 4) == 640_000
    # at the threshold BLAS keeps its threads (no memory limit here)
    rows = ONE_THREAD_BELOW // 1000
    assert threads_for(rows, 1000, 8) is None
    assert threads_for(rows - 1, 1000, 8) == 1
    assert threads_for(2 * rows, 1000, 4) is None


@pytest.fixture
def two_threads() -> Any:
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        if blas_threads() < 2:
            pytest.skip("BLAS runs one thread on this machine: no policy to see")
        yield


def test_a_small_network_trains_on_one_blas_thread(two_threads: None) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(400, 20)), rng.integers(0, 3, 400)
    net = bp.Network([bp.Dense(20, 32, activation="relu"), bp.Dense(32, 3)], seed=0)
    seen = ThreadsSeen()
    net.fit(X, y, epochs=2, batch_size=50, callbacks=[seen])
    assert seen.seen == {1}
    assert blas_threads() == 2  # given back after training


def test_a_large_product_keeps_blas_threads(two_threads: None) -> None:
    rng = np.random.default_rng(0)
    # 256 rows × a 512 × 256 matrix: 33.6 million multiply-adds in float64
    X, y = rng.normal(size=(512, 256)), rng.integers(0, 2, 512)
    net = bp.Network([bp.Dense(256, 512, activation="relu"), bp.Dense(512, 2)], seed=0,
                     dtype="float64")
    seen = ThreadsSeen()
    net.fit(X, y, epochs=1, batch_size=256, callbacks=[seen])
    assert seen.seen == {2}


def test_the_user_limit_stands_for_large_products() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(512, 256)), rng.integers(0, 2, 512)
    net = bp.Network([bp.Dense(256, 512, activation="relu"), bp.Dense(512, 2)], seed=0,
                     dtype="float64")
    seen = ThreadsSeen()
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        net.fit(X, y, epochs=1, batch_size=256, callbacks=[seen])
    assert seen.seen == {1}


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_the_estimators_follow_the_same_policy(two_threads: None) -> None:
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
    from backprop.sklearn import MLPClassifier

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 30)), rng.integers(0, 2, 300)
    small = MLPClassifier(hidden_layer_sizes=(100,), max_iter=2, callbacks=[ThreadsSeen()])
    small.fit(X, y)
    X_wide = rng.normal(size=(400, 512))
    large = MLPClassifier(hidden_layer_sizes=(512,), batch_size=400, max_iter=1,
                          callbacks=[ThreadsSeen()])
    large.fit(X_wide, rng.integers(0, 2, 400))
    assert small.callbacks_[0].seen == {1}  # the fit's copy of the callback
    assert large.callbacks_[0].seen == {2}


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_float32_estimator_predicts_a_row_alike_alone_or_in_a_batch() -> None:
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
    from backprop.sklearn import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 200))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    for model in (MLPClassifier(hidden_layer_sizes=(64,), dtype="float32", max_iter=20,
                                random_state=0).fit(X, y),
                  MLPRegressor(hidden_layer_sizes=(64, 32), dtype="float32", max_iter=20,
                               random_state=0).fit(X, X[:, 0] - X[:, 2])):
        method = getattr(model, "predict_proba", model.predict)
        whole = method(X)
        assert whole.dtype == np.float64  # X's float type
        by_row = np.concatenate([method(X[i:i + 1]) for i in range(X.shape[0])])
        by_thirds = np.concatenate([method(part) for part in np.array_split(X, 3)])
        np.testing.assert_array_equal(by_row, whole)
        np.testing.assert_array_equal(by_thirds, whole)
        # after more training the copy that predicts follows the new weights
        before = method(X[:5])
        model.partial_fit(X, y if hasattr(model, "classes_") else X[:, 0] - X[:, 2])
        after = method(X[:5])
        assert not np.array_equal(before, after)
        # and stays within float32's rounding of the float32 network's own outputs
        outputs = model.network_.forward(X[:5].astype(np.float32))
        np.testing.assert_allclose(model.output_activations(X[:5]), outputs, rtol=1e-5,
                                   atol=1e-6)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_lbfgs_runs_numpys_and_scipys_blas_on_one_thread_for_a_small_network(
        two_threads: None, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
    import backprop.sklearn.base as estimator_base
    from backprop.sklearn import MLPClassifier

    seen: list[dict[str, int]] = []
    minimize = estimator_base.minimize_lbfgs

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append({info["filepath"]: info["num_threads"]
                     for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"})
        return minimize(*args, **kwargs)

    monkeypatch.setattr(estimator_base, "minimize_lbfgs", watched)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 20)), rng.integers(0, 2, 300)
    MLPClassifier(hidden_layer_sizes=(30,), solver="lbfgs", max_iter=5).fit(X, y)
    assert len(seen) == 1 and len(seen[0]) >= 1
    assert set(seen[0].values()) == {1}, seen[0]  # every BLAS loaded, SciPy's included
    assert blas_threads() == 2


def test_scipys_blas_loaded_after_a_first_fit_is_held_too() -> None:
    """In a fresh process: a fit after ``import scipy.sparse`` (SciPy, without its BLAS),
    then SciPy's BLAS loaded (scipy.linalg): a fit holds both BLAS libraries to one thread."""
    pytest.importorskip("scipy", reason="SciPy's own BLAS is what is held")
    script = """
import sys
import backprop as bp
import numpy as np
import scipy.sparse
import threadpoolctl

assert "scipy.linalg" not in sys.modules
rng = np.random.default_rng(0)
X, y = rng.normal(size=(200, 20)), rng.integers(0, 3, 200)
seen = []

class Seen(bp.Callback):
    def on_batch_end(self, state, logs):
        seen.append(sorted(info["num_threads"] for info in threadpoolctl.threadpool_info()
                           if info["user_api"] == "blas"))

with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
    bp.Network([bp.Dense(20, 16, activation="relu"), bp.Dense(16, 3)], seed=0).fit(
        X, y, epochs=1, batch_size=50)
    import scipy.linalg  # SciPy's BLAS, loaded now
    threadpoolctl.threadpool_limits(limits=2, user_api="blas")
    bp.Network([bp.Dense(20, 16, activation="relu"), bp.Dense(16, 3)], seed=0).fit(
        X, y, epochs=1, batch_size=50, callbacks=[Seen()])
print(seen[-1])
"""
    import subprocess
    import sys

    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              check=True)
    libraries = finished.stdout.strip()
    if libraries.count(",") < 1:
        pytest.skip(f"SciPy shares NumPy's BLAS library here ({libraries}): nothing to hold")
    assert libraries == "[1, 1]"
