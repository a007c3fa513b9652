"""The layer kinds a model file may name, and rebuilding a layer from its config."""

from __future__ import annotations

from typing import Any

from backprop.nn.activation_layer import ActivationLayer
from backprop.nn.batchnorm import BatchNorm
from backprop.nn.dropout import Dropout
from backprop.nn.layers import Dense, Layer

#: kind name (as written by ``Layer.config()``) → class
LAYER_KINDS: dict[str, type[Layer]] = {"Dense": Dense, "Dropout": Dropout, "BatchNorm": BatchNorm,
                                       "ActivationLayer": ActivationLayer}


def layer_from_config(config: dict[str, Any]) -> Layer:
    """Rebuild a layer from :meth:`Layer.config` (used when loading a model file)."""
    options = dict(config)
    kind = options.pop("kind", None)
    if kind not in LAYER_KINDS:
        raise ValueError(f"unknown layer kind {kind!r}; valid: {', '.join(LAYER_KINDS)}")
    return LAYER_KINDS[kind](**options)
