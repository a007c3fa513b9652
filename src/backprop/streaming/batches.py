"""One epoch of batches from a source, shuffled within a buffer of bounded size.

See :mod:`backprop.streaming` for what the buffer does, and
:mod:`backprop.streaming.budget` for what it costs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from backprop._typing import Array, IntArray
from backprop.errors import DataError
from backprop.streaming.budget import StreamPlan, plan_rows
from backprop.streaming.sources import BatchIterable, Source

if TYPE_CHECKING:
    from backprop.network import Network


def buffer_rows(n_features: int, itemsize: int, batch_size: int,
                buffer_size: int | None, memory_budget: int | None = None) -> int:
    """The shuffle buffer's rows: ``buffer_size``, or half the memory budget of rows;
    never fewer than one batch (see :func:`backprop.streaming.budget.plan_rows`)."""
    return plan_rows(n_features, itemsize, batch_size, buffer_size=buffer_size,
                     budget=memory_budget).buffer_rows


def shuffled_batches(
    source: Source | BatchIterable,
    batch_size: int,
    *,
    buffer_size: int | None = None,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
    memory_budget: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of (X_b, y_b) batches from ``source``, shuffled within a buffer of
    ``buffer_size`` samples (None: half of ``memory_budget``, or of the source's budget) by
    ``rng`` (None: in order, unshuffled). X_b has ``dtype``."""
    dtype = np.dtype(dtype)
    budget = source.memory_budget if memory_budget is None else memory_budget
    X_buf: np.ndarray | None = None
    y_buf: np.ndarray | None = None
    fill = 0
    rows = 0

    def flush(final: bool) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        nonlocal fill
        assert X_buf is not None and y_buf is not None
        order = rng.permutation(fill) if rng is not None else np.arange(fill)
        whole = fill if final else fill - fill % batch_size
        for start in range(0, whole, batch_size):
            take = order[start:start + batch_size]
            yield X_buf[take], y_buf[take]  # gathers: copies the consumer may keep
        rest = order[whole:]
        X_buf[: rest.size] = X_buf[rest]  # the few left over mix with the next blocks
        y_buf[: rest.size] = y_buf[rest]
        fill = int(rest.size)

    for X, y in _chunks(source, batch_size, buffer_size, dtype, rng, budget):
        if X_buf is None:
            rows = plan_rows(X.shape[1], dtype.itemsize, batch_size, buffer_size=buffer_size,
                             budget=budget).buffer_rows
            known = getattr(source, "n_samples", 0)
            if known:  # never more rows than the data: one flush at the end, as before
                rows = min(rows, max(known, batch_size))
            X_buf = np.empty((rows, X.shape[1]), dtype=dtype)
            y_buf = np.empty((rows, *y.shape[1:]), dtype=y.dtype)
        assert X_buf is not None and y_buf is not None
        if X.shape[1] != X_buf.shape[1]:
            raise DataError(f"{source.where}: a batch has {X.shape[1]} features, the first "
                            f"had {X_buf.shape[1]}")
        position = 0
        while position < X.shape[0]:
            if fill == rows:  # full, and more rows to come: hand out its whole batches
                yield from flush(final=False)
            take = min(rows - fill, X.shape[0] - position)
            X_buf[fill:fill + take] = X[position:position + take]
            y_buf[fill:fill + take] = y[position:position + take]
            fill += take
            position += take
        del X, y  # the block is gone before the next one is read
    if fill:
        yield from flush(final=True)


def _chunks(source: Source | BatchIterable, batch_size: int, buffer_size: int | None,
            dtype: np.dtype[Any], rng: np.random.Generator | None, budget: int | None
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    if isinstance(source, BatchIterable):
        return source.chunks(0, None)
    plan: StreamPlan = plan_rows(source.n_features, dtype.itemsize, batch_size,
                                 buffer_size=buffer_size, budget=budget)
    return source.chunks(plan.block_rows, rng)


class StreamBatches:
    """``fit``'s batches from a source, with the interface of ``training.batching.Batches``.

    ``epoch(rng)`` reads the source through :func:`shuffled_batches`; each
    batch it yields is the slice [0, n) of the current batch, which
    ``gather`` returns checked (``net.check_inputs``, ``net.prepare_targets``),
    and whose class labels sit in ``labels[0:n]`` (so ``labels[which]`` is the
    batch's, as for in-memory batches). With ``no_single_batch`` a last batch
    of one sample joins the batch before it.
    """

    def __init__(self, net: Network, source: Source | BatchIterable, batch_size: int | None,
                 shuffle: bool, buffer_size: int | None = None,
                 no_single_batch: bool = False) -> None:
        if batch_size is None:
            raise DataError("batch_size=None (full batch) needs the data in memory; "
                             "give a batch size to stream it")
        self.net, self.source, self.shuffle = net, source, shuffle
        self.batch_size = batch_size
        self.buffer_size = source.buffer_size if buffer_size is None else buffer_size
        self.memory_budget = source.memory_budget
        self.no_single_batch = no_single_batch
        #: Samples per epoch; 0 when an iterable of batches does not say.
        self.m = getattr(source, "n_samples", 0)
        self.labels: IntArray = np.zeros(batch_size + 1, dtype=np.int64)
        self.current: tuple[Array, Array] | None = None

    def epoch(self, rng: np.random.Generator) -> Iterator[slice]:
        """The epoch's batches, read as they are asked for."""
        batches = shuffled_batches(self.source, self.batch_size, buffer_size=self.buffer_size,
                                   rng=rng if self.shuffle else None, dtype=self.net.dtype,
                                   memory_budget=self.memory_budget)
        pending = next(batches, None)
        while pending is not None:
            X, y = pending
            pending = next(batches, None)
            if self.no_single_batch and pending is not None and pending[0].shape[0] == 1:
                X, y = np.concatenate([X, pending[0]]), np.concatenate([y, pending[1]])
                pending = None
            yield self.prepare(X, y)

    def prepare(self, X: np.ndarray, y: np.ndarray) -> slice:
        n = X.shape[0]
        X_b = self.net.check_inputs(X)
        Y_b, labels = self.net.prepare_targets(y, n)
        if self.net.is_classifier:
            self.labels[:n] = labels if labels is not None else self.net.labels_of(Y_b)
        self.current = (X_b, Y_b)
        return slice(0, n)

    def gather(self, which: IntArray | slice) -> tuple[Array, Array]:
        """The batch that ``epoch`` has just read."""
        assert self.current is not None
        return self.current
