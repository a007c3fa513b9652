"""One training run of /playground: the network, its optimizer, the batch order, the record.

A step is the library's: ``net.backprop`` on the next batch, then the optimizer's
Δθ and θ ← θ − Δθ. Each pass over the training set starts with a permutation from
the network's own generator (which Dropout's masks also draw from), so the same
setup and seed repeat the same run, and an exported script can repeat it too.

Divergence: a step whose loss, update or new weights are not finite, or after which
the loss on the whole training set is above :data:`BLOWUP` times its value at the
start, is undone (weights, optimizer state, batch order) and the run pauses there.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop.datasets import Scaler
from backprop.lab.playground.data import Data, features
from backprop.lab.playground.model import (
    build_network,
    build_optimizer,
    dense_layers,
    gradient_norms,
    probe_of,
)
from backprop.lab.playground.protocol import Setup
from backprop.network import Network
from backprop.optim.rules import Optimizer

#: A training loss this many times its start value counts as diverged.
BLOWUP = 10.0
#: Steps each candidate learning rate must survive to be called stable.
STABILITY_STEPS = 40
#: Most candidate learning rates tried (each half the last).
STABILITY_TRIES = 14


@dataclass
class Divergence:
    """Where and why a run diverged, and the learning rate that would have kept it going."""

    step: int
    reason: str
    layer: int  # index among the Dense layers whose gradient norm grew most
    growth: float | None  # that norm's ratio to the step before (None: not finite)
    stable_lr: float | None

    def describe(self, n_layers: int) -> str:
        last = self.layer == n_layers - 1
        name = "the output layer" if last else f"hidden layer {self.layer + 1}"
        growth = "became non-finite" if self.growth is None else f"grew ×{self.growth:.3g}"
        text = (f"diverged at step {self.step}: {self.reason}; the gradient norm of {name} "
                f"{growth}. Rewound to step {self.step - 1}")
        if self.stable_lr is not None:
            text += f"; lr ≤ {self.stable_lr:.3g} keeps the next {STABILITY_STEPS} steps stable"
        return text + "."


class Run:
    """The training state of one experiment on its data."""

    def __init__(self, setup: Setup, data: Data, net: Network | None = None) -> None:
        self.setup = setup
        self.data = data
        self.net = net if net is not None else build_network(setup, data.n_classes)
        self.optimizer: Optimizer = build_optimizer(setup)
        self.probe = probe_of(self.net)
        scaler = self.net.metadata.get("scaler")  # a model trained by the CLI on scaled inputs
        self.scaler = Scaler.from_state(scaler) if isinstance(scaler, dict) else None
        self.X = self.inputs(data.X_train)
        self.Y, self.labels = self.targets(data.y_train)
        self.has_test = len(data.y_test) > 0
        if self.has_test:
            self.X_test = self.inputs(data.X_test)
            self.Y_test, self.labels_test = self.targets(data.y_test)
        self.steps = 0
        self.epoch = 0
        self.batches: list[np.ndarray] = []  # what is left of this pass, in order
        self.edits: list[tuple[int, int, int, int, float]] = []  # (step, layer, row, col, w)
        self.divergence: Divergence | None = None
        self.norms = [math.nan] * len(dense_layers(self.net))  # of the last step's batch
        self.start_loss = self.last_loss = self.train_loss()

    def inputs(self, points: np.ndarray) -> np.ndarray:
        """The network's checked inputs for raw points (x1, x2): the chosen features, scaled
        as the model was trained when it came with a scaler."""
        X = features(points, self.setup.features)
        if self.scaler is not None:
            X = self.scaler.transform(X)
        return self.net.check_inputs(X)

    def targets(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Target rows, and class labels for classes (also when ½ squared error fits them)."""
        Y, labels = self.net.prepare_targets(y, len(y))
        if labels is None and self.data.task == "classification":
            labels = y.astype(np.int64)
        return Y, labels

    # -- measuring ------------------------------------------------------------------------
    def sync_probe(self) -> Network:
        self.probe.params[...] = self.net.params
        return self.probe

    def train_loss(self) -> float:
        return self.sync_probe().metrics(self.X, self.Y, None)["loss"]

    def evaluate(self) -> dict[str, float | None]:
        """Loss and accuracy on both sets at the current weights (inference mode)."""
        probe = self.sync_probe()
        train = probe.metrics(self.X, self.Y, self.labels)
        test = probe.metrics(self.X_test, self.Y_test, self.labels_test) if self.has_test else {}
        return {"loss_train": train["loss"], "loss_test": test.get("loss"),
                "accuracy_train": train.get("accuracy"), "accuracy_test": test.get("accuracy")}

    def layer_gradient_norms(self) -> list[float]:
        """‖(∂L/∂W, ∂L/∂b)‖ per Dense layer of the last batch (inf where not finite)."""
        return [v if math.isfinite(v) else math.inf for v in gradient_norms(self.net)]

    # -- stepping -------------------------------------------------------------------------
    @property
    def batch_size(self) -> int:
        n = len(self.Y)
        return n if self.setup.batch_size == 0 else min(self.setup.batch_size, n)

    def next_rows(self) -> np.ndarray:
        """The next batch's rows; a new pass starts with a permutation from ``net.rng``."""
        if not self.batches:
            order = self.net.rng.permutation(len(self.Y))
            size = self.batch_size
            self.batches = [order[i:i + size] for i in range(0, len(order), size)]
        return self.batches.pop(0)

    def snapshot(self) -> dict[str, Any]:
        """Everything a step changes, to undo it."""
        state = self.optimizer.state_dict()
        return {"params": self.net.params.copy(),
                "rng": self.net.rng.bit_generator.state,  # a fresh dict at each read
                "optimizer": {**state, "arrays": {k: v.copy() for k, v in state["arrays"].items()}},
                "batches": list(self.batches), "steps": self.steps, "epoch": self.epoch,
                "norms": list(self.norms)}

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.net.params[...] = snapshot["params"]
        self.net.rng.bit_generator.state = snapshot["rng"]
        self.optimizer.load_state_dict(snapshot["optimizer"])
        self.batches = list(snapshot["batches"])
        self.steps, self.epoch = snapshot["steps"], snapshot["epoch"]
        self.norms = list(snapshot["norms"])

    def raw_step(self) -> str | None:
        """One step, θ ← θ − Δθ; why it diverged (θ and the rest then undone), or None."""
        before = self.snapshot()
        rows = self.next_rows()
        after = math.nan
        with np.errstate(all="ignore"):
            loss = self.net.backprop(self.X[rows], self.Y[rows])  # fills net.grads
            update = self.optimizer.update(self.net.params, self.net.grads)  # Δθ
            reason = None
            if not math.isfinite(loss):
                reason = "the batch loss is not finite"
            elif not np.isfinite(update).all():
                reason = "the update Δθ is not finite"
            else:
                self.net.params -= update  # θ ← θ − Δθ
                after = self.train_loss()
                if not math.isfinite(after):
                    reason = "the training loss is not finite"
                elif after > BLOWUP * self.start_loss:
                    reason = (f"the training loss {after:.4g} is over {BLOWUP:g}× "
                              f"its start value {self.start_loss:.4g}")
        norms = self.layer_gradient_norms()
        if reason is not None:
            self.restore(before)
            self.failed_norms = norms
            return reason
        self.norms = norms
        self.last_loss = after
        self.steps += 1
        if not self.batches:
            self.epoch += 1
        return None

    def step(self) -> bool:
        """One step; at a divergence the run is rewound, diagnosed, and False returned."""
        reason = self.raw_step()
        if reason is None:
            self.divergence = None
            return True
        layer, growth = self.exploded_layer()
        self.divergence = Divergence(self.steps + 1, reason, layer, growth, self.stable_lr())
        return False

    def exploded_layer(self) -> tuple[int, float | None]:
        """The Dense layer whose gradient norm grew most in the failed step, and by what ratio."""
        ratios = []
        for old, new in zip(self.norms, self.failed_norms, strict=True):
            ratios.append(math.inf if not math.isfinite(new) else new / old if old > 0 else 1.0)
        layer = int(np.argmax(ratios))
        return layer, None if math.isinf(ratios[layer]) else ratios[layer]

    # -- forks ------------------------------------------------------------------------------
    def fork(self, lr: float | None = None) -> Run:
        """An independent copy of this run at this step (optionally with another learning
        rate), sharing the read-only data arrays."""
        clone = copy.copy(self)
        clone.net = self.net.copy()
        clone.optimizer = copy.deepcopy(self.optimizer)
        clone.probe = probe_of(clone.net)
        clone.batches = list(self.batches)
        clone.edits = list(self.edits)
        if lr is not None:
            clone.setup = self.setup.model_copy(update={"lr": lr})
            clone.optimizer.lr = lr
        return clone

    def stable_lr(self) -> float | None:
        """The largest lr/2ᵏ under which the next steps from here stay finite and bounded."""
        lr = self.setup.lr
        for _ in range(STABILITY_TRIES):
            lr /= 2
            trial = self.fork(lr)
            if all(trial.raw_step() is None for _ in range(STABILITY_STEPS)):
                return lr
        return None

    # -- editing -----------------------------------------------------------------------------
    def write_weight(self, layer: int, row: int, col: int, value: float) -> None:
        """w := value for W[row, col] of a Dense layer (col = n_in: the bias b[row])."""
        dense = dense_layers(self.net)[layer]
        if col == dense.n_in:
            assert dense.b is not None
            dense.b[row] = value
        else:
            dense.W[row, col] = value

    def set_weight(self, layer: int, row: int, col: int, value: float) -> None:
        """A weight edited by hand: written, logged (a script or a replay makes it again at
        this step), and the loss it leads to taken as the run's new reference for blow-ups."""
        self.write_weight(layer, row, col, value)
        self.edits.append((self.steps, layer, row, col, value))
        self.last_loss = self.train_loss()
        self.start_loss = max(self.start_loss, self.last_loss)
