"""The compiled path's one door to numba: asked for without importing it, imported on first use.

The compiled passes (``Network(compiled=True)``: :mod:`backprop.nn.compiled_activations`,
:mod:`backprop.nn.compiled_losses`; an optimizer's ``compiled_step``:
:mod:`backprop.optim.compiled`) are plain Python functions over arrays and
numbers, compiled by numba the first time they run and cached on disk by it
(beside their module, or in numba's cache folder where that is read-only), so
that a later process loads them instead of compiling them again.

numba is an optional extra (``pip install 'backprop[numba]'``), and importing
it is not free: the package, the LLVM library under it and the code generator
it sets up at the first compile or cache load add about 130 MiB to a process
(bench/README.md, "Peak RSS"). So nothing here imports numba until a kernel
is wanted: :func:`require_numba` only asks whether it is installed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from backprop._typing import Array
from backprop.errors import OptionError

INSTALL_HINT = "pip install 'backprop[numba]'"

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


def compile_kernel(function: Callable[..., Any], what: str,
                   helpers: dict[str, Any] | None = None) -> Callable[..., Any]:
    """``function`` compiled by numba (or loaded from its cache); an ImportError naming the
    extra when numba is missing, which ``what`` ("the compiled step") needs.

    ``helpers``: the module namespace whose plain functions ``function`` calls, named with
    a leading ``_`` and listed in its ``__all_helpers__``; each is replaced there by its
    compiled form first, as a numba kernel can call only compiled functions.
    """
    try:
        import numba
    except ImportError:
        raise ImportError(f"{what} needs numba: {INSTALL_HINT}") from None
    if helpers is not None:
        for name in helpers.get("__all_helpers__", ()):
            if not hasattr(helpers[name], "py_func"):  # not yet compiled
                helpers[name] = numba.njit(**JIT_OPTIONS)(helpers[name])
    return numba.njit(**JIT_OPTIONS)(function)  # type: ignore[no-any-return]


def constants(dtype: np.dtype[Any], values: Sequence[float]) -> Array:
    """A kernel's constants, each rounded to ``dtype`` as NumPy rounds a Python float beside
    an array of that dtype, followed by the smallest normal number, 0, and the largest
    finite number (what a finiteness check compares |x| with)."""
    info = np.finfo(dtype)
    return np.array([*values, info.tiny, 0.0, info.max], dtype=dtype)
