"""Sane limits on sizes, checked before anything is allocated.

A file's header, a model file's architecture or an option can claim any
size; each is checked against these limits first, and the error names the
limit hit. Each is overridable by an environment variable of the same name
for a user who truly needs more:

* ``BACKPROP_MAX_ARRAY_BYTES``: the largest array a file may declare for loading into
  memory (2 GiB); a file streamed from disk (memory-mapped or read by window) may be of
  any size.
* ``BACKPROP_MAX_FILE_BYTES``: the largest text or image file read whole (256 MiB).
* ``BACKPROP_MAX_UNITS``: the widest layer (1,000,000 units).
* ``BACKPROP_MAX_PARAMETERS``: the most parameters of one network (500 million).
* ``BACKPROP_MAX_LAYERS``: the most layers of one network (1,000).
* ``BACKPROP_MAX_PIXELS``: the largest image decoded (16 megapixels).
* ``BACKPROP_MAX_EPOCHS``: the most epochs a command or config may ask for (1,000,000).

One more is a budget rather than a limit: ``BACKPROP_MEMORY_BUDGET``, the bytes that
training on data streamed from disk may hold at once (128 MiB): its shuffle buffer, the
block being read, the statistics being summed (:mod:`backprop.streaming.budget`).
"""

from __future__ import annotations

import math
import os

from backprop.errors import OptionError

#: name → default; :func:`limit` reads the environment variable of that name first.
LIMITS: dict[str, int] = {
    "BACKPROP_MAX_ARRAY_BYTES": 2 << 30,
    "BACKPROP_MAX_FILE_BYTES": 256 << 20,
    "BACKPROP_MAX_UNITS": 1_000_000,
    "BACKPROP_MAX_PARAMETERS": 500_000_000,
    "BACKPROP_MAX_LAYERS": 1_000,
    "BACKPROP_MAX_PIXELS": 16_000_000,
    "BACKPROP_MAX_EPOCHS": 1_000_000,
    "BACKPROP_MEMORY_BUDGET": 128 << 20,
}


def limit(name: str) -> int:
    """The limit ``name`` of :data:`LIMITS`, or the positive integer its variable gives."""
    value = os.environ.get(name)
    if value is None:
        return LIMITS[name]
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise OptionError(f"environment variable {name}={value!r} must be a positive integer")
    return number


def above_limit(what: str, value: int, name: str) -> str | None:
    """The one-line complaint when ``value`` exceeds the limit ``name``, else None."""
    most = limit(name)
    if value <= most:
        return None
    return f"{what} is {value:,}, above the limit of {most:,} ({name})"


def enforce_limit(what: str, value: int, name: str) -> None:
    """An OptionError with :func:`above_limit`'s line when ``value`` exceeds the limit ``name``."""
    problem = above_limit(what, value, name)
    if problem:
        raise OptionError(problem)


def enforce_array_limit(what: str, shape: tuple[int, ...], itemsize: int) -> None:
    """An OptionError naming ``what`` when an array of ``shape`` (``itemsize`` bytes an
    entry) would exceed ``BACKPROP_MAX_ARRAY_BYTES``: checked before it is allocated."""
    nbytes = math.prod(shape) * itemsize
    most = limit("BACKPROP_MAX_ARRAY_BYTES")
    if nbytes > most:
        raise OptionError(
            f"{what} asks for arrays of shape {shape} ({nbytes:,} bytes), above the limit "
            f"of {most:,} bytes (BACKPROP_MAX_ARRAY_BYTES)"
        )


def out_of_memory(what: str, error: MemoryError) -> str:
    """The one line for a MemoryError met while ``what`` was read or allocated: the size
    NumPy could not allocate, when it says."""
    detail = str(error).strip()
    return f"{what}: not enough memory" + (f" ({detail})" if detail else "")
