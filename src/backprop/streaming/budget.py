"""How training on data streamed from disk spends its memory budget.

The budget B, in bytes, is ``memory_budget=`` (the command's ``--memory-budget``), else
the environment variable ``BACKPROP_MEMORY_BUDGET``, else 128 MiB. It is spent on:

- the shuffle buffer: B/2 of rows as the network trains on them (its features in the
  network's dtype and 8 bytes of target), never fewer rows than one batch;
- one block being read from disk: an eighth of the buffer's rows, so that a buffer mixes
  at least 8 blocks, with the copies that convert and scale it;
- the column statistics (for --scale), summed in blocks of 4 MiB
  (:mod:`backprop.datasets.statistics`) while the data is read a block at a time;
- one batch and the network's per-batch buffers, sized from the batch.

What is not in the budget: the targets (m numbers, read once to find the task and the
classes), the network and its optimizer, and the memory of Python, NumPy and BLAS
(whose threads :mod:`backprop.blas_threads` fits to a process memory limit).
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop.errors import OptionError
from backprop.limits import limit

#: The smallest budget accepted: below it a block of statistics alone would not fit.
SMALLEST_BUDGET = 16 << 20
#: The buffer gets 1/BUFFER_SHARE of the budget.
BUFFER_SHARE = 2
#: Blocks are at most this fraction of the buffer, so that a buffer mixes ≥ 8 blocks.
BLOCKS_PER_BUFFER = 8
#: Bytes of one sample's target counted in the buffer (a float64 or int64 label).
TARGET_BYTES = 8


def memory_budget(value: int | None = None) -> int:
    """``value`` (bytes), checked; None gives BACKPROP_MEMORY_BUDGET or its default."""
    budget = limit("BACKPROP_MEMORY_BUDGET") if value is None else value
    if isinstance(budget, bool) or not isinstance(budget, int):
        raise OptionError(f"memory budget must be a whole number of bytes, got {budget!r}")
    if budget < SMALLEST_BUDGET:
        raise OptionError(f"memory budget of {budget:,} bytes is below the smallest, "
                          f"{SMALLEST_BUDGET:,} bytes (16 MiB)")
    return budget


def show_bytes(size: int) -> str:
    """A size as people write it: "256 MiB", "1.5 GiB", "300,000 bytes"."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift:
            value = size / (1 << shift)
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size:,} bytes"


@dataclass(frozen=True)
class StreamPlan:
    """The rows of the shuffle buffer and of a block read, for one budget and data width."""

    budget: int
    buffer_rows: int
    block_rows: int


def plan_rows(n_features: int, itemsize: int, batch_size: int, *,
              buffer_size: int | None = None, budget: int | None = None) -> StreamPlan:
    """The shuffle buffer's rows (``buffer_size``, or B/2 of rows) and a block's rows (an
    eighth of them), for rows of ``n_features`` numbers of ``itemsize`` bytes."""
    budget = memory_budget(budget)
    row_bytes = max(1, n_features * itemsize + TARGET_BYTES)
    share = budget // BUFFER_SHARE
    if buffer_size is None:
        rows = max(1, share // row_bytes)
    elif isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size < 1:
        raise ValueError(f"buffer_size must be a whole number ≥ 1, got {buffer_size!r}")
    elif buffer_size * row_bytes > share:
        raise OptionError(
            f"a shuffle buffer of {buffer_size:,} samples takes "
            f"{show_bytes(buffer_size * row_bytes)}, above half the memory budget of "
            f"{show_bytes(budget)}; give a larger budget (memory_budget=, --memory-budget or "
            f"BACKPROP_MEMORY_BUDGET) or a smaller buffer")
    else:
        rows = buffer_size
    rows = max(rows, batch_size)
    return StreamPlan(budget, rows, max(1, rows // BLOCKS_PER_BUFFER))


def read_rows(n_columns: int, itemsize: int, budget: int | None = None) -> int:
    """Rows per read in a pass over the data outside training (its targets, its column
    statistics): a block of the budget's size for rows of ``n_columns`` stored numbers."""
    share = memory_budget(budget) // (BUFFER_SHARE * BLOCKS_PER_BUFFER)
    return max(1, share // max(1, n_columns * itemsize))
