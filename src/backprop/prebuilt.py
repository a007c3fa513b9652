"""The compiled passes built ahead of time: one extension module per machine, loaded without numba.

numba compiles the compiled path's passes when a process first needs them and
caches their machine code on disk (:mod:`backprop.jit`), but loading that code
back still takes numba and the LLVM library under it: about 130 MiB of the
process. ``python -m backprop.aot`` compiles every pass, in float32 and
float64, into one extension module (numba's ahead-of-time compiler, and a C
compiler to link the module) in the cache folder, ``$BACKPROP_CACHE/compiled``
(:func:`backprop.cache_folder.cache_dir`). Its name is made from what its
code depends on: the passes' source, numba's, llvmlite's and NumPy's versions,
the Python and the processor it was built for (Linux only: its model and the
instruction sets it reports). A later process that finds the module made for
all of these runs the passes from it and imports neither numba nor LLVM.

The numbers are the same as numba's just-in-time kernels give: the same source
compiled with the same options (no fast math, NumPy's error model, the GIL
released). A pass called with arrays the module was not built for (not
C-contiguous, or of another dtype) is compiled just in time, as it is where no
module was built.

This module finds and loads this machine's module, and hands its passes to
:func:`backprop.jit.compile_kernel`, each checked against its arguments before it
runs; it imports neither numba nor :mod:`backprop.jit`. :mod:`backprop.aot` builds
the module (``python -m backprop.aot``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import platform
import sys
import sysconfig
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from backprop.cache_folder import cache_dir
from backprop.processor import fields, first_processor

#: The dtypes every pass is built for.
DTYPES = ("float32", "float64")

#: The modules whose source the passes are compiled from, in the package's folder.
_PACKAGE = Path(__file__).resolve().parent
_SOURCES = ("jit.py", "prebuilt.py", "aot/build.py", "nn/compiled_activations.py",
            "nn/compiled_losses.py", "optim/compiled.py")


# -- which module, where ------------------------------------------------------------------
def _processor() -> str | None:
    """What the machine code depends on in the processor, as Linux describes it: its
    vendor, model and the instruction sets it reports (the module is built for the
    processor it is built on). None elsewhere, or where Linux names no instruction sets:
    no module is loaded there, rather than one built for another processor."""
    text = first_processor()
    if text is None:  # not Linux
        return None
    keys = ("vendor_id", "cpu family", "model", "model name", "flags",  # x86
            "CPU implementer", "CPU architecture", "CPU variant", "CPU part", "Features")  # arm
    named = {name: value for name, value in fields(text).items() if name in keys}
    if "flags" not in named and "Features" not in named:
        return None
    return "\n".join(f"{name}: {value}" for name, value in named.items())


def module_name() -> str | None:
    """The extension module's name for this source, numba, NumPy, Python and processor;
    None where numba is not installed or the processor cannot be told apart."""
    processor = _processor()
    try:
        versions = [importlib.metadata.version(name) for name in ("numba", "llvmlite")]
        sources = [(_PACKAGE / source).read_bytes() for source in _SOURCES]
    except (importlib.metadata.PackageNotFoundError, OSError):
        return None
    if processor is None:
        return None
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source)
    for part in (*versions, np.__version__, sys.implementation.cache_tag,
                 str(sysconfig.get_config_var("EXT_SUFFIX")), platform.machine(), processor):
        digest.update(b"\0" + part.encode())
    return f"backprop_passes_{digest.hexdigest()[:20]}"


def module_folder() -> Path:
    """The folder the modules are built into: ``compiled`` in the cache folder."""
    return cache_dir() / "compiled"


def module_path() -> Path | None:
    """Where this machine's module is, or would be built; None where none can be (numba not
    installed, or the processor not told apart: :func:`module_name`)."""
    name = module_name()
    if name is None:
        return None
    return module_folder() / (name + str(sysconfig.get_config_var("EXT_SUFFIX")))


@functools.cache
def loaded_module() -> ModuleType | None:
    """This machine's module, imported once; None where it was not built."""
    path = module_path()
    if path is None or not path.is_file():
        return None
    name = path.name.split(".", 1)[0]
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    assert spec is not None
    try:
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
    except ImportError as error:
        warnings.warn(f"the compiled passes in {path} cannot be loaded ({error}); numba "
                      "compiles them instead: run python -m backprop.aot to build them again",
                      stacklevel=2)
        return None
    return module


# -- the kernels a module holds ------------------------------------------------------------
def _argument_kinds(signature: str) -> tuple[int | None, ...]:
    """Per argument of ``signature``: 1 or 2 for an array of that many axes, 0 for a number
    of the arrays' dtype, None for the rest (booleans, counts)."""
    inside = signature[signature.index("(") + 1: signature.rindex(")")]
    kinds = {"{1}": 1, "{2}": 2, "{x}": 0}
    return tuple(kinds.get(argument.strip()) for argument in inside.split(","))


class AheadOfTimeKernel:
    """A pass taken from the module built ahead of time, its float32 or float64 form by the
    arrays' dtype; the pass compiled just in time where the arguments do not fit those forms."""

    def __init__(self, by_dtype: dict[np.dtype[Any], Callable[..., Any]],
                 kinds: tuple[int | None, ...],
                 just_in_time: Callable[[], Callable[..., Any]]) -> None:
        self.by_dtype = by_dtype
        self.count = len(kinds)
        #: (position, axes) of each array argument; the positions of the numbers
        self.arrays = tuple((i, kind) for i, kind in enumerate(kinds) if kind)
        self.numbers = tuple(i for i, kind in enumerate(kinds) if kind == 0)
        self._make_just_in_time = just_in_time
        self._just_in_time: Callable[..., Any] | None = None

    def fits(self, args: Sequence[Any]) -> Callable[..., Any] | None:
        """The built form that takes ``args``, or None: its arrays C-contiguous, aligned and
        writeable, with the axes the signature gives, and they and its numbers of one dtype
        it was built for (the compiled code reads and writes them as the signature says,
        and checks nothing)."""
        if len(args) != self.count or not isinstance(args[0], np.ndarray):
            return None
        dtype = args[0].dtype
        built = self.by_dtype.get(dtype)
        if built is None:
            return None
        for i, axes in self.arrays:
            array = args[i]
            if (not isinstance(array, np.ndarray) or array.dtype != dtype
                    or array.ndim != axes or not array.flags.carray):
                return None
        for i in self.numbers:
            if getattr(args[i], "dtype", None) != dtype:
                return None
        return built

    def __call__(self, *args: Any) -> Any:
        built = self.fits(args)
        if built is not None:
            return built(*args)
        if self._just_in_time is None:
            self._just_in_time = self._make_just_in_time()
        return self._just_in_time(*args)


def ahead_of_time_kernel(
    name: str, signature: str, just_in_time: Callable[[], Callable[..., Any]],
) -> AheadOfTimeKernel | None:
    """The pass ``name`` from this machine's module (see :func:`backprop.jit.compile_kernel`
    for ``signature``), falling back on ``just_in_time()`` for arguments it was not built
    for; None where no module was built for this source, numba, Python and processor."""
    module = loaded_module()
    if module is None:
        return None
    by_dtype = {np.dtype(dtype): getattr(module, exported(name, dtype), None)
                for dtype in DTYPES}  # the builtin dtypes, which arrays of them share
    if any(built is None for built in by_dtype.values()):
        return None
    return AheadOfTimeKernel(by_dtype, _argument_kinds(signature),  # type: ignore[arg-type]
                             just_in_time)


def exported(name: str, dtype: str) -> str:
    """The name of the pass ``name``'s form for ``dtype`` in the module."""
    return f"{name}__{dtype}"
