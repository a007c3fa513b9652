"""Building this machine's module: every pass of the compiled path, in float32 and float64,
compiled by numba's ahead-of-time compiler and linked by a C compiler (``python -m
backprop.aot``), which :mod:`backprop.prebuilt` loads."""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from backprop.errors import BackpropError
from backprop.jit import INSTALL_HINT, prepare_namespace
from backprop.prebuilt import DTYPES, exported, loaded_module, module_path

#: The types a signature's placeholders stand for (:func:`backprop.jit.compile_kernel`).
_PLACEHOLDERS = {"{1}": "{dtype}[::1]", "{2}": "{dtype}[:, ::1]", "{x}": "{dtype}"}


#: Why no module can be built or loaded here, where :func:`module_path` finds no place for it.
_NOWHERE = ("no module of compiled passes is built here: that needs numba "
            f"({INSTALL_HINT}) and Linux, which names the processor's instruction sets; the "
            "passes are compiled just in time")


class BuildError(BackpropError):
    """The passes could not be built ahead of time (no numba, no C compiler, ...)."""


def _typed(signature: str, dtype: str) -> str:
    """``signature`` with its placeholders made types of ``dtype``."""
    for placeholder, type_ in _PLACEHOLDERS.items():
        signature = signature.replace(placeholder, type_.format(dtype=dtype))
    return signature


def _kernels() -> Iterator[tuple[str, Callable[..., Any], str, dict[str, Any]]]:
    """Every pass of the compiled path: (name, function, signature, its module's globals)."""
    from backprop.nn import compiled_activations, compiled_losses
    from backprop.optim import compiled

    for module in (compiled_activations, compiled_losses, compiled):
        yield from module.ahead_of_time()


@contextmanager
def _compiler_options() -> Iterator[None]:
    """numba's ahead-of-time compiler with the just-in-time kernels' options: NumPy's
    error model (x / 0 is inf, not an exception), the GIL released, and the instruction
    sets this processor reports (numba's own ahead-of-time choice would be every set of
    its model, which a virtual machine may hide); no fast math is its default too."""
    compiler = importlib.import_module("numba.pycc.compiler")  # untyped: held as modules
    codegen = importlib.import_module("numba.core.codegen").AOTCPUCodegen
    plain_flags, plain_features = compiler.Flags, codegen._customize_tm_features

    class Flags(plain_flags):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.error_model = "numpy"
            self.release_gil = True

    setattr(compiler, "Flags", Flags)  # noqa: B010  (the modules' own names, replaced)
    codegen._customize_tm_features = codegen._get_host_cpu_features
    try:
        yield
    finally:
        setattr(compiler, "Flags", plain_flags)  # noqa: B010
        codegen._customize_tm_features = plain_features


def build() -> Path:
    """Compile every pass, float32 and float64, into this machine's module; its path.

    BuildError in one line where numba, its ahead-of-time compiler or a C compiler is
    missing. The module appears whole or not at all (built aside, then renamed).
    """
    try:
        numba = prepare_namespace({}, "building the compiled passes")  # imported, or why not
    except ImportError as error:
        raise BuildError(str(error)) from None
    path = module_path()
    if path is None:
        raise BuildError(_NOWHERE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's notice that its ahead-of-time compiler is old
        try:
            pycc = importlib.import_module("numba.pycc")  # untyped: held as a module
        except ImportError:
            raise BuildError(f"numba {numba.__version__} has no ahead-of-time compiler "
                             "(numba.pycc); the passes are compiled just in time") from None
    name = path.name.split(".", 1)[0]
    compiler = pycc.CC(name)
    compiler.target_cpu = "host"  # this processor's model, and its sets (_compiler_options)
    count = 0
    for kernel_name, function, signature, namespace in _kernels():
        prepare_namespace(namespace, "building the compiled passes")
        for dtype in DTYPES:
            compiler.export(exported(kernel_name, dtype), _typed(signature, dtype))(function)
            count += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".building-") as aside:
        compiler.output_dir = aside
        errors = importlib.import_module("setuptools.errors")  # what numba's toolchain raises
        try:
            with warnings.catch_warnings(), _compiler_options():
                warnings.simplefilter("ignore")
                compiler.compile()
        except (errors.CCompilerError, errors.ExecError) as error:  # the C compiler or linker
            if not _c_compiler():
                raise BuildError("building the compiled passes needs a C compiler (cc, gcc) "
                                 "and Python's headers; the passes are compiled just in "
                                 "time") from None
            raise BuildError(f"building the compiled passes failed: {error}") from error
        os.replace(Path(aside) / compiler.output_file, path)
    loaded_module.cache_clear()
    return path


def _c_compiler() -> bool:
    """Whether a C compiler is on the PATH."""
    return any(shutil.which(name) for name in ("cc", "gcc", "clang"))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m backprop.aot``: build this machine's module and say where it is."""
    parser = argparse.ArgumentParser(
        prog="python -m backprop.aot",
        description="Build the compiled path's passes ahead of time for this machine, so that "
                    "compiled=True runs them without importing numba (about 130 MiB less).")
    parser.add_argument("--where", action="store_true",
                        help="only print where the module is, and whether it is built")
    options = parser.parse_args(argv)
    path = module_path()
    if options.where:
        if path is None:
            print(_NOWHERE)
            return 1
        print(f"{path} ({'built' if path.is_file() else 'not built'})")
        return 0 if path.is_file() else 1
    start = time.perf_counter()
    try:
        path = build()
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    count = 2 * sum(1 for _ in _kernels())
    print(f"built {count} compiled passes in {time.perf_counter() - start:.1f} s: {path}")
    return 0
