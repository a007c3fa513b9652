"""/playground's replay: a bounded ring of snapshots, and any earlier step recomputed from one.

A snapshot (weights, optimizer state, the generator's state, the rest of the pass) is
kept every ``every`` steps; when :data:`MAX_SNAPSHOTS` are held, every other one goes
and ``every`` doubles, so memory stays bounded however long the run. Going back to
step s restores the last snapshot at or before s and takes the steps in between again
(with the weight edits made on the way): the run is deterministic, so the result is
the step s the run passed through.
"""

from __future__ import annotations

from typing import Any

from backprop.lab.playground.run import Run
from backprop.lab.protocol import FieldError

#: Most snapshots held, and the first spacing between two.
MAX_SNAPSHOTS = 64
FIRST_EVERY = 10


class Replay:
    """The snapshots of one run since it started (or since its settings last changed)."""

    def __init__(self, run: Run) -> None:
        self.every = FIRST_EVERY
        self.snapshots: list[dict[str, Any]] = [run.snapshot()]

    @property
    def first(self) -> int:
        """The earliest step the run can go back to."""
        return int(self.snapshots[0]["steps"])

    def note(self, run: Run) -> None:
        """Keep a snapshot when the run reaches the next multiple of ``every``."""
        if run.steps % self.every or run.steps <= self.snapshots[-1]["steps"]:
            return
        self.snapshots.append(run.snapshot())
        if len(self.snapshots) > MAX_SNAPSHOTS:
            self.every *= 2
            self.snapshots = [self.snapshots[0]] + [
                s for s in self.snapshots[1:] if s["steps"] % self.every == 0]

    def rewind(self, run: Run, step: int) -> None:
        """Put ``run`` back at ``step`` (between :attr:`first` and its current step)."""
        if not self.first <= step <= run.steps:
            raise FieldError("step", f"the run can go back to steps {self.first} to {run.steps}, "
                             f"not {step}")
        base = max((s for s in self.snapshots if s["steps"] <= step), key=lambda s: s["steps"])
        edits = [edit for edit in run.edits if edit[0] <= step]
        run.restore(base)
        run.divergence = None
        self.apply_edits(run, edits)
        while run.steps < step:
            reason = run.raw_step()
            assert reason is None, f"a replayed step diverged: {reason}"
            self.apply_edits(run, edits)
        run.edits = edits
        run.last_loss = run.train_loss()
        self.snapshots = [s for s in self.snapshots if s["steps"] <= step]

    @staticmethod
    def apply_edits(run: Run, edits: list[tuple[int, int, int, int, float]]) -> None:
        """The weight edits made at the run's current step, again."""
        for at, layer, row, col, value in edits:
            if at == run.steps:
                run.write_weight(layer, row, col, value)
