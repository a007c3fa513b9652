"""How the worked step names its quantities: three textbook notations, one set of numbers.

* ``layered`` (the library's): the input is layer 0, w_jk^[l] connects unit k of layer
  l − 1 to unit j of layer l, z_j^[l] = Σ_k w_jk^[l] a_k^[l-1] + b_j^[l].
* ``from-to`` (many tutorials): the input is layer 1, node j of layer k is written j[k],
  and w_ij[k] connects node i of layer k to node j of layer k + 1, so
  z_j[k+1] = Σ_i w_ij[k] a_i[k]. The library's w_jk^[l] is w_kj[l] here.
* ``mazur`` (the 2-2-2 step-by-step example): inputs i1, i2, hidden units h1, h2,
  outputs o1, o2; w1…w4 from the inputs (w1: i1→h1, w2: i2→h1, w3: i1→h2,
  w4: i2→h2), w5…w8 to the outputs (w5: h1→o1, w6: h2→o1, w7: h1→o2, w8: h2→o2);
  net and out for z and a, b1 and b2 for the biases of the two layers.

A naming turns (quantity, unit, layer) into a :class:`Symbol`; the notation of
:mod:`.notation` writes it as plain text or TeX.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from backprop.errors import OptionError

NOTATIONS = ("layered", "from-to", "mazur")


@dataclass(frozen=True)
class Symbol:
    """name_sub with an optional layer mark: a superscript ^[l] or an inline [k]."""

    name: str
    sub: str = ""
    layer: str | None = None
    inline: bool = False


def pair(j: int | str, k: int | str) -> str:
    """The subscript jk (j,k when either has two digits)."""
    return f"{j}{k}" if len(str(j)) == 1 and len(str(k)) == 1 else f"{j},{k}"


class Layered:
    """The library's notation."""

    name = "layered"

    def check(self, widths: list[int]) -> None:
        """Refuse a network this notation cannot name."""

    def symbol(self, name: str, sub: str, layer: int | None) -> Symbol:
        return Symbol(name, sub, None if layer is None else str(layer))

    def weight(self, j: int, k: int, layer: int) -> Symbol:
        """The weight to unit j of layer l from unit k of layer l − 1."""
        return Symbol("w", pair(j, k), str(layer))

    def weighted_sum(self, unit: int, above: int, tex: bool) -> str | None:
        """Σ_k w_kj δ_k of hidden unit j of layer above − 1, or None for the notation's own."""
        return None

    def formulas(self, tex: bool, bias: bool, batch: bool) -> dict[str, str] | None:
        """The general equations (forward, output, hidden, gradients), or None for the
        notation's own."""
        return None


class FromTo(Layered):
    """Input is layer 1; w_ij[k] from node i of layer k to node j of layer k + 1."""

    name = "from-to"

    def symbol(self, name: str, sub: str, layer: int | None) -> Symbol:
        return Symbol(name, sub, None if layer is None else str(layer + 1), inline=True)

    def weight(self, j: int, k: int, layer: int) -> Symbol:
        return Symbol("w", pair(k, j), str(layer), inline=True)

    def weighted_sum(self, unit: int, above: int, tex: bool) -> str:
        # hidden node `unit` of tutorial layer `above` feeds node k of layer above + 1
        if tex:
            return rf"\sum_{{k}} w_{{{unit}k}}[{above}]\, \delta_{{k}}[{above + 1}]"
        return f"Σ_k w_{unit}k[{above}] δ_k[{above + 1}]"

    def formulas(self, tex: bool, bias: bool, batch: bool) -> dict[str, str]:
        mean = (r"\frac{1}{m}\sum_{i} " if tex else "1/m Σ_n ") if batch else ""
        if tex:
            plus_b = r" + b_{j}[k+1]" if bias else ""
            grads = (rf"\frac{{\partial L}}{{\partial w_{{ij}}[k]}} = {mean}"
                     r"\delta_{j}[k+1]\, a_{i}[k]")
            if bias:
                grads += rf", \qquad \frac{{\partial L}}{{\partial b_{{j}}[k+1]}} = {mean}" \
                         r"\delta_{j}[k+1]"
            return {
                "forward": (rf"z_{{j}}[k+1] = \sum_{{i}} w_{{ij}}[k]\, a_{{i}}[k]{plus_b}, "
                            r"\qquad a_{j}[k+1] = \sigma\left(z_{j}[k+1]\right), \qquad "
                            r"a_{i}[1] = x_{i}"),
                "output": (r"\delta_{j}[K] = \frac{\partial \ell}{\partial a_{j}[K]} \cdot "
                           r"\sigma'\left(z_{j}[K]\right)"),
                "hidden": (r"\delta_{i}[k] = \left(\sum_{j} w_{ij}[k]\, \delta_{j}[k+1]"
                           r"\right) \cdot \sigma'\left(z_{i}[k]\right)"),
                "gradients": grads,
            }
        plus_b = " + b_j[k+1]" if bias else ""
        grads = f"∂L/∂w_ij[k] = {mean}δ_j[k+1] a_i[k]"
        if bias:
            grads += f",   ∂L/∂b_j[k+1] = {mean}δ_j[k+1]"
        return {
            "forward": (f"z_j[k+1] = Σ_i w_ij[k] a_i[k]{plus_b},   a_j[k+1] = σ(z_j[k+1]),   "
                        "a_i[1] = x_i   (the input is layer 1; w_ij[k]: node i of layer k → "
                        "node j of layer k+1)"),
            "output": "δ_j[K] = ∂ℓ/∂a_j[K] · σ'(z_j[K])   (K: the output layer)",
            "hidden": "δ_i[k] = (Σ_j w_ij[k] δ_j[k+1]) · σ'(z_i[k])",
            "gradients": grads,
        }


class Mazur(Layered):
    """The 2-2-2 example's names: i1, i2 → h1, h2 → o1, o2; w1…w8; net, out; b1, b2."""

    name = "mazur"
    _UNITS: ClassVar[dict[int, str]] = {0: "i", 1: "h", 2: "o"}
    _NAMES: ClassVar[dict[str, str]] = {"z": "net", "a": "out"}

    def check(self, widths: list[int]) -> None:
        if widths != [2, 2, 2]:
            raise OptionError(f"the mazur notation names a 2-2-2 network (w1…w8), not "
                              f"{'-'.join(map(str, widths))}; use layered or from-to")

    def symbol(self, name: str, sub: str, layer: int | None) -> Symbol:
        if name == "b" and layer is not None:
            return Symbol(f"b{layer}", f"{self._UNITS[layer]}{sub}")
        if name == "a" and layer == 0:
            return Symbol(f"i{sub}")
        if name == "x":
            return Symbol(f"i{sub}")
        if name == "y":
            return Symbol("target", f"o{sub}")
        unit = self._UNITS[2] if layer is None else self._UNITS[layer]
        return Symbol(self._NAMES.get(name, name), f"{unit}{sub}")

    def weight(self, j: int, k: int, layer: int) -> Symbol:
        return Symbol(f"w{4 * (layer - 1) + 2 * (j - 1) + k}")

    def weighted_sum(self, unit: int, above: int, tex: bool) -> str:
        # hidden unit h_j feeds o1 through w(4 + j) and o2 through w(6 + j)
        if tex:
            return rf"w_{{{4 + unit}}} \delta_{{o1}} + w_{{{6 + unit}}} \delta_{{o2}}"
        return f"w{4 + unit} δ_o1 + w{6 + unit} δ_o2"

    def formulas(self, tex: bool, bias: bool, batch: bool) -> dict[str, str]:
        if tex:
            plus = r" + b_{1}" if bias else ""
            return {
                "forward": (r"net_{h1} = w_{1} i_{1} + w_{2} i_{2}" + plus +
                            r", \qquad out_{h1} = \sigma(net_{h1}), \quad \dots"),
                "output": (r"\delta_{o} = \frac{\partial E}{\partial out_{o}} \cdot "
                           r"out_{o}(1 - out_{o})"),
                "hidden": (r"\delta_{h1} = \left(w_{5} \delta_{o1} + w_{7} \delta_{o2}\right) "
                           r"\cdot out_{h1}(1 - out_{h1}), \quad \dots"),
                "gradients": (r"\frac{\partial E}{\partial w_{5}} = \delta_{o1}\, out_{h1}, "
                              r"\quad \frac{\partial E}{\partial w_{1}} = \delta_{h1}\, i_{1}, "
                              r"\quad \dots"),
            }
        plus = " + b1" if bias else ""
        return {
            "forward": (f"net_h1 = w1·i1 + w2·i2{plus},   out_h1 = σ(net_h1),   and so on "
                        "(w1: i1→h1, w2: i2→h1, w3: i1→h2, w4: i2→h2, w5: h1→o1, w6: h2→o1, "
                        "w7: h1→o2, w8: h2→o2)"),
            "output": "δ_o = ∂E/∂out_o · σ'(net_o)",
            "hidden": "δ_h1 = (w5 δ_o1 + w7 δ_o2) · σ'(net_h1),   δ_h2 = (w6 δ_o1 + w8 δ_o2) · "
                      "σ'(net_h2)",
            "gradients": "∂E/∂w5 = δ_o1 out_h1,   ∂E/∂w1 = δ_h1 i1,   and so on",
        }


def get_naming(name: str) -> Layered:
    """The naming called ``name`` (one of :data:`NOTATIONS`)."""
    namings = {"layered": Layered(), "from-to": FromTo(), "mazur": Mazur()}
    if name not in namings:
        raise OptionError(f"unknown notation {name!r}; valid: {', '.join(NOTATIONS)}")
    return namings[name]
