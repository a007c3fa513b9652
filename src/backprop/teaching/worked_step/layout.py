"""The worked step as lines, in the order of the equations, in either notation.

:func:`render` walks the step once — forward pass, loss, (1), (2), (3)
and (4), the update, the per-layer table — and asks a notation
(:class:`~.notation.TextNotation` or :class:`~.notation.TexNotation`) how
to write each piece.
"""

from __future__ import annotations

from backprop.teaching.gradcheck import AT_A_KINK
from backprop.teaching.worked_step.notation import TextNotation, fmt
from backprop.teaching.worked_step.records import SUMMARY_CHECKS, Delta, Gradient, StepRecord

#: Why a hidden δ must be computed before the weights above it change.
STALE_NOTE = (
    "Equation (2) belongs to the gradient at the weights as they were: δ^[l] needs "
    "W^[l+1] from before the update, so a loop that updates W^[l+1] as soon as its "
    "gradient is known and only then computes δ^[l] mixes two points and gets the gradient "
    "of neither; compute every δ first, then update."
)


def render_steps(steps: list[StepRecord], n: TextNotation) -> list[str]:
    """Every line of consecutive steps, each from the weights the one before left."""
    out: list[str] = []
    for record in steps:
        if out:
            out.append("")
        out.extend(render(record, n, of=len(steps)))
    return out


def render(trace: StepRecord, n: TextNotation, of: int = 1) -> list[str]:
    """Every line of the trace, in the notation ``n`` (step ``trace.step_number`` of ``of``)."""
    widths = [trace.layers[0].n_in] + [info.n_out for info in trace.layers]
    acts = " → ".join(info.activation for info in trace.layers)
    samples = "1 sample" if trace.m == 1 else f"a batch of {trace.m} samples"
    which = "One training step" if of == 1 else f"Step {trace.step_number} of {of}"
    method = (f"plain gradient descent with learning rate {n.num(trace.lr)}" if trace.lr > 0
              else "gradients only (learning rate 0: no update)")
    out = n.title(f"{which} of a {'-'.join(map(str, widths))} network ({acts}), "
                  f"loss {trace.loss}, {method}, on {samples}")
    out.append("")
    start = ("from the given weights" if trace.step_number == 1
             else f"from the weights step {trace.step_number - 1} left")
    out.append(f"Computed in float64, {start}; numbers to {trace.digits} significant digits. "
               f"The loss L is the mean over the batch of the per-sample loss ℓ.")
    if trace.warnings:
        out.append("")
        out.extend(n.prose(w) for w in trace.warnings)
    if trace.summarized:
        out.append("")
        lead = ("This network is shown per tensor: " if trace.tensors else
                "This network is too large to write out number by number: ")
        out.append(f"{lead}{trace.summary_reason}.")
        out.extend(_summary(trace, n))
        return out
    out.extend(_forward(trace, n))
    out.extend(_loss(trace, n))
    out.extend(_output_error(trace, n))
    if len(trace.layers) > 1:
        out.extend(n.heading("Hidden errors, equation (2), with the weights from before the "
                             "update"))
        out.extend(n.block(n.hidden_error()))
        for act in sorted({info.activation for info in trace.layers[:-1]}):
            out.append(n.prose(_derivative_note(trace, n, act)))
        out.extend(_deltas(trace, n, hidden=True))
        out.extend(_stale(trace, n))
    out.extend(_gradients(trace, n))
    out.extend(_update(trace, n))
    out.extend(n.heading("Per layer"))
    out.extend(_summary_table(trace, n))
    out.append("")
    out.append(_largest_error(trace, n))
    return out


def _largest_error(trace: StepRecord, n: TextNotation) -> str:
    kinks = len(trace.kink_warnings)
    left_out = f" ({kinks} {AT_A_KINK})" if kinks else ""
    return (f"Largest relative error between backpropagation and central differences: "
            f"{n.num(trace.max_relative_error)}{left_out}.")


def _update(trace: StepRecord, n: TextNotation) -> list[str]:
    """w ← w − η ∂L/∂w for every parameter, or a line saying there is no update."""
    if trace.lr == 0:
        out = n.heading("Update")
        out.append(n.prose("None: the learning rate is 0, so this shows the gradients only."))
        return out
    out = n.heading("Update: gradient descent with the weights from before the update")
    out.extend(n.block(n.update_formula(trace.lr)))
    for g in trace.gradients:
        if g.frozen:
            out.append(n.line(f"{param_symbol(g, n)} = {n.num(g.old)}") + "  (frozen: kept)")
            continue
        out.append(n.line(f"{param_symbol(g, n)}{n.arrow}{n.num(g.old)}{n.minus}"
                          f"{n.num(trace.lr)}{n.times}{n.factor(g.value)} = {n.num(g.new)}"))
    return out


def _stale(trace: StepRecord, n: TextNotation) -> list[str]:
    """The hidden δ once more, as a loop that updates the weights above first gets them."""
    if not trace.stale:
        return []
    out = n.heading("The stale-weights pitfall: δ from weights already updated (wrong)")
    assert trace.stale_rule is not None
    out.append(n.prose(trace.stale_rule))
    out.append(n.prose(STALE_NOTE))
    header = ["sample", "δ", "correct", "stale (wrong)", "difference"]
    rows = [[str(d.sample), n.var("delta", str(d.unit), d.layer), n.num(d.correct),
             n.num(d.stale), n.num(d.stale - d.correct)] for d in trace.stale]
    out.extend(n.table(header, rows))
    return out


def _forward(trace: StepRecord, n: TextNotation) -> list[str]:
    """z_j^[l] = Σ_k w_jk a_k + b_j and a_j = σ(z_j), every unit of every sample
    (a softmax layer: all of its z first, since each a_j needs every z)."""
    out = n.heading("Forward pass")
    out.extend(n.block(n.forward_formula(trace.has_bias)))
    for s in range(1, trace.m + 1):
        if trace.m > 1:
            out.extend(n.sample_heading(s))
        out.append(n.line(f"x = {n.paren(', '.join(n.num(v) for v in trace.X[s - 1]))}"))
        out.append(n.line(f"y = {n.paren(', '.join(n.num(v) for v in trace.Y[s - 1]))}"))
        for info in trace.layers:
            z_lines, a_lines = [], []
            for unit in (u for u in trace.forward if u.sample == s and u.layer == info.layer):
                terms = [f"{n.factor(w)}{n.times}{n.factor(a)}"
                         for w, a in zip(unit.weights, unit.inputs, strict=True)]
                if unit.bias is not None:
                    terms.append(n.factor(unit.bias))
                z = n.var("z", str(unit.unit), unit.layer)
                a = n.var("a", str(unit.unit), unit.layer)
                z_lines.append(n.line(f"{z} = {' + '.join(terms)} = {n.num(unit.z)}"))
                sigma = (n.softmax_of(unit.layer, unit.unit) if info.activation == "softmax"
                         else n.applied(info.activation, z))
                a_lines.append(n.line(f"{a} = {sigma} = {n.num(unit.a)}"))
            if info.activation == "softmax":
                out.extend(z_lines + a_lines)
            else:
                out.extend(line for pair in zip(z_lines, a_lines, strict=True) for line in pair)
    return out


def _loss(trace: StepRecord, n: TextNotation) -> list[str]:
    """ℓ of each sample and their mean L."""
    out = n.heading(f"Loss ({trace.loss})")
    out.extend(n.block(n.loss_formula(trace.loss, trace.loss_formula)))
    for sample in trace.losses:
        label = n.ell if trace.m == 1 else n.sample_ell(sample.sample)
        detail = ""
        if trace.loss == "mse":
            squares = " + ".join(n.square(f"{n.num(a)}{n.minus}{n.factor(t)}")
                                 for a, t in zip(sample.outputs, sample.targets, strict=True))
            many = len(sample.outputs) > 1
            detail = f"{n.half}{n.paren(squares) if many else squares} = "
        elif trace.loss in ("cross_entropy", "binary_cross_entropy"):
            detail = _cross_entropy_terms(trace.loss, sample.outputs, sample.targets, n) + " = "
        out.append(n.line(f"{label} = {detail}{n.num(sample.value)}"))
    if trace.m > 1:
        terms = [n.num(s.value) for s in trace.losses]
        out.append(n.line(f"L = {n.mean(terms)} = {n.num(trace.loss_value)}"))
    else:
        out.append(n.line(f"L = {n.num(trace.loss_value)}"))
    return out


def _cross_entropy_terms(loss: str, outputs: list[float], targets: list[float],
                         n: TextNotation) -> str:
    """−Σ_k y_k ln a_k (and + (1 − y_k) ln(1 − a_k) for binary) with the numbers; terms
    whose factor y_k (or 1 − y_k) is 0 are left out."""
    terms = []
    for a, y in zip(outputs, targets, strict=True):
        if y != 0:
            terms.append(f"{n.factor(y)}{n.times}{n.log(n.num(a))}")
        if loss == "binary_cross_entropy" and y != 1:
            terms.append(f"{n.factor(1 - y)}{n.times}{n.log(f'1{n.minus}{n.num(a)}')}")
    return f"−{n.paren(' + '.join(terms) if terms else '0')}"


def _output_error(trace: StepRecord, n: TextNotation) -> list[str]:
    """Equation (1) and its numbers."""
    output_act = trace.layers[-1].activation
    out = n.heading("Output error, equation (1)")
    if trace.fused:
        out.extend(n.block(n.fused_output_error()))
        assert trace.fused_note is not None
        out.append(n.prose(f"Note: {trace.fused_note}"))
    elif output_act == "softmax":
        out.extend(n.block(n.softmax_output_error()))
    else:
        out.extend(n.block(n.output_error()))
        out.append(n.prose(_derivative_note(trace, n, output_act)))
    out.extend(_deltas(trace, n, hidden=False))
    return out


def _derivative_note(trace: StepRecord, n: TextNotation, activation: str) -> str:
    """σ' of an activation, as its class writes it."""
    if activation == "softmax":
        return n.softmax_note()
    formula = trace.derivative_formulas.get(activation)
    if formula is None:
        return n.unknown_derivative_note(activation)
    return n.derivative_note(activation, formula)


def _deltas(trace: StepRecord, n: TextNotation, hidden: bool) -> list[str]:
    """δ_j^[l] of the output layer (``hidden`` False) or of the hidden layers, per sample."""
    L = trace.layers[-1].layer
    chosen = [d for d in trace.deltas if (d.layer < L) == hidden]
    out: list[str] = []
    for s in range(1, trace.m + 1):
        if trace.m > 1:
            out.append(n.sample_label(s))
        for d in (d for d in chosen if d.sample == s):
            out.extend(_delta_lines(trace, n, d))
    return out


def _delta_lines(trace: StepRecord, n: TextNotation, d: Delta) -> list[str]:
    out_var = n.var("delta", str(d.unit), d.layer)
    a = n.var("a", str(d.unit), d.layer)
    z = n.var("z", str(d.unit), d.layer)
    y = n.var("y", str(d.unit))
    if d.kind == "fused":
        assert d.target is not None
        lines = [n.line(f"{out_var} = {a}{n.minus}{y} = {n.num(d.a)}{n.minus}"
                        f"{n.factor(d.target)} = {n.num(d.delta)}")]
        if d.mse_delta is not None:
            lines.append(n.line(_mse_comparison(n, d, out_var, a, y, z)))
        return lines
    assert d.upstream is not None
    if d.kind == "output":
        assert d.target is not None
        if trace.loss == "mse":
            g_sym = n.paren(f"{a}{n.minus}{y}")
            g_num = n.paren(f"{n.num(d.a)}{n.minus}{n.factor(d.target)}")
        else:
            g_sym, g_num = n.d_loss_d(a), n.factor(d.upstream)
    else:
        sums = [f"{n.factor(w)}{n.times}{n.factor(dk)}"
                for w, dk in zip(d.weights, d.deltas_above, strict=True)]
        g_sym = n.paren(n.weighted_sum(d.unit, d.layer + 1))
        g_num = n.paren(" + ".join(sums))
    if d.softmax_inner is not None:
        g_j = n.var("g", str(d.unit))
        bracket = n.paren(f"{n.num(d.upstream)}{n.minus}{n.factor(d.softmax_inner)}")
        return [n.line(f"{g_j} = {g_sym} = {g_num} = {n.num(d.upstream)}"),
                n.line(f"{out_var} = {a}{n.paren(f'{g_j}{n.minus}{n.softmax_inner}')} = "
                       f"{n.num(d.a)}{n.times}{bracket} = {n.num(d.delta)}")]
    assert d.sigma_prime is not None
    product = f"{g_num}{n.times}{n.factor(d.sigma_prime)}"
    if g_num != n.factor(d.upstream):
        product += f" = {n.factor(d.upstream)}{n.times}{n.factor(d.sigma_prime)}"
    return [n.line(f"{out_var} = {g_sym}{n.times}{n.sigma_prime(z)} = {product} = "
                   f"{n.num(d.delta)}")]


def _mse_comparison(n: TextNotation, d: Delta, out_var: str, a: str, y: str, z: str) -> str:
    """δ_j had the loss been mse on the same outputs: σ'(z) (or softmax's Jacobian) stays."""
    assert d.mse_delta is not None
    if d.mse_factor is not None:
        return (f"{n.mse_comparison()}: {out_var} = {n.paren(f'{a}{n.minus}{y}')}{n.times}"
                f"{n.sigma_prime(z)} = {n.factor(d.delta)}{n.times}{n.factor(d.mse_factor)} = "
                f"{n.num(d.mse_delta)}")
    inner = n.paren(f"{a}{n.minus}{y}{n.minus}{n.softmax_mse_inner}")
    return f"{n.mse_comparison()}: {out_var} = {a}{inner} = {n.num(d.mse_delta)}"


def _gradients(trace: StepRecord, n: TextNotation) -> list[str]:
    """Equations (3) and (4), each gradient beside its central-difference estimate."""
    out = n.heading("Gradients, equations (3) and (4)")
    out.extend(n.block(n.gradient_formulas(batch=trace.m > 1, bias=trace.has_bias)))
    out.append(n.prose(f"Beside each gradient: its central-difference estimate "
                       f"(L(θ + h) − L(θ − h)) / 2h with h = {n.num(trace.step)}, and the "
                       f"relative error |g_num − g| / (|g_num| + |g|)."))
    out.extend(_gradient_line(g, trace, n) for g in trace.gradients)
    out.extend(n.prose(f"warning: {w}") for w in trace.kink_warnings)
    return out


def param_symbol(g: Gradient, n: TextNotation) -> str:
    """w_jk^[l] or b_j^[l]."""
    if g.name == "w":
        assert g.input is not None
        return n.weight(g.unit, g.input, g.layer)
    return n.var("b", str(g.unit), g.layer)


def _gradient_line(g: Gradient, trace: StepRecord, n: TextNotation) -> str:
    delta = n.var("delta", str(g.unit), g.layer)
    if g.name == "w":
        assert g.input is not None
        symbolic = f"{delta} {n.var('a', str(g.input), g.layer - 1)}"
        products = [f"{n.factor(d)}{n.times}{n.factor(x)}"
                    for d, x in zip(g.deltas, g.inputs, strict=True)]
    else:
        symbolic = delta
        products = [n.factor(d) for d in g.deltas]
    if trace.m == 1:
        body = f"{symbolic} = {products[0]}" if g.name == "w" else symbolic
    else:
        body = f"{n.sample_mean}{symbolic} = {n.mean(products)}"
        if g.name == "w":
            body += f" = {n.mean([n.factor(p) for p in g.per_sample])}"
    check = (f"numeric {n.num(g.numeric)}, {AT_A_KINK}" if g.at_kink else
             f"numeric {n.num(g.numeric)}, relative error {n.num(g.relative_error)}")
    return n.gradient_line(f"{n.partial(param_symbol(g, n))} = {body} = {n.num(g.value)}", check)


def tensor_rows(trace: StepRecord) -> tuple[list[str], list[list[str]]]:
    """The per-tensor table: its header and one row per parameter tensor."""
    header = ["layer", "kind", "tensor", "shape", "‖∂L/∂θ‖", "max rel. error", "checked",
              AT_A_KINK, "‖update‖"]
    d = trace.digits
    return header, [[str(t.layer), t.kind, t.name, "×".join(map(str, t.shape)),
                     fmt(t.grad_norm, d), fmt(t.max_relative_error, d), str(t.checked),
                     str(t.kink_entries), "frozen" if t.frozen else fmt(t.update_norm, d)]
                    for t in trace.tensors]


def summary_rows(trace: StepRecord) -> tuple[list[str], list[list[str]]]:
    """The per-layer table: its header and one row of numbers per layer."""
    header = ["layer", "units", "σ", "z min", "z max", "a min", "a max", "δ min", "δ max",
              "‖δ‖", "‖W‖", "‖∂L/∂W‖", "‖∂L/∂b‖", "‖update‖", "max rel. error", "checked"]
    d = trace.digits
    rows = []
    for s in trace.summaries:
        rows.append([
            str(s.layer), f"{s.n_in}→{s.n_out}", s.activation,
            *(fmt(v, d) for v in (s.z_min, s.z_max, s.a_min, s.a_max, s.delta_min,
                                  s.delta_max, s.delta_norm, s.weight_norm, s.grad_w_norm)),
            "—" if s.grad_b_norm is None else fmt(s.grad_b_norm, d),
            fmt(s.update_norm, d), fmt(s.max_relative_error, d), str(s.checked),
        ])
    return header, rows


def _summary(trace: StepRecord, n: TextNotation) -> list[str]:
    """The whole trace of a network too large to write out: loss and the per-layer table."""
    out = n.heading("Loss")
    out.append(f"L = {n.num(trace.loss_value)} ({trace.loss}, mean over {trace.m} "
               f"sample{'s' if trace.m > 1 else ''})")
    if trace.fused_note:
        out.append("")
        out.append(f"Note: {trace.fused_note}")
    if trace.tensors:
        out.extend(n.heading("Per tensor"))
        out.extend(n.table(*tensor_rows(trace)))
        out.append("")
        out.append(f"The numerical check (h = {n.num(trace.step)}) covers every entry; "
                   f"‖update‖ = η ‖∂L/∂θ‖ with η = {n.num(trace.lr)} (0 for a frozen tensor).")
    else:
        out.extend(n.heading("Per layer"))
        out.extend(_summary_table(trace, n))
        out.append(f"The numerical check (h = {n.num(trace.step)}) covers up to "
                   f"{SUMMARY_CHECKS} entries per tensor.")
    out.append(_largest_error(trace, n))
    out.extend(f"warning: {w}" for w in trace.kink_warnings)
    return out


def _summary_table(trace: StepRecord, n: TextNotation) -> list[str]:
    return [*n.table(*summary_rows(trace)), "",
            f"Norms are Euclidean over the layer (and the batch for δ); ‖update‖ = η ‖∇‖ "
            f"with η = {n.num(trace.lr)}."]
