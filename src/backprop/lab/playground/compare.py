"""/playground side by side: batch modes from the same initial weights, and an A/B run.

* Batch modes: online (batch 1), mini-batch and full-batch copies of the run's network
  as it was initialised, each trained for the same number of epochs; their training
  loss against epochs and against updates.
* A/B: a second run B from the same seed and data with some settings changed, kept in
  step with the page's run A; its loss curves and decision boundary are overlaid.
"""

from __future__ import annotations

import math
from typing import Any

from backprop.lab.playground.data import Data
from backprop.lab.playground.model import output_head
from backprop.lab.playground.protocol import Setup
from backprop.lab.playground.run import Run
from backprop.lab.protocol import FieldError
from backprop.network import Network

#: Most steps one batch mode may take (online learning on many points is long).
MAX_MODE_STEPS = 4000
#: Most steps B catches up in one update (after A is reset or rewound).
MAX_CATCH_UP = 400
#: Most rows of B's history.
MAX_ROWS = 400
#: Settings B may change (B trains on A's data).
COMPARABLE = ("lr", "optimizer", "activation", "activations", "init", "batch_size", "l1", "l2",
              "dropout", "layers", "features", "loss")


def batch_modes(setup: Setup, data: Data, start: Network | None, epochs: int) -> dict[str, Any]:
    """Online, mini-batch and full-batch training from the same initial weights."""
    mini = setup.batch_size if setup.batch_size > 1 else 10
    results = []
    for name, size in (("online", 1), (f"mini-batch of {mini}", mini), ("full batch", 0)):
        run = Run(setup.model_copy(update={"batch_size": size}), data,
                  None if start is None else start.copy())
        per_epoch = math.ceil(len(run.Y) / run.batch_size)
        total = min(epochs * per_epoch, MAX_MODE_STEPS)
        every = max(1, per_epoch // 10)
        rows = [[0, 0.0, run.last_loss]]
        diverged = None
        for _ in range(total):
            reason = run.raw_step()
            if reason is not None:
                diverged = f"diverged at update {run.steps + 1}: {reason}"
                break
            if run.steps % every == 0 or not run.batches:
                rows.append([run.steps, run.steps / per_epoch, run.last_loss])
        results.append({"mode": name, "batch_size": run.batch_size, "updates_per_epoch": per_epoch,
                        "rows": rows, "diverged": diverged,
                        "epochs": round(run.steps / per_epoch, 3)})
    return {"epochs": epochs, "modes": results}


def changed_setup(setup: Setup, changes: dict[str, Any], data: Data) -> Setup:
    """A's setup with B's changes, checked (only settings B can train on A's data with)."""
    for field in changes:
        if field not in COMPARABLE:
            raise FieldError(field, f"B trains on A's data: compare one of {', '.join(COMPARABLE)}")
    if not changes:
        raise FieldError("type", "name the setting B changes, e.g. {\"lr\": 0.3}")
    try:
        changed = Setup.model_validate({**setup.model_dump(), **changes})
    except ValueError as error:
        raise FieldError(next(iter(changes)), str(error).splitlines()[0]) from None
    output_head(changed, data.n_classes)
    return changed


class Comparison:
    """Run B: the page's setup with ``changes``, stepped to A's step count."""

    def __init__(self, setup: Setup, data: Data, changes: dict[str, Any]) -> None:
        self.changes = changes
        self.run = Run(changed_setup(setup, changes, data), data)
        self.rows: list[list[float | None]] = []
        self.diverged: str | None = None
        self.record()

    def catch_up(self, steps: int) -> None:
        """Step B towards A's step count (at most :data:`MAX_CATCH_UP` steps now)."""
        for _ in range(min(steps - self.run.steps, MAX_CATCH_UP)):
            if self.diverged:
                return
            reason = self.run.raw_step()
            if reason is not None:
                self.diverged = f"B diverged at step {self.run.steps + 1}: {reason}"

    def record(self) -> None:
        readouts = self.run.evaluate()
        row = [self.run.steps, readouts["loss_train"], readouts["loss_test"]]
        if self.rows and self.rows[-1][0] == self.run.steps:
            self.rows[-1] = row
        else:
            self.rows.append(row)
        if len(self.rows) > MAX_ROWS:
            self.rows = self.rows[::2]
