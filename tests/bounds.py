"""A bound on what a block of a hostile-input test may take: memory at its peak, and time."""

from __future__ import annotations

import contextlib
import signal
import tracemalloc
from collections.abc import Iterator

#: Most bytes one hostile case may allocate at its peak (tracemalloc sees NumPy's buffers).
MEMORY_BOUND = 64 << 20
#: Seconds after which a case counts as hung.
HANG_SECONDS = 20


@contextlib.contextmanager
def bounded(what: str = "a reader") -> Iterator[None]:
    """Fail when the block allocates more than MEMORY_BOUND or runs past HANG_SECONDS;
    ``what`` names the block in the failure."""

    def hung(signum: int, frame: object) -> None:
        raise AssertionError(f"{what} ran past {HANG_SECONDS} s: it hangs")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_SECONDS)
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
        assert peak < MEMORY_BOUND, f"{what} allocated {peak:,} bytes"
    finally:
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
