"""The processor as Linux describes it in /proc/cpuinfo, for what depends on it.

Two things do: the passes built ahead of time are named for the processor they were built
on (:mod:`backprop.prebuilt`), and OpenBLAS's kernels are chosen for it before NumPy loads
them (:mod:`backprop.blas_kernels`). Both read the first processor's lines; the machine's
other processors are the same model.
"""

from __future__ import annotations

import functools


@functools.cache
def first_processor() -> str | None:
    """The first processor's lines of /proc/cpuinfo; None where there is no such file
    (not Linux) or it cannot be read."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            return cpuinfo.read().split("\n\n")[0]
    except OSError:
        return None


def fields(description: str | None) -> dict[str, str]:
    """The "name : value" lines of a processor's description, by name ("vendor_id",
    "cpu family", "flags", ...); empty for None."""
    named: dict[str, str] = {}
    for line in (description or "").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            named[name.strip()] = value.strip()
    return named
