"""/playground's replay: a bounded ring of snapshots, any earlier step recomputed from one,
and the run's latest step kept while an earlier one is shown.

A snapshot (weights, optimizer state, the generator's state, the rest of the pass) is
kept every ``every`` steps; when :data:`MAX_SNAPSHOTS` are held, every other one goes
and ``every`` doubles, so memory stays bounded however long the run. Going back to
step s restores the last snapshot at or before s and takes the steps in between again
(with the weight edits made on the way): the run is deterministic, so the result is
the step s the run passed through.

Going back keeps what came after: the latest step is held (:attr:`Replay.head`), the
slider can go anywhere between the first snapshot and it, and the run returns to it
unchanged. Only :meth:`Replay.branch` drops the steps after the one shown, so that
training goes on from there.
"""

from __future__ import annotations

from typing import Any

from backprop.lab.playground.run import Run
from backprop.lab.protocol import FieldError

#: Most snapshots held, and the first spacing between two.
MAX_SNAPSHOTS = 64
FIRST_EVERY = 10

Edit = tuple[int, int, int, int, float]


class Replay:
    """The snapshots of one run since it started (or since its settings last changed)."""

    def __init__(self, run: Run) -> None:
        self.every = FIRST_EVERY
        self.snapshots: list[dict[str, Any]] = [run.snapshot()]
        #: The latest step's state while an earlier one is shown; None at the latest step.
        self.head: dict[str, Any] | None = None

    @property
    def first(self) -> int:
        """The earliest step the run can go back to."""
        return int(self.snapshots[0]["steps"])

    @property
    def viewing(self) -> bool:
        """Whether the run shows an earlier step than the latest it reached."""
        return self.head is not None

    def latest(self, run: Run) -> int:
        """The latest step the run reached."""
        return int(self.head["steps"]) if self.head is not None else run.steps

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
        """Show ``step`` (between :attr:`first` and the latest step), keeping the latest."""
        latest = self.latest(run)
        if not self.first <= step <= latest:
            raise FieldError("step", f"the run can go back to steps {self.first} to {latest}, "
                             f"not {step}")
        if self.head is None:
            if step == run.steps:
                return
            self.head = {**run.snapshot(), "edits": list(run.edits), "last_loss": run.last_loss,
                         "divergence": run.divergence}
        if step == latest:
            self.return_to_latest(run)
            return
        timeline: list[Edit] = self.head["edits"]
        base = max((s for s in self.snapshots if s["steps"] <= step), key=lambda s: s["steps"])
        edits = [edit for edit in timeline if edit[0] <= step]
        run.restore(base)
        run.divergence = None
        self.apply_edits(run, edits)
        while run.steps < step:
            reason = run.raw_step()
            assert reason is None, f"a replayed step diverged: {reason}"
            self.apply_edits(run, edits)
        run.edits = edits
        run.last_loss = run.train_loss()

    def return_to_latest(self, run: Run) -> None:
        """The run as it was at its latest step."""
        head = self.head
        if head is None:
            return
        run.restore(head)
        run.edits = list(head["edits"])
        run.last_loss = head["last_loss"]
        run.divergence = head["divergence"]
        self.head = None

    def branch(self, run: Run) -> None:
        """Go on from the step shown: the steps after it, and their snapshots, are dropped."""
        if self.head is None:
            raise FieldError("type", f"step {run.steps} is already the latest: there is "
                             "nothing after it to drop")
        self.head = None
        self.snapshots = [s for s in self.snapshots if s["steps"] <= run.steps]

    @staticmethod
    def apply_edits(run: Run, edits: list[Edit]) -> None:
        """The weight edits made at the run's current step, again."""
        for at, layer, row, col, value in edits:
            if at == run.steps:
                run.write_weight(layer, row, col, value)
