"""The data each job trains on: MNIST via backprop.datasets, or a synthetic stand-in.

Synthetic data has MNIST's shapes (60,000 x 784 train, 10,000 test, pixels
uniform in [0, 1]); class labels come from a fixed random linear teacher, so
test accuracy means something. The binary task labels MNIST digits ">= 5";
on synthetic data it labels the sign of a fixed random linear teacher
(teacher logit 0 > logit 1), since "argmax >= 5" of a linear teacher is a
hard, noisy target there. The regression target is a fixed random tanh teacher of the pixels
(standardized). Everything is seeded: every system sees the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.workloads import Workload

N_TRAIN = 60_000
N_TEST = 10_000
N_INPUTS = 784
N_CLASSES = 10
SEED = 0
_CHUNK = 10_000

SYNTHETIC_NOTE = (
    "synthetic: MNIST-shaped random pixels U[0,1]; class = argmax of a fixed random "
    "linear teacher (binary task: teacher logit 0 > logit 1; regression: a fixed random "
    "tanh teacher)"
)
MNIST_NOTE = "MNIST from backprop.datasets.load_mnist()"


@dataclass
class Dataset:
    """Train and test arrays in the workload's dtype.

    X: (m, 784). y: int64 (m,) class labels for "multiclass"; (m, 1) floats
    of 0/1 for "binary" and of target values for "regression".
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str
    note: str


def mnist_problem() -> str | None:
    """Why MNIST cannot be used here, or None when backprop.datasets.load_mnist works."""
    try:
        from backprop.datasets import load_mnist
    except Exception as exc:
        return f"backprop.datasets not available ({type(exc).__name__}: {exc})"
    try:
        load_mnist()
    except Exception as exc:
        return f"load_mnist() failed ({type(exc).__name__}: {exc})"
    return None


def _into(dtype: np.dtype, arrays: list[np.ndarray]) -> np.ndarray:
    """Concatenate float32 chunks into one array of ``dtype`` without a float64 detour."""
    out = np.empty((sum(len(a) for a in arrays), arrays[0].shape[1]), dtype=dtype)
    i = 0
    for a in arrays:
        out[i : i + len(a)] = a
        i += len(a)
    return out


def _synthetic(n_train: int, n_test: int, dtype: np.dtype, binary: bool) -> tuple[np.ndarray, ...]:
    """Uniform pixels and teacher labels; pixels drawn in float32 chunks."""
    rng = np.random.default_rng(SEED)
    teacher = rng.standard_normal((N_INPUTS, N_CLASSES)).astype(np.float32)
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for n in (n_train, n_test):
        xs, ys = [], []
        for start in range(0, n, _CHUNK):
            x = rng.random((min(_CHUNK, n - start), N_INPUTS), dtype=np.float32)
            logits = (x - 0.5) @ teacher
            y = logits[:, 0] > logits[:, 1] if binary else np.argmax(logits, axis=1)
            ys.append(y.astype(np.int64))
            xs.append(x)
        parts.append((_into(dtype, xs), np.concatenate(ys)))
    (X_train, y_train), (X_test, y_test) = parts
    return X_train, y_train, X_test, y_test


def _mnist(n_train: int, n_test: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
    """MNIST from the library's loader, cut to size and cast to ``dtype``."""
    from backprop.datasets import load_mnist

    ds = load_mnist()
    X_train = np.ascontiguousarray(ds.X_train[:n_train], dtype=dtype)
    X_test = np.ascontiguousarray(ds.X_test[:n_test], dtype=dtype)
    y_train = np.asarray(ds.y_train[:n_train], dtype=np.int64)
    y_test = np.asarray(ds.y_test[:n_test], dtype=np.int64)
    return X_train, y_train, X_test, y_test


def _regression_target(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, ...]:
    """y = u · tanh(standardized projections of X), standardized on the train set."""
    rng = np.random.default_rng(SEED + 1)
    V = rng.standard_normal((X_train.shape[1], 32)).astype(np.float32)
    u = rng.standard_normal(32).astype(np.float32)
    mu = X_train.mean(axis=0, dtype=np.float64).astype(np.float32)

    def project(X: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [(X[i : i + _CHUNK].astype(np.float32) - mu) @ V for i in range(0, len(X), _CHUNK)]
        )

    P_train, P_test = project(X_train), project(X_test)
    scale = P_train.std(axis=0) + 1e-6
    t_train = np.tanh(P_train / scale) @ u
    t_test = np.tanh(P_test / scale) @ u
    m, s = t_train.mean(), t_train.std()
    return (t_train - m) / s, (t_test - m) / s


def load(workload: Workload, source: str, n_train: int = N_TRAIN, n_test: int = N_TEST) -> Dataset:
    """The workload's data from ``source`` ("mnist" or "synthetic")."""
    dtype = np.dtype(workload.dtype)
    if source == "mnist":
        X_train, y_train, X_test, y_test = _mnist(n_train, n_test, dtype)
        note = MNIST_NOTE
    else:
        binary = workload.task == "binary"
        X_train, y_train, X_test, y_test = _synthetic(n_train, n_test, dtype, binary)
        note = SYNTHETIC_NOTE
    if workload.task == "binary":
        if source == "mnist":
            y_train, y_test = y_train >= 5, y_test >= 5
        y_train = y_train.astype(dtype).reshape(-1, 1)
        y_test = y_test.astype(dtype).reshape(-1, 1)
    elif workload.task == "regression":
        t_train, t_test = _regression_target(X_train, X_test)
        y_train = t_train.astype(dtype).reshape(-1, 1)
        y_test = t_test.astype(dtype).reshape(-1, 1)
    return Dataset(X_train, y_train, X_test, y_test, source, note)
