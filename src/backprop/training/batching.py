"""Mini-batches by index: shuffled every epoch, gathered into buffers allocated once.

``batch_size=1`` is online learning, ``batch_size = m`` full-batch gradient
descent, anything between mini-batch. The samples are shuffled with the
network's seeded generator by permuting indices; a batch is gathered into a
buffer allocated once per fit call, and the data itself never moves. Sparse X
(CSR rows, as ``Network.check_inputs`` gives it) is gathered by row index into
a small CSR batch instead, never densified.
"""

from __future__ import annotations

import numpy as np

from backprop._typing import Array, IntArray
from backprop.errors import OptionError
from backprop.validation import is_sparse

#: (X, Y, class labels or None): samples with their targets, checked.
Labelled = tuple[Array, Array, IntArray | None]


class Batches:
    """Index-gathered batches into buffers allocated once per fit call.

    With ``no_single_batch`` (a network with BatchNorm, which cannot
    normalize one sample) a last batch of one sample joins the batch before it.
    """

    def __init__(
        self, X: Array, Y: Array, batch_size: int, shuffle: bool, no_single_batch: bool = False
    ) -> None:
        self.X, self.Y = X, Y
        self.m = int(X.shape[0])
        self.batch_size = min(batch_size, self.m)
        # Shuffling a single full batch changes nothing but summation order: skip it.
        self.shuffle = shuffle and self.batch_size < self.m
        self.starts = list(range(0, self.m, self.batch_size))
        if no_single_batch and len(self.starts) > 1 and self.m - self.starts[-1] == 1:
            self.starts.pop()
        self.ends = [*self.starts[1:], self.m]
        rows = max(e - s for s, e in zip(self.starts, self.ends, strict=True))
        #: Sparse X (CSR rows) is gathered by SciPy's row indexing, a small CSR per batch.
        self.sparse = is_sparse(X)
        self.x_buffer = np.empty((0 if self.sparse else rows, X.shape[1]), dtype=X.dtype)
        self.y_buffer = np.empty((rows, Y.shape[1]), dtype=Y.dtype)

    def __len__(self) -> int:
        return len(self.starts)

    def epoch(self, rng: np.random.Generator) -> list[IntArray | slice]:
        """The batches of one epoch: index arrays when shuffling, else slices."""
        bounds = zip(self.starts, self.ends, strict=True)
        if not self.shuffle:
            return [slice(s, e) for s, e in bounds]
        order = rng.permutation(self.m)
        return [order[s:e] for s, e in bounds]

    def gather(self, which: IntArray | slice) -> tuple[Array, Array]:
        if isinstance(which, slice):
            return self.X[which], self.Y[which]  # contiguous views, no copy
        n = which.shape[0]
        X_b, Y_b = self.x_buffer[:n], self.y_buffer[:n]
        # mode="clip": a permutation's indices are in range, and NumPy then
        # writes straight into out= instead of through a bounds-checked buffer.
        if self.sparse:
            X_b = self.X[which]  # the batch's rows, still sparse
        else:
            np.take(self.X, which, axis=0, out=X_b, mode="clip")
        np.take(self.Y, which, axis=0, out=Y_b, mode="clip")
        return X_b, Y_b


def split_validation(
    X: Array, Y: Array, labels: IntArray | None, fraction: float
) -> tuple[Labelled, Labelled]:
    """(training part, validation part): the last ``fraction`` of the samples validate."""
    m = X.shape[0]
    split = int(m * (1.0 - fraction))  # Keras's split point
    if split == 0 or split == m:
        raise OptionError(
            f"validation_split={fraction} of {m} samples leaves "
            f"{'no training' if split == 0 else 'no validation'} samples"
        )

    def part(rows: slice) -> Labelled:
        return X[rows], Y[rows], None if labels is None else labels[rows]

    return part(slice(0, split)), part(slice(split, m))
