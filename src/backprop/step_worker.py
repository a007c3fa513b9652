"""A second thread for the optimizer step: the elementwise passes of one update on two cores.

NumPy runs each elementwise pass on one core. An update works block by block
(:class:`backprop.optimizer_base.Block`), and the blocks are independent, so
the blocks of one half can run in a second thread while the calling thread
runs the other half: each entry gets exactly the operations, in the same
order, that it gets on one thread, so the result is the same to the last
bit. NumPy releases the GIL inside its loops, so the two threads really run
at once.

One worker thread is started at first use and kept: starting a thread per
step would cost more than the half step it takes over.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import numpy as np


class StepWorker:
    """A persistent thread that runs one job while the caller runs another."""

    def __init__(self) -> None:
        self._go = threading.Semaphore(0)
        self._done = threading.Semaphore(0)
        self._job: Callable[[], None] | None = None
        self._error: BaseException | None = None
        #: Held while a caller uses the worker; a second caller runs alone instead.
        self.busy = threading.Lock()
        thread = threading.Thread(target=self._serve, name="backprop-step", daemon=True)
        thread.start()

    def _serve(self) -> None:
        while True:
            self._go.acquire()
            job = self._job
            try:
                if job is not None:
                    job()
            except BaseException as exc:  # handed back to the caller by run_beside
                self._error = exc
            finally:
                self._done.release()

    def run_beside(self, theirs: Callable[[], None], ours: Callable[[], None]) -> None:
        """Run ``theirs`` in the worker thread and ``ours`` here; return when both are done.

        The caller's floating-point error handling (np.errstate, which is
        per thread) applies in the worker too.
        """
        errors = np.geterr()

        def job() -> None:
            with np.errstate(**errors):
                theirs()

        self._job, self._error = job, None
        self._go.release()
        try:
            ours()
        finally:
            self._done.acquire()
            self._job = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error


_worker: StepWorker | None = None
_creating = threading.Lock()


def shared_worker() -> StepWorker:
    """The process's step worker, started at first use."""
    global _worker
    with _creating:
        if _worker is None:
            _worker = StepWorker()
        return _worker


def _forget_worker() -> None:
    """After fork the child has no worker thread: the next use starts one."""
    global _worker, _creating
    _worker, _creating = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_worker)
