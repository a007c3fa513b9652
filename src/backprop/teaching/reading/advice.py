"""What to try, given what was measured and how the network is built.

Advice never recommends what the network already uses, nor what measurements
contradict: Xavier initialization keeps tanh's gradients alive at moderate
depth (up to MODERATE_DEPTH weight layers), but with sigmoid at depth
SIGMOID_DEEP or more the gradients vanish with Xavier too (σ' ≤ 1/4 shrinks δ
by 4× or more per layer whatever the weights' scale); ReLU-type units with He
initialization keep the gradient norms steady at every depth measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backprop.network import Network

#: Depth (weight layers) from which sigmoid vanishes even with Xavier initialization.
SIGMOID_DEEP = 5
#: Depth (weight layers) up to which tanh with Xavier initialization was measured healthy.
MODERATE_DEPTH = 10

XAVIER = ("xavier_uniform", "xavier_normal", "glorot_uniform", "glorot_normal")
HE = ("he", "he_normal", "he_uniform")


@dataclass(frozen=True)
class Setup:
    """How the network is built, as far as advice needs it.

    ``activation`` and ``init`` are those of the hidden layers (None when
    unknown or mixed); ``init`` is resolved ("auto" becomes the activation's
    choice, he or xavier_uniform); ``depth`` counts the Dense (weight) layers;
    ``relu_like`` says that the hidden activation's units can die
    (``Activation.can_die``: relu, leaky_relu).
    """

    activation: str | None = None
    init: str | None = None
    depth: int = 0
    batch_norm: bool = False
    relu_like: bool = False

    @property
    def uses_xavier(self) -> bool:
        return self.init in XAVIER

    @property
    def uses_he(self) -> bool:
        return self.init in HE


def setup_of(net: Network | None) -> Setup:
    """The Setup of a network (an empty one for None)."""
    if net is None:
        return Setup()
    from backprop.nn.batchnorm import BatchNorm
    from backprop.nn.initializers import resolve_init
    from backprop.nn.layers import Dense
    from backprop.teaching.diagnostics import units_of

    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    indices = [i for i, layer in enumerate(net.layers) if isinstance(layer, Dense)]
    hidden = dense[:-1]
    # σ of each hidden layer's units (after its batch norm, where there is one)
    units = [units_of(net, i).activation for i in indices[:-1]]
    activations = {sigma.name: sigma for sigma in units}
    activation = next(iter(activations.values())) if len(activations) == 1 else None
    inits = {resolve_init(layer.init or net.init, layer.activation) for layer in hidden}
    init_name = inits.pop() if len(inits) == 1 else None
    batch_norm = any(isinstance(layer, BatchNorm) for layer in net.layers)
    return Setup(None if activation is None else activation.name, init_name, len(dense),
                 batch_norm, relu_like=activation is not None and activation.can_die)


def vanishing(setup: Setup) -> str:
    """Advice for vanishing gradients."""
    act, depth = setup.activation, setup.depth
    if act == "sigmoid":
        if depth >= SIGMOID_DEEP:
            xavier = ("Xavier initialization does not stop it: " if setup.uses_xavier else
                      "Xavier initialization would not stop it either: ")
            return (f"With sigmoid at depth {depth}, {xavier}σ' ≤ 1/4 shrinks δ by 4× or more "
                    "at every layer. ReLU with He initialization keeps the gradients alive at "
                    "this depth, and so does a shallower network.")
        if not setup.uses_xavier:
            return (f"At depth {depth}, Xavier initialization keeps sigmoid's gradients "
                    "within range; ReLU with He initialization does too.")
        return ("ReLU with He initialization keeps the gradients alive, and so does a "
                "shallower network.")
    if act == "tanh":
        if not setup.uses_xavier and depth <= MODERATE_DEPTH:
            return (f"Xavier initialization keeps tanh's gradients alive at moderate depth "
                    f"such as this one ({depth} layers); ReLU with He initialization does too.")
        return ("ReLU with He initialization keeps the gradients alive, and so does a "
                "shallower network.")
    if setup.relu_like:
        if not setup.uses_he:
            return "He initialization keeps ReLU's gradient norms steady across layers."
        return ("With ReLU and He initialization this is unusual: dead units or a too high "
                "learning rate are the usual reason; leaky_relu or a lower learning rate helps.")
    return ("ReLU with He initialization keeps the gradients alive at any depth; Xavier "
            f"initialization helps tanh at moderate depth but not sigmoid at depth "
            f"{SIGMOID_DEEP} or more.")


def exploding() -> str:
    return ("Lower the learning rate, clip the gradient norm (clip_norm), or start from "
            "smaller weights.")


def dead(setup: Setup) -> str:
    """Advice for dead ReLUs: what the network does not use already."""
    remedies = ["a lower learning rate"]
    if not setup.uses_he:
        remedies.append("He initialization")
    if setup.activation != "leaky_relu":
        remedies.append("leaky_relu")
    return f"A dead unit passes no gradient and does not recover; {_either(remedies)} helps."


def saturated(setup: Setup) -> str:
    """Advice for saturated sigmoid/tanh units."""
    remedies = ["standardized inputs"]
    if not setup.uses_xavier:
        remedies.append("Xavier initialization")
    remedies.append("a lower learning rate")
    if setup.activation == "sigmoid" and setup.depth >= SIGMOID_DEEP:
        remedies.append("ReLU with He initialization")
    return f"Saturated units stall their gradients; {_either(remedies)} helps."


def symmetric() -> str:
    return ("Identical units receive identical gradients and stay identical, so the layer "
            "works as one unit: initialize the weights at random (He for ReLU, Xavier for "
            "tanh or sigmoid) to break the symmetry.")


def learning_rate(kind: str) -> str:
    if kind == "lr_high":
        return "Lower the learning rate (by 3× to 10×) or add a schedule that decays it."
    return "Raise the learning rate (by 10× or more) or train for more epochs."


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
