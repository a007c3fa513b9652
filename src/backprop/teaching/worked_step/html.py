"""The worked step as HTML tables, for Jupyter (``Trace._repr_html_``)."""

from __future__ import annotations

import html

from backprop.teaching.gradcheck import AT_A_KINK
from backprop.teaching.worked_step.layout import (
    STALE_NOTE,
    param_symbol,
    render,
    summary_rows,
    tensor_rows,
)
from backprop.teaching.worked_step.naming import get_naming
from backprop.teaching.worked_step.notation import TextNotation
from backprop.teaching.worked_step.records import StepRecord


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html_steps(steps: list[StepRecord]) -> str:
    """Each step's tables, one after the other."""
    return "".join(render_html(record, of=len(steps)) for record in steps)


def render_html(trace: StepRecord, of: int = 1) -> str:
    """One table per stage: forward pass, losses, errors δ, gradients and the update."""
    f = TextNotation(trace.digits, get_naming(trace.notation))
    text = render(trace, f, of=of)
    parts = [f"<div class='backprop-explain'><p><b>{html.escape(text[0])}</b></p>",
             f"<p>{html.escape(text[2])}</p>"]
    parts.extend(f"<p>{html.escape(w)}</p>" for w in trace.warnings)
    if trace.summarized:
        parts.append(f"<p>This network is too large to write out number by number: "
                     f"{html.escape(trace.summary_reason or '')}.</p>")
        parts.append(f"<p>Loss L = {f.num(trace.loss_value)} ({html.escape(trace.loss)})</p>")
        parts.append(_table(*(tensor_rows(trace) if trace.tensors else summary_rows(trace))))
        parts.append("</div>")
        return "".join(parts)
    rows = []
    for u in trace.forward:
        terms = [f"{f.factor(w)}·{f.factor(a)}" for w, a in zip(u.weights, u.inputs, strict=True)]
        if u.bias is not None:
            terms.append(f.factor(u.bias))
        rows.append([str(u.sample), str(u.layer), str(u.unit), " + ".join(terms), f.num(u.z),
                     f.num(u.a)])
    parts.append("<h4>Forward pass: z = Σ w·a + b, a = σ(z)</h4>")
    parts.append(_table(["sample", "layer", "unit", "Σ_k w_jk a_k (+ b_j)", "z", "a"], rows))
    parts.append(f"<h4>Loss ({html.escape(trace.loss)})</h4>")
    parts.append(_table(["sample", "ℓ"], [[str(s.sample), f.num(s.value)]
                                          for s in trace.losses]
                        + [["mean L", f.num(trace.loss_value)]]))
    parts.append("<h4>Errors δ, equations (1) and (2)</h4>")
    if trace.fused_note:
        parts.append(f"<p>Note: {html.escape(trace.fused_note)}</p>")
    parts.append(_table(
        ["sample", "layer", "unit", "kind", "∂ℓ/∂a or Σ w δ", "σ'(z)", "δ"],
        [[str(d.sample), str(d.layer), str(d.unit), d.kind,
          "" if d.upstream is None else f.num(d.upstream),
          "" if d.sigma_prime is None else f.num(d.sigma_prime), f.num(d.delta)]
         for d in trace.deltas]))
    if trace.stale:
        parts.append("<h4>The stale-weights pitfall (wrong on purpose)</h4>")
        parts.append(f"<p>{html.escape(STALE_NOTE)}</p>")
        parts.append(_table(["sample", "δ", "correct", "stale (wrong)"],
                            [[str(d.sample), f.var("delta", str(d.unit), d.layer),
                              f.num(d.correct), f.num(d.stale)] for d in trace.stale]))
    parts.append(f"<h4>Gradients (3), (4) and the update, η = {f.num(trace.lr)}</h4>")
    parts.append(_table(
        ["parameter", "per sample", "∂L/∂θ", "numeric", "rel. error", "old", "new"],
        [[param_symbol(g, f), ", ".join(f.num(p) for p in g.per_sample), f.num(g.value),
          f.num(g.numeric), AT_A_KINK if g.at_kink else f.num(g.relative_error),
          f.num(g.old), f.num(g.new)]
         for g in trace.gradients]))
    parts.extend(f"<p>warning: {html.escape(w)}</p>" for w in trace.kink_warnings)
    parts.append("</div>")
    return "".join(parts)
