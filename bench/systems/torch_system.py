"""PyTorch (CPU) in its fastest ordinary use: index-slice batching, Adam default or fused."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.data import Dataset
from bench.workloads import Workload


def problem() -> str | None:
    """Why torch cannot run here, or None."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        return f"torch not importable ({exc})"
    return None


def _init(weight: Any, name: str) -> None:
    """Initialize a (n_out, n_in) weight with the scheme backprop calls ``name``."""
    import math

    import torch.nn as nn

    n_in = weight.shape[1]
    if name in ("he", "he_normal"):
        nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="relu")  # N(0, 2/n_in)
    elif name == "he_uniform":
        nn.init.kaiming_uniform_(weight, mode="fan_in", nonlinearity="relu")  # U(±√(6/n_in))
    elif name in ("xavier_uniform", "glorot_uniform"):
        nn.init.xavier_uniform_(weight)
    elif name in ("xavier_normal", "glorot_normal"):
        nn.init.xavier_normal_(weight)
    elif name in ("lecun", "lecun_normal"):
        nn.init.normal_(weight, 0.0, math.sqrt(1.0 / n_in))
    elif name == "lecun_uniform":
        nn.init.uniform_(weight, -math.sqrt(3.0 / n_in), math.sqrt(3.0 / n_in))
    elif name == "small_random":
        nn.init.normal_(weight, 0.0, 0.01)
    else:
        raise ValueError(f"no torch equivalent for init {name!r}")


class TorchTrainer:
    """nn.Sequential of Linear + activation; the output activation lives in the loss."""

    def __init__(self, workload: Workload, data: Dataset, threads: int, fused: bool) -> None:
        import torch
        import torch.nn as nn

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.torch = torch
        self.version = torch.__version__
        self.task = workload.task
        self.batch_size = workload.batch_size
        dtype = torch.float64 if workload.dtype == "float64" else torch.float32
        hidden = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[
            workload.hidden_activation
        ]
        mods: list[nn.Module] = []
        pairs = list(zip(workload.sizes[:-1], workload.sizes[1:], strict=True))
        for i, (n_in, n_out) in enumerate(pairs):
            lin = nn.Linear(n_in, n_out, dtype=dtype)
            _init(lin.weight, workload.init)
            nn.init.zeros_(lin.bias)
            mods.append(lin)
            if i < len(pairs) - 1:
                mods.append(hidden())
        self.model = nn.Sequential(*mods)
        params = self.model.parameters()
        if workload.optimizer == "adam":
            self.opt = torch.optim.Adam(params, lr=workload.lr, fused=fused or None)
        else:
            self.opt = torch.optim.SGD(
                params, lr=workload.lr, momentum=workload.momentum, fused=fused or None
            )
        if workload.task == "multiclass":
            self.loss_fn: Any = nn.CrossEntropyLoss()  # softmax + cross-entropy, batch mean
        elif workload.task == "binary":
            self.loss_fn = nn.BCEWithLogitsLoss()  # sigmoid + BCE; one output, batch mean
        else:
            # backprop's mse: ½ Σ_k (a_k − y_k)² per sample, mean over the batch
            self.loss_fn = lambda out, y: 0.5 * ((out - y) ** 2).sum(1).mean()
        self.X = torch.from_numpy(data.X_train)  # shares memory with the array
        self.y = torch.from_numpy(data.y_train)
        self.gen = torch.Generator().manual_seed(0)
        self.notes = [
            f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
            f"{type(self.opt).__name__}({'fused=True' if fused else 'default'})"
        ]

    def train_epoch(self, start: int, stop: int) -> None:
        """Random permutation of the rows, then X[idx] slices of batch_size."""
        torch = self.torch
        model, opt, loss_fn, X, y = self.model, self.opt, self.loss_fn, self.X, self.y
        perm = torch.randperm(stop - start, generator=self.gen) + start
        bs = self.batch_size
        model.train()
        for i in range(0, stop - start, bs):
            idx = perm[i : i + bs]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            opt.step()

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels (argmax, or logit > 0 for binary) or values."""
        torch = self.torch
        with torch.inference_mode():
            out = self.model(torch.from_numpy(X))
            if self.task == "multiclass":
                out = out.argmax(1)
            elif self.task == "binary":
                out = (out > 0).to(out.dtype)
        return out.numpy()

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float | None:
        """None: computed from predict."""
        return None


def make_trainer(workload: Workload, data: Dataset, threads: int, fused: bool) -> TorchTrainer:
    """A torch trainer for the workload."""
    return TorchTrainer(workload, data, threads, fused)
