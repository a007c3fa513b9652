"""Module paths from before the packages were cut by concern, still importable with a warning.

``import backprop.layers`` (or ``backprop.layers`` as an attribute) finds
:mod:`backprop.nn.layers` and warns once with the new path. The public names
of ``import backprop as bp`` never moved; only these module paths did.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from importlib.machinery import ModuleSpec
from types import ModuleType

#: Old module path → where it lives now.
MOVED = {
    "backprop.activations": "backprop.nn.activations",
    "backprop.losses": "backprop.nn.losses",
    "backprop.initializers": "backprop.nn.initializers",
    "backprop.layers": "backprop.nn.layers",
    "backprop.dropout": "backprop.nn.dropout",
    "backprop.batchnorm": "backprop.nn.batchnorm",
    "backprop.activation_layer": "backprop.nn.activation_layer",
    "backprop.layer_kinds": "backprop.nn.layer_kinds",
    "backprop.metrics": "backprop.nn.metrics",
    "backprop.optimizer_base": "backprop.optim.base",
    "backprop.optimizers": "backprop.optim.rules",
    "backprop.compiled_steps": "backprop.optim.compiled",
    "backprop.clipping": "backprop.optim.clipping",
    "backprop.batching": "backprop.training.batching",
    "backprop.callbacks": "backprop.training.callbacks",
    "backprop.steering": "backprop.training.callbacks",
    "backprop.training_state": "backprop.training.state",
    "backprop.fileio": "backprop.files.io",
    "backprop.persistence": "backprop.files.model_file",
    "backprop.loading": "backprop.files.loading",
    "backprop.reference": "backprop.teaching.reference",
    "backprop.gradcheck": "backprop.teaching.gradcheck",
    "backprop.diagnostics": "backprop.teaching.diagnostics",
    "backprop.worked_step": "backprop.teaching.worked_step",
    "backprop.reading": "backprop.teaching.reading",
    "backprop.commands": "backprop.cli",
}


def new_path(old: str) -> str | None:
    """Where the module once named ``old`` lives now (also for modules inside a moved package)."""
    for before, after in MOVED.items():
        if old == before or old.startswith(before + "."):
            return after + old[len(before):]
    return None


def moved_module(old: str) -> ModuleType:
    """The module once named ``old``, imported from its new path, with a DeprecationWarning."""
    new = new_path(old)
    assert new is not None
    warnings.warn(f"{old} is now {new}; the old path will be removed", DeprecationWarning,
                  stacklevel=3)
    return importlib.import_module(new)


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module path and hands back the module at its new one."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> ModuleSpec | None:
        if new_path(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return moved_module(spec.name)

    def exec_module(self, module: ModuleType) -> None:
        sys.modules[module.__name__] = module  # nothing to run: the module already ran


def install() -> None:
    """Put the finder first in sys.meta_path, once: a module inside a moved package
    (backprop.commands.train) must not be found again, as a second copy, through the
    old package's path."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
