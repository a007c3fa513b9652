"""``verbose=True``: scikit-learn's lines, or a rich progress bar on a terminal.

Off a terminal, or without rich (the ``cli`` extra), the estimators print
what scikit-learn's MLP prints, one line per epoch:

    Iteration 1, loss = 0.69314718
    Validation score: 0.916667          (with early_stopping)

On a terminal with rich installed, one bar over the epochs (max_iter) shows
the loss and the validation score instead. Either is a
:class:`~backprop.Callback` of the fit's :class:`~backprop.sklearn.monitoring.CallbackRun`;
``note`` prints a line beside it (why training stopped).
"""

from __future__ import annotations

import sys
from typing import Any

from backprop.training.callbacks import Callback, TrainingState


class IterationLines(Callback):
    """scikit-learn's verbose lines: the loss of each epoch, then its validation score."""

    def __init__(self, score_key: str) -> None:
        self.score_key = score_key  # the epoch logs' key of the validation score

    def on_epoch_end(self, state: TrainingState, logs: dict[str, float]) -> None:
        print(f"Iteration {state.epoch}, loss = {logs['loss']:.8f}")
        if self.score_key in logs:
            print(f"Validation score: {logs[self.score_key]:f}")

    def note(self, text: str) -> None:
        print(text)

    def close(self) -> None:
        """Nothing to release."""


class ProgressBar(Callback):
    """A rich progress bar over the run's epochs, on ``console`` (a ``rich.console.Console``)."""

    def __init__(self, console: Any, score_key: str) -> None:
        self.console = console
        self.score_key = score_key
        self._bar: Any = None
        self._task: Any = None

    def on_train_begin(self, state: TrainingState) -> None:
        import rich.progress as rp

        self._bar = rp.Progress(
            rp.TextColumn("epoch"), rp.BarColumn(), rp.MofNCompleteColumn(),
            rp.TextColumn("{task.fields[stats]}"), rp.TimeElapsedColumn(),
            console=self.console,
        )
        self._bar.start()
        self._task = self._bar.add_task("fit", total=state.epochs, stats="")

    def on_epoch_end(self, state: TrainingState, logs: dict[str, float]) -> None:
        stats = f"loss {logs['loss']:.6f}"
        if self.score_key in logs:
            stats += f"  validation score {logs[self.score_key]:.4f}"
        if self._bar is not None:
            self._bar.update(self._task, completed=state.epoch, stats=stats)

    def on_train_end(self, state: TrainingState) -> None:
        self.close()

    def note(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        """Stop the bar (its last state stays on the terminal)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def terminal_console() -> Any:
    """A rich Console on stdout when stdout is a terminal and rich is installed, else None."""
    if not sys.stdout.isatty():
        return None
    try:
        from rich.console import Console
    except ImportError:
        return None
    return Console(file=sys.stdout)


def verbose_progress(score_key: str) -> IterationLines | ProgressBar:
    """What ``verbose=True`` shows: a rich bar on a terminal, else scikit-learn's lines."""
    console = terminal_console()
    return IterationLines(score_key) if console is None else ProgressBar(console, score_key)
