"""OpenBLAS's kernels for this processor, chosen before NumPy loads them.

OpenBLAS, as NumPy bundles it, carries kernels for many processors and picks one set when
NumPy loads it, from the instruction sets the processor reports: with AVX-512 it takes
its SkylakeX kernels. AMD's Zen 4 runs AVX-512 instructions through 256-bit units, and
there the engine's products run faster on OpenBLAS's AVX2 kernels, the "Haswell" set
(measured in alternating processes: bench/reported/blas-kernels.md).

:func:`kernels_before_numpy` runs when ``backprop`` is imported: on a Zen 4 processor (AMD
family 19h with AVX-512), when NumPy is not loaded yet and OPENBLAS_CORETYPE is not set, it
sets OPENBLAS_CORETYPE=Haswell, which the processes it starts inherit. The ``backprop``
command is always in this case. A program that imports NumPy before ``backprop`` keeps
OpenBLAS's own choice; setting OPENBLAS_CORETYPE=Haswell in its environment makes the
same one.

Kernels of another set add up a product's terms in another order, so the products differ
in their last bits from those of OpenBLAS's own choice. A seeded run repeats bit for bit
with the same kernels: on one machine, a program that imports ``backprop`` first (or sets
the variable) always gets the same ones.
"""

from __future__ import annotations

import os
import sys

from backprop.processor import fields, first_processor

#: The variable by which OpenBLAS is told which processor's kernels to use.
CORETYPE_VARIABLE = "OPENBLAS_CORETYPE"
#: OpenBLAS's AVX2 kernels.
AVX2_KERNELS = "Haswell"


def prefers_avx2_kernels(description: str | None) -> bool:
    """Whether OpenBLAS's AVX2 kernels beat its AVX-512 ones on the processor described by
    ``description`` (/proc/cpuinfo's lines): AMD's family 19h with AVX-512, Zen 4."""
    named = fields(description)
    return (named.get("vendor_id") == "AuthenticAMD" and named.get("cpu family") == "25"
            and "avx512f" in named.get("flags", "").split())


#: What :func:`kernels_before_numpy` set in this process's environment (None: nothing).
chosen: str | None = None


def kernels_before_numpy() -> str | None:
    """On a processor that :func:`prefers_avx2_kernels`, before NumPy is loaded, with no
    kernels chosen in the environment: set OPENBLAS_CORETYPE to them. Returns what it set,
    and keeps it in :data:`chosen`."""
    global chosen
    if "numpy" in sys.modules or CORETYPE_VARIABLE in os.environ:
        return None  # too late, or the user's choice stands
    if not prefers_avx2_kernels(first_processor()):
        return None
    os.environ[CORETYPE_VARIABLE] = chosen = AVX2_KERNELS
    return AVX2_KERNELS
