"""One training run of /playground: the network, its optimizer, the batch order, the record.

A step is the library's: ``net.backprop`` on the next batch (with L1, λ₁·sign(θ)
added to ∂L/∂θ), then the optimizer's Δθ and θ ← θ − Δθ. Each pass over the
training set starts with a permutation from the network's own generator (which
Dropout's masks also draw from), so the same setup and seed repeat the same run,
and an exported script can repeat it too.

Divergence: a step whose loss, update or new weights are not finite, or after which
the loss on the whole training set is above :data:`BLOWUP` times its value at the
start, is undone (weights, optimizer state, batch order) and the run pauses there. The
diagnosis names the layer whose gradient norm grew most and suggests the largest halving
of lr under which the next steps, tried on a copy, lower the training loss.
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
#: Steps each candidate learning rate is tried for, and the most candidates (each half the
#: last) tried.
STABILITY_STEPS = 40
STABILITY_TRIES = 14
#: A gradient norm this many times the step before's is said to have grown.
GREW = 1.1


@dataclass
class Divergence:
    """Where and why a run diverged, the layer to look at, and the learning rate to try."""

    step: int
    reason: str
    lr: float  # the learning rate it diverged with
    layer: int  # index among the Dense layers (see :meth:`Run.diagnose`)
    norm: float | None  # that layer's gradient norm in the failed step (None: not finite)
    growth: float | None  # its ratio to the step before (None: no step before, or not finite)
    suggested_lr: float | None

    def describe(self, n_layers: int) -> str:
        last = self.layer == n_layers - 1
        name = "the output layer" if last else f"hidden layer {self.layer + 1}"
        if self.norm is None:
            why = f"the gradient norm of {name} became non-finite"
        elif self.growth is None:
            why = f"the largest gradient norm was {name}'s, {self.norm:.3g}"
        elif self.growth >= GREW:
            why = f"the gradient norm of {name} grew ×{self.growth:.3g} in that step"
        else:
            why = (f"no layer's gradient norm grew (the largest, {name}'s, was "
                   f"{self.norm:.3g}): the step lr·g was too long for this loss surface")
        text = (f"diverged at step {self.step}: {self.reason}; {why}. "
                f"Rewound to step {self.step - 1}")
        if self.suggested_lr is not None:
            text += (f"; lr {self.suggested_lr:.3g} lowers the training loss over the next "
                     f"{STABILITY_STEPS} steps")
        return text + "."

    def advice(self) -> str:
        """What to do before playing again."""
        lower = ("lower lr" if self.suggested_lr is None
                 else f"lower lr (to {self.suggested_lr:.3g}, marked on the slider)")
        return (f"the run diverged at step {self.step} with lr {self.lr:.3g}: {lower}, change "
                "another setting, rewind or reset, then play")


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
        self.failed_norms: list[float] = []  # of a step that diverged, before it was undone
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
            if self.setup.l1:
                self.net.grads += self.setup.l1 * np.sign(self.net.params)  # L1: λ₁·sign(θ)
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
        layer, norm, growth = self.diagnose()
        self.divergence = Divergence(self.steps + 1, reason, self.setup.lr, layer, norm, growth,
                                     self.suggested_lr())
        return False

    def diagnose(self) -> tuple[int, float | None, float | None]:
        """(layer, its gradient norm, its growth) of the failed step: the first layer whose norm
        is not finite; else, after a step, the one whose norm grew most; else the largest."""
        new = self.failed_norms
        for layer, norm in enumerate(new):
            if not math.isfinite(norm):
                return layer, None, None
        if self.steps == 0 or not all(math.isfinite(v) and v > 0 for v in self.norms):
            layer = int(np.argmax(new))
            return layer, new[layer], None
        ratios = [n / o for n, o in zip(new, self.norms, strict=True)]
        layer = int(np.argmax(ratios))
        return layer, new[layer], ratios[layer]

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

    def suggested_lr(self) -> float | None:
        """The largest lr/2ᵏ (k ≥ 1) under which the next :data:`STABILITY_STEPS` steps from
        here, tried on a copy, stay finite and bounded and end with a lower training loss."""
        start = self.train_loss()
        lr = self.setup.lr
        for _ in range(STABILITY_TRIES):
            lr /= 2
            trial = self.fork(lr)
            if all(trial.raw_step() is None for _ in range(STABILITY_STEPS)) \
                    and trial.last_loss < start:
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
