"""The registry of layer kinds: what a model file may name, and what from_torch recognises.

A layer kind is a :class:`~backprop.nn.layers.Layer` subclass. It carries
everything about itself: its forward and backward passes, its ``config``
(what a model file stores), and its forms in other runtimes (``onnx_form``,
``torch_form``, ``from_torch``, ``load_torch``, ``merge_into``). Register a
kind of your own with :func:`register_layer_kind` so model files that name it
load and :func:`~backprop.from_torch` recognises its module.
"""

from __future__ import annotations

from typing import Any

from backprop.errors import OptionError, OptionTypeError
from backprop.nn.activation_layer import ActivationLayer
from backprop.nn.batchnorm import BatchNorm
from backprop.nn.dropout import Dropout
from backprop.nn.layers import Dense, Layer

#: kind name (as written by ``Layer.config()``) → class
LAYER_KINDS: dict[str, type[Layer]] = {"Dense": Dense, "Dropout": Dropout, "BatchNorm": BatchNorm,
                                       "ActivationLayer": ActivationLayer}


def layer_kind_names() -> list[str]:
    """The kinds a model file may name, built-in and registered, in that order."""
    return list(LAYER_KINDS)


def register_layer_kind(name: str, kind: type[Layer]) -> None:
    """Make a user-defined layer kind known by ``name``, the ``"kind"`` of its ``config()``.

    Model files naming it then load, and :func:`~backprop.from_torch` asks it to
    recognise modules. Registering a name again replaces it.
    """
    if not name or not isinstance(name, str):
        raise OptionError(f"layer kind name must be a non-empty string, got {name!r}")
    if not (isinstance(kind, type) and issubclass(kind, Layer)):
        raise OptionTypeError(f"layer kind {name!r} must be a Layer subclass, got {kind!r}")
    LAYER_KINDS[name] = kind


def layer_from_config(config: dict[str, Any]) -> Layer:
    """Rebuild a layer from :meth:`Layer.config` (used when loading a model file)."""
    options = dict(config)
    kind = options.pop("kind", None)
    if kind not in LAYER_KINDS:
        raise ValueError(f"unknown layer kind {kind!r}; valid: {', '.join(LAYER_KINDS)}")
    return LAYER_KINDS[kind](**options)
