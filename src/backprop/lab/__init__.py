"""The lab: a local web app (``backprop lab``) that drives this library's engine live.

Python computes every number (the Network, the optimizers, ``bp.explain``,
``bp.gradcheck``); the pages only draw what the server streams over one
WebSocket per tab. Each page is a package (``regression/``, ``sandbox/``,
``playground/``) holding its server code, its message schemas and its static
files; ``app``, ``session``, ``protocol`` and ``static/`` are what they share, and
``access``, ``guard``, ``capacity`` and ``turns`` guard them (who may connect, the
security headers, the session caps, fair turns of the CPU; docs/guides/lab-safety.md).
Needs the optional extra ``backprop-mlp[lab]`` (starlette, uvicorn, pydantic);
import :func:`backprop.lab.app.create_app`. The same pages run as notebook widgets,
``bp.lab.Playground``, ``bp.lab.Sandbox`` and ``bp.lab.Regression``
(:mod:`backprop.lab.notebook`, the extra ``backprop-mlp[notebook]``).
"""

from importlib import import_module, util
from typing import Any

from backprop.version import install_hint

#: The notebook widgets (``bp.lab.Playground(...)``), loaded on first use: they need the
#: extra ``backprop-mlp[notebook]`` (anywidget), which ``backprop lab`` does not.
WIDGETS = ("Playground", "Sandbox", "Regression")
#: The modules the widgets need beyond the standard library and NumPy.
NOTEBOOK_MODULES = ("anywidget", "traitlets", "pydantic", "starlette")


def __getattr__(name: str) -> Any:
    if name in WIDGETS:
        missing = [module for module in NOTEBOOK_MODULES if util.find_spec(module) is None]
        if missing:
            raise ImportError(f"bp.lab.{name} needs {', '.join(missing)}: "
                              f"{install_hint('notebook')}")
        value = getattr(import_module("backprop.lab.notebook.widgets"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["WIDGETS", "Playground", "Regression", "Sandbox"]  # the widgets: loaded on first use
