"""How the worked step's equations are written: plain text or Markdown with LaTeX.

:class:`TextNotation` and :class:`TexNotation` give the same pieces (a
variable, a product, a mean, the equations) in their own notation; the one
layout of :mod:`.layout` asks for them, so no formula is written twice.
"""

from __future__ import annotations

from backprop.teaching.worked_step.naming import Layered, Symbol
from backprop.teaching.worked_step.records import Formula


def fmt(value: float, digits: int) -> str:
    """A number to ``digits`` significant digits, with no "-0"."""
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


class TextNotation:
    """Plain text, one equation a line; :class:`TexNotation` writes the same in LaTeX."""

    times = "·"
    minus = " − "
    arrow = " ← "
    sigma = "σ"
    ell = "ℓ"
    delta = "δ"

    tex = False

    def __init__(self, digits: int, naming: Layered | None = None) -> None:
        self.digits = digits
        self.naming = naming if naming is not None else Layered()

    def num(self, value: float) -> str:
        return fmt(value, self.digits)

    def factor(self, value: float) -> str:
        """A number as a factor of a product: negatives in parentheses."""
        text = self.num(value)
        return self.paren(text) if text.startswith("-") else text

    @staticmethod
    def pair(j: int, k: int) -> str:
        """The subscript jk of w_jk (j,k when either has two digits)."""
        return f"{j}{k}" if j < 10 and k < 10 else f"{j},{k}"

    def paren(self, text: str) -> str:
        return f"({text})"

    def var(self, name: str, sub: str, layer: int | None = None) -> str:
        """The symbol of a quantity (name_sub^[layer] in the layered notation)."""
        return self.write(self.naming.symbol(name, sub, layer))

    def weight(self, j: int, k: int, layer: int) -> str:
        """The weight to unit j of layer l from unit k of layer l − 1, as the naming calls it."""
        return self.write(self.naming.weight(j, k, layer))

    def write(self, symbol: Symbol) -> str:
        """name_sub^[l] or name_sub[k]; the name "delta" is written as δ."""
        name = self.delta if symbol.name == "delta" else symbol.name
        text = f"{name}_{symbol.sub}" if symbol.sub else name
        if symbol.layer is None:
            return text
        return text + (f"[{symbol.layer}]" if symbol.inline else f"^[{symbol.layer}]")

    def formula(self, key: str, bias: bool = True, batch: bool = False) -> str | None:
        """A general equation in the naming's own words, or None for the layered one."""
        formulas = self.naming.formulas(self.tex, bias, batch)
        return None if formulas is None else formulas[key]

    def partial(self, of: str) -> str:
        return f"∂L/∂{of}"

    def mean(self, terms: list[str]) -> str:
        return f"1/{len(terms)} ({' + '.join(terms)})"

    # -- page layout ------------------------------------------------------
    def title(self, text: str) -> list[str]:
        return [text]

    def heading(self, text: str) -> list[str]:
        return ["", text]

    def sample_heading(self, sample: int) -> list[str]:
        """Before the forward pass of one sample of a batch."""
        return [self.sample_label(sample)]

    def sample_label(self, sample: int) -> str:
        """Before the errors δ of one sample of a batch."""
        return f" sample {sample}:"

    def block(self, formula: str) -> list[str]:
        """A general formula, on a line of its own."""
        return [f"    {formula}"]

    def line(self, formula: str) -> str:
        """One equation with the numbers in."""
        return f"  {formula}"

    def prose(self, text: str) -> str:
        return f"  {text}"

    def table(self, header: list[str], rows: list[list[str]]) -> list[str]:
        widths = [max(len(header[c]), *(len(r[c]) for r in rows)) for c in range(len(header))]
        return ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)),
                *("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True))
                  for row in rows)]

    # -- the equations ----------------------------------------------------
    def forward_formula(self, bias: bool) -> str:
        own = self.formula("forward", bias)
        if own is not None:
            return own
        plus_b = " + b_j^[l]" if bias else ""
        return (f"z_j^[l] = Σ_k w_jk^[l] a_k^[l-1]{plus_b},   a_j^[l] = σ(z_j^[l]),   "
                f"a_k^[0] = {self.var('x', 'k')}")

    def applied(self, activation: str, z: str) -> str:
        """σ(z) with the activation's name (σ for sigmoid)."""
        return f"{self.sigma if activation == 'sigmoid' else activation}{self.paren(z)}"

    def softmax_of(self, layer: int, unit: int) -> str:
        return f"softmax(z^[{layer}])_{unit}"

    def loss_formula(self, loss: str, formula: Formula | None) -> str:
        per_sample = f"{loss}(a^[L], y)" if formula is None else formula.text
        return f"ℓ = {per_sample},   L = 1/m Σ_i ℓ_i"

    def sample_ell(self, sample: int) -> str:
        return f"ℓ_{sample}"

    def square(self, text: str) -> str:
        return f"({text})²"

    half = "½"

    def fused_output_error(self) -> str:
        return "δ_j^[L] = a_j^[L] − y_j"

    def log(self, text: str) -> str:
        return f"ln{self.paren(text)}"

    def mse_comparison(self) -> str:
        """The name of the δ mse would give, beside the fused one."""
        return "with mse instead"

    def softmax_output_error(self) -> str:
        return ("δ_j^[L] = a_j^[L] (g_j − Σ_i g_i a_i^[L]),   g_j = ∂ℓ/∂a_j^[L]   "
                "(the softmax Jacobian is not diagonal)")

    def output_error(self) -> str:
        return self.formula("output") or "δ_j^[L] = ∂ℓ/∂a_j^[L] · σ'(z_j^[L])"

    def hidden_error(self) -> str:
        return self.formula("hidden") or "δ_j^[l] = (Σ_k w_kj^[l+1] δ_k^[l+1]) · σ'(z_j^[l])"

    def softmax_note(self) -> str:
        return ("For softmax, whose Jacobian is not diagonal: δ_j = a_j (g_j − Σ_i g_i a_i) "
                "with g the bracket above.")

    def derivative_note(self, activation: str, formula: Formula) -> str:
        return f"For {activation}: σ'(z) = {formula.text}."

    def unknown_derivative_note(self, activation: str) -> str:
        return f"For {activation}, σ' is the layer's derivative."

    def d_loss_d(self, a: str) -> str:
        return f"∂ℓ/∂{a}"

    def weighted_sum(self, unit: int, above: int) -> str:
        """Σ_k w_kj^[l+1] δ_k^[l+1] for unit j of layer l = above − 1."""
        own = self.naming.weighted_sum(unit, above, self.tex)
        return own if own is not None else f"Σ_k w_k{unit}^[{above}] δ_k^[{above}]"

    softmax_inner = "Σ_i g_i a_i"
    softmax_mse_inner = "Σ_i (a_i − y_i) a_i"

    def sigma_prime(self, z: str) -> str:
        return f"σ'({z})"

    def gradient_formulas(self, batch: bool, bias: bool) -> str:
        own = self.formula("gradients", bias, batch)
        if own is not None:
            return own
        mean = "1/m Σ_i " if batch else ""
        weights = f"∂L/∂w_jk^[l] = {mean}δ_j^[l] a_k^[l-1]"
        return f"{weights},   ∂L/∂b_j^[l] = {mean}δ_j^[l]" if bias else weights

    sample_mean = "1/m Σ_i "

    def gradient_line(self, formula: str, check: str) -> str:
        return f"  {formula}    ({check})"

    def update_formula(self, lr: float) -> str:
        return f"w ← w − η ∂L/∂w,   η = {self.num(lr)}"


class TexNotation(TextNotation):
    """Markdown with LaTeX math: $...$ inline, $$...$$ blocks."""

    tex = True

    times = r" \cdot "
    minus = " - "
    arrow = r" \leftarrow "
    sigma = r"\sigma"
    ell = r"\ell"
    delta = r"\delta"
    half = r"\frac{1}{2}"
    softmax_inner = r"\sum_{i} g_{i} a_{i}"
    softmax_mse_inner = r"\sum_{i} (a_{i} - y_{i}) a_{i}"
    sample_mean = r"\frac{1}{m}\sum_{i} "

    def paren(self, text: str) -> str:
        return rf"\left({text}\right)"

    def write(self, symbol: Symbol) -> str:
        name = self.delta if symbol.name == "delta" else symbol.name
        text = f"{name}_{{{symbol.sub}}}" if symbol.sub else name
        if symbol.layer is None:
            return text
        return text + (f"[{symbol.layer}]" if symbol.inline else f"^{{[{symbol.layer}]}}")

    def partial(self, of: str) -> str:
        return rf"\frac{{\partial L}}{{\partial {of}}}"

    def mean(self, terms: list[str]) -> str:
        return rf"\frac{{1}}{{{len(terms)}}}\left({' + '.join(terms)}\right)"

    def title(self, text: str) -> list[str]:
        return [f"## {text}"]

    def heading(self, text: str) -> list[str]:
        return ["", f"### {text}", ""]

    def sample_heading(self, sample: int) -> list[str]:
        return self.heading(f"Sample {sample}")

    def sample_label(self, sample: int) -> str:
        return f"- sample {sample}:"

    def block(self, formula: str) -> list[str]:
        return ["$$", formula, "$$", ""]

    def line(self, formula: str) -> str:
        return f"- ${formula}$"

    def prose(self, text: str) -> str:
        return text

    def table(self, header: list[str], rows: list[list[str]]) -> list[str]:
        return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                *("| " + " | ".join(row) + " |" for row in rows)]

    def forward_formula(self, bias: bool) -> str:
        own = self.formula("forward", bias)
        if own is not None:
            return own
        plus_b = r" + b_{j}^{[l]}" if bias else ""
        return (r"z_{j}^{[l]} = \sum_{k} w_{jk}^{[l]} a_{k}^{[l-1]}" + plus_b + r", \qquad "
                r"a_{j}^{[l]} = \sigma\left(z_{j}^{[l]}\right), \qquad a_{k}^{[0]} = x_{k}")

    def applied(self, activation: str, z: str) -> str:
        name = (self.sigma if activation == "sigmoid"
                else rf"\mathrm{{{activation.replace('_', '')}}}")
        return f"{name}{self.paren(z)}"

    def softmax_of(self, layer: int, unit: int) -> str:
        return rf"\mathrm{{softmax}}\left(z^{{[{layer}]}}\right)_{{{unit}}}"

    def loss_formula(self, loss: str, formula: Formula | None) -> str:
        per_sample = (rf"\mathrm{{{loss.replace('_', ' ')}}}\left(a^{{[L]}}, y\right)"
                      if formula is None else formula.tex)
        return rf"\ell = {per_sample}, \qquad L = \frac{{1}}{{m}}\sum_{{i=1}}^{{m}} \ell_{{i}}"

    def sample_ell(self, sample: int) -> str:
        return rf"\ell_{{{sample}}}"

    def square(self, text: str) -> str:
        return f"{self.paren(text)}^2"

    def fused_output_error(self) -> str:
        return r"\delta_{j}^{[L]} = a_{j}^{[L]} - y_{j}"

    def softmax_output_error(self) -> str:
        return (r"\delta_{j}^{[L]} = a_{j}^{[L]}\left(g_{j} - \sum_{i} g_{i} a_{i}^{[L]}\right), "
                r"\quad g_{j} = \frac{\partial \ell}{\partial a_{j}^{[L]}}")

    def output_error(self) -> str:
        return self.formula("output") or (
            r"\delta_{j}^{[L]} = \frac{\partial \ell}{\partial a_{j}^{[L]}} \cdot "
            r"\sigma'\left(z_{j}^{[L]}\right)")

    def hidden_error(self) -> str:
        return self.formula("hidden") or (
            r"\delta_{j}^{[l]} = \left(\sum_{k} w_{kj}^{[l+1]} \delta_{k}^{[l+1]}\right) "
            r"\cdot \sigma'\left(z_{j}^{[l]}\right)")

    def softmax_note(self) -> str:
        return (r"For softmax, whose Jacobian is not diagonal: $\delta_{j} = a_{j}\left("
                r"g_{j} - \sum_{i} g_{i} a_{i}\right)$ with $g$ the bracket above.")

    def derivative_note(self, activation: str, formula: Formula) -> str:
        return f"For {activation.replace('_', ' ')}: $\\sigma'(z) = {formula.tex}$."

    def d_loss_d(self, a: str) -> str:
        return rf"\frac{{\partial \ell}}{{\partial {a}}}"

    def weighted_sum(self, unit: int, above: int) -> str:
        own = self.naming.weighted_sum(unit, above, self.tex)
        return own if own is not None else (
            rf"\sum_{{k}} w_{{k{unit}}}^{{[{above}]}} \delta_{{k}}^{{[{above}]}}")

    def sigma_prime(self, z: str) -> str:
        return rf"\sigma'\left({z}\right)"

    def gradient_formulas(self, batch: bool, bias: bool) -> str:
        own = self.formula("gradients", bias, batch)
        if own is not None:
            return own
        mean = r"\frac{1}{m}\sum_{i=1}^{m} " if batch else ""
        weights = (rf"\frac{{\partial L}}{{\partial w_{{jk}}^{{[l]}}}} = {mean}"
                   rf"\delta_{{j}}^{{[l]}} a_{{k}}^{{[l-1]}}")
        if not bias:
            return weights
        return (rf"{weights}, \qquad \frac{{\partial L}}{{\partial b_{{j}}^{{[l]}}}} = "
                rf"{mean}\delta_{{j}}^{{[l]}}")

    def log(self, text: str) -> str:
        return rf"\ln{self.paren(text)}"

    def mse_comparison(self) -> str:
        return r"\text{with mse instead}"

    def gradient_line(self, formula: str, check: str) -> str:
        return f"- ${formula}$ — {check}"

    def update_formula(self, lr: float) -> str:
        return (rf"w \leftarrow w - \eta \frac{{\partial L}}{{\partial w}}, \qquad \eta = "
                rf"{self.num(lr)}")
