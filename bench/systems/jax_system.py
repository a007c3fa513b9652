"""JAX (CPU) with one jitted training step: value_and_grad, then Adam or SGD written out.

The optimizers are written as backprop's and torch.optim's are (Adam with ε
added to √v̂ and the bias corrections of step t; SGD momentum with buf = g
at the first step, which buf ← μ buf + g from buf = 0 gives). The training
data lives on the device; each step gathers its batch inside the jitted
function from the epoch's permutation. Every shape a run will meet (the full
batch, the last smaller one, inference on the test set) is compiled during
setup, outside the timed epochs.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from bench.data import Dataset
from bench.workloads import Workload


def _limit_threads(threads: int) -> str:
    """Keep XLA to ``threads`` cores; call before jax is imported. Returns how, for the notes.

    XLA has no thread-count setting for its CPU client: it sizes its pool by
    the cores this process may run on. Where more than ``threads`` are
    schedulable, the process is pinned to the first ``threads`` of them.
    """
    if not hasattr(os, "sched_getaffinity"):
        return "all cores (no CPU affinity here)"
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) > threads:
        os.sched_setaffinity(0, cores[:threads])
        return f"pinned to cores {cores[:threads]}"
    return f"{len(cores)} schedulable cores"


def problem() -> str | None:
    """Why jax cannot run here, or None."""
    try:
        import jax  # noqa: F401
    except ImportError as exc:
        return f"jax not importable ({exc}); pip install 'backprop-mlp[peers]'"
    return None


def _init_weight(rng: np.random.Generator, n_in: int, n_out: int, name: str) -> np.ndarray:
    """A (n_out, n_in) weight drawn with the scheme backprop calls ``name``."""
    if name in ("he", "he_normal"):
        return rng.normal(0.0, math.sqrt(2.0 / n_in), (n_out, n_in))
    if name == "he_uniform":
        limit = math.sqrt(6.0 / n_in)
        return rng.uniform(-limit, limit, (n_out, n_in))
    if name in ("xavier_uniform", "glorot_uniform"):
        limit = math.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-limit, limit, (n_out, n_in))
    if name in ("xavier_normal", "glorot_normal"):
        return rng.normal(0.0, math.sqrt(2.0 / (n_in + n_out)), (n_out, n_in))
    if name in ("lecun", "lecun_normal"):
        return rng.normal(0.0, math.sqrt(1.0 / n_in), (n_out, n_in))
    if name == "small_random":
        return rng.normal(0.0, 0.01, (n_out, n_in))
    raise ValueError(f"no jax equivalent written for init {name!r}")


class JaxTrainer:
    """A list of (W, b) per layer, a jitted step per batch size, a jitted predict."""

    def __init__(self, workload: Workload, data: Dataset, threads: int) -> None:
        cores = _limit_threads(threads)
        import jax

        if workload.dtype == "float64":
            jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        self.version = jax.__version__
        self.task = workload.task
        self.hidden_activation = workload.hidden_activation
        self.batch_size = workload.batch_size
        dtype = np.dtype(workload.dtype)
        rng = np.random.default_rng(0)
        pairs = list(zip(workload.sizes[:-1], workload.sizes[1:], strict=True))
        self.params = [
            (
                jnp.asarray(_init_weight(rng, n_in, n_out, workload.init).astype(dtype)),
                jnp.zeros(n_out, dtype),
            )
            for n_in, n_out in pairs
        ]
        self.X = jax.device_put(data.X_train)
        y = data.y_train if workload.task != "multiclass" else data.y_train.astype(np.int32)
        self.y = jax.device_put(y)
        self.perm_rng = np.random.default_rng(0)
        self.opt_state = self._init_state(workload)
        self._step = self._make_step(workload)
        self._predict = jax.jit(self._forward_labels)
        self._compile(workload, data)
        self.notes = [
            f"jax {jax.__version__} (CPU, {cores}): "
            "one jitted step (value_and_grad, then Adam/SGD written out), batches gathered "
            "on the device from a permutation per epoch, compiled before the timed epochs"
        ]

    # -- the model ------------------------------------------------------------
    def _hidden(self, z: Any) -> Any:
        jnp = self.jnp
        kind = self.hidden_activation
        if kind == "relu":
            return jnp.maximum(z, 0)
        if kind == "tanh":
            return jnp.tanh(z)
        return self.jax.nn.sigmoid(z)

    def _logits(self, params: list[tuple[Any, Any]], X: Any) -> Any:
        a = X
        for i, (W, b) in enumerate(params):
            a = a @ W.T + b  # z = a W^T + b, batch rows
            if i < len(params) - 1:
                a = self._hidden(a)
        return a

    def _loss(self, params: list[tuple[Any, Any]], X: Any, y: Any) -> Any:
        """The batch mean of the workload's loss, the output activation folded in."""
        jax, jnp = self.jax, self.jnp
        out = self._logits(params, X)
        if self.task == "multiclass":  # softmax + cross-entropy
            logp = jax.nn.log_softmax(out)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
        if self.task == "binary":  # sigmoid + binary cross-entropy, from the logit
            return jnp.mean(jax.nn.softplus(out) - y * out)
        return 0.5 * jnp.mean(jnp.sum((out - y) ** 2, axis=1))  # ½ Σ_k (a_k − y_k)², mean

    def _forward_labels(self, params: list[tuple[Any, Any]], X: Any) -> Any:
        out = self._logits(params, X)
        if self.task == "multiclass":
            return self.jnp.argmax(out, axis=1)
        if self.task == "binary":
            return (out > 0).astype(out.dtype)
        return out

    # -- the optimizer --------------------------------------------------------
    def _init_state(self, workload: Workload) -> Any:
        jnp = self.jnp
        zeros = [(jnp.zeros_like(W), jnp.zeros_like(b)) for W, b in self.params]
        if workload.optimizer == "adam":  # m, v and the step count t, kept on the device
            second = [(jnp.zeros_like(W), jnp.zeros_like(b)) for W, b in self.params]
            return (zeros, second, jnp.zeros((), self.params[0][0].dtype))
        if workload.optimizer == "momentum":
            return zeros
        return ()

    def _make_step(self, workload: Workload) -> Any:
        jax, jnp = self.jax, self.jnp
        tree = jax.tree_util
        lr, mu = workload.lr, workload.momentum
        b1, b2, eps = 0.9, 0.999, 1e-8
        grad_fn = jax.value_and_grad(self._loss)

        def step(params: Any, state: Any, X: Any, y: Any, perm: Any, i: Any, size: int) -> Any:
            rows = jax.lax.dynamic_slice_in_dim(perm, i, size)  # this batch's rows
            loss, g = grad_fn(params, X[rows], y[rows])
            if workload.optimizer == "adam":
                m, v, t = state
                t = t + 1
                m = tree.tree_map(lambda m_, g_: b1 * m_ + (1 - b1) * g_, m, g)
                v = tree.tree_map(lambda v_, g_: b2 * v_ + (1 - b2) * g_ * g_, v, g)
                c1, c2 = 1 - b1**t, 1 - b2**t

                def move(w: Any, m_: Any, v_: Any) -> Any:
                    # w − η m̂ / (√v̂ + ε)
                    return w - lr * (m_ / c1) / (jnp.sqrt(v_ / c2) + eps)

                return tree.tree_map(move, params, m, v), (m, v, t), loss
            if workload.optimizer == "momentum":
                buf = tree.tree_map(lambda b_, g_: mu * b_ + g_, state, g)
                return tree.tree_map(lambda w, b_: w - lr * b_, params, buf), buf, loss
            return tree.tree_map(lambda w, g_: w - lr * g_, params, g), state, loss

        return jax.jit(step, donate_argnums=(0, 1), static_argnames=("size",))

    def _compile(self, workload: Workload, data: Dataset) -> None:
        """Run every step shape once on copies of the parameters, and predict once."""
        jax, jnp = self.jax, self.jnp
        n = len(data.X_train)
        k = min(workload.epoch_samples or n, n)
        sizes = {min(self.batch_size, k), k % self.batch_size} - {0}
        perm = jnp.arange(k, dtype=jnp.int32)
        for size in sizes:
            copies = jax.tree_util.tree_map(jnp.copy, (self.params, self.opt_state))
            out = self._step(*copies, self.X, self.y, perm, jnp.int32(0), size=size)
            jax.block_until_ready(out)
        jax.block_until_ready(self._predict(self.params, jnp.asarray(data.X_test)))

    def train_epoch(self, start: int, stop: int) -> None:
        """A permutation of rows start:stop, then one jitted step per batch."""
        jax, jnp = self.jax, self.jnp
        k, bs = stop - start, self.batch_size
        perm = jnp.asarray((self.perm_rng.permutation(k) + start).astype(np.int32))
        params, state, step, X, y = self.params, self.opt_state, self._step, self.X, self.y
        for i in range(0, k, bs):
            size = min(bs, k - i)
            params, state, _ = step(params, state, X, y, perm, np.int32(i), size=size)
        self.params, self.opt_state = jax.block_until_ready((params, state))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels (argmax, or logit > 0 for binary) or values."""
        return np.asarray(self._predict(self.params, self.jnp.asarray(X)))

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float | None:
        """None: computed from predict."""
        return None


def make_trainer(workload: Workload, data: Dataset, threads: int) -> JaxTrainer:
    """A jax trainer for the workload."""
    return JaxTrainer(workload, data, threads)
