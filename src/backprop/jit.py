"""The compiled path's one door to numba: asked for without importing it, imported on first use.

The compiled passes (``Network(compiled=True)``: :mod:`backprop.nn.compiled_activations`,
:mod:`backprop.nn.compiled_losses`; an optimizer's ``compiled_step``:
:mod:`backprop.optim.compiled`) are plain Python functions over arrays and
numbers, compiled by numba the first time they run and cached on disk by it
(beside their module, or in numba's cache folder where that is read-only), so
that a later process loads them instead of compiling them again.

numba is an optional extra (``pip install 'backprop-mlp[numba]'``), and importing
it is not free: the package, the LLVM library under it and the code generator
it sets up at the first compile or cache load add about 130 MiB to a process
(bench/README.md, "Peak RSS"). So nothing here imports numba until a kernel
is wanted: :func:`require_numba` only asks whether it is installed, and where
the passes were built ahead of time for this machine (``python -m backprop.aot``,
:mod:`backprop.prebuilt`) a kernel comes from that module and numba is not imported.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from backprop._typing import Array
from backprop.errors import OptionError
from backprop.version import install_hint

INSTALL_HINT = install_hint("numba")

#: The engine lever that runs the compiled passes on numba's own thread pool, cut in parts
#: (rows, or units where a pass sums over the rows), one per thread: off by default, for the
#: benchmark to measure (its ``numba2`` lever); read when the first pass is compiled.
THREADS_ENVIRONMENT = "BACKPROP_COMPILED_THREADS"

#: How every kernel is compiled: no fast math (the same operations, in the same order and
#: precision as NumPy's), NumPy's error model (x / 0 is inf, not an exception), the GIL
#: released while it runs, and cached on disk.
JIT_OPTIONS: dict[str, Any] = {
    "nogil": True, "fastmath": False, "error_model": "numpy", "cache": True,
}


def numba_installed() -> bool:
    """Whether numba can be imported, found without importing it."""
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # a broken or stubbed-out entry in sys.modules
        return False


def require_numba(what: str) -> None:
    """Refuse ``what`` (an option asking for compiled passes) in one line when numba is missing."""
    if not numba_installed():
        raise OptionError(f"{what} needs numba: {INSTALL_HINT}")


def compiled_threads() -> int:
    """The threads the compiled passes run on: ``$BACKPROP_COMPILED_THREADS`` (1 or 2)."""
    value = os.environ.get(THREADS_ENVIRONMENT, "1").strip() or "1"
    if value not in ("1", "2"):
        raise OptionError(f"{THREADS_ENVIRONMENT} must be 1 or 2, got {value!r}")
    return int(value)


def compile_kernel(function: Callable[..., Any], what: str, namespace: dict[str, Any],
                   name: str, signature: str) -> Callable[..., Any]:
    """The kernel ``function``: from the passes built ahead of time for this machine when
    there are (:mod:`backprop.prebuilt`), else compiled by numba (or loaded from its cache); an
    ImportError naming the extra when numba is wanted and missing, which ``what`` ("the
    compiled step") needs.

    ``name`` names the kernel in the module built ahead of time and ``signature`` gives
    its types there, with ``{1}``, ``{2}`` for C-contiguous arrays of one and two axes and
    ``{x}`` for a number, each of the arrays' dtype (``"void({2}, {1}, boolean)"``).

    ``namespace``: the globals of ``function``'s module, prepared by
    :func:`prepare_namespace`. Its ``prange``, the loop over the parts a pass is cut in,
    becomes numba's: with one thread (the default) an ordinary loop, with
    :func:`compiled_threads` two, one part per thread of numba's pool (the passes are then
    compiled anew in each process, neither cached nor taken from the module built ahead of
    time).
    """
    threads = compiled_threads()

    def just_in_time() -> Callable[..., Any]:
        numba = prepare_namespace(namespace, what)
        if threads > 1 and "prange" in function.__code__.co_names:
            return numba.njit(**{**JIT_OPTIONS, "parallel": True, "cache": False})(function)  # type: ignore[no-any-return]
        return numba.njit(**JIT_OPTIONS)(function)  # type: ignore[no-any-return]

    if threads == 1:
        from backprop.prebuilt import ahead_of_time_kernel

        built = ahead_of_time_kernel(name, signature, just_in_time)
        if built is not None:
            return built
    return just_in_time()


def prepare_namespace(namespace: dict[str, Any], what: str) -> Any:
    """numba, imported (an ImportError naming the extra when it is missing, which ``what``
    needs), with ``namespace`` made ready for compiling its kernels: its plain functions
    that kernels call, listed in its ``__all_helpers__``, replaced by their compiled forms
    (a kernel calls only compiled functions), and its ``prange`` numba's."""
    try:
        import numba
    except ImportError:
        raise ImportError(f"{what} needs numba: {INSTALL_HINT}") from None
    namespace["prange"] = numba.prange
    for helper in namespace.get("__all_helpers__", ()):
        if not hasattr(namespace[helper], "py_func"):  # not yet compiled
            namespace[helper] = numba.njit(**JIT_OPTIONS)(namespace[helper])
    return numba


def constants(dtype: np.dtype[Any], values: Sequence[float]) -> Array:
    """A kernel's constants, each rounded to ``dtype`` as NumPy rounds a Python float beside
    an array of that dtype, followed by the smallest normal number, 0, and the largest
    finite number (what a finiteness check compares |x| with)."""
    info = np.finfo(dtype)
    return np.array([*values, info.tiny, 0.0, info.max], dtype=dtype)
