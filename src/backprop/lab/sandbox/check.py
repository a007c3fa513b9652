"""The sandbox's "Check": backpropagation's gradients against central differences.

With the rule "none" the gradients checked are the engine's own
(``Network.backprop``) and the per-layer table is ``bp.gradcheck``'s report.
With a broken rule the gradients come from ``backprop.teaching.reference`` with that
known-wrong backward rule swapped in (the engine is never altered), and each
tensor they change is compared with the same central differences. Per edge,
the numerical gradient is the worked step's estimate (``bp.explain``: float64,
h = 1e-5), the relative error is |g_num − g| / (|g_num| + |g|), and an entry
whose ±h step crosses a ReLU kink (named in gradcheck's warnings) is flagged
and left out of the verdict.

Every judgement is made here, not on the page: the verdict, each tensor's
result, and each edge's grade (:func:`edge_grade`), whose thresholds the page's
legend also receives (:func:`grade_legend`).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from backprop.network import Network
from backprop.nn.layers import Dense
from backprop.teaching.gradcheck import GradcheckReport, gradcheck, relative_error
from backprop.teaching.reference import reference_step
from backprop.teaching.worked_step import Trace

#: The largest relative error that passes (per tensor, and per edge for the grade "ok").
TOLERANCE = 1e-6
#: An edge's relative error above the tolerance but at most this is graded "warn" (close,
#: as rounding or a nearby kink can make it), above it "bad".
WARN_ERROR = 1e-3

#: gradcheck's warning about an entry at a kink: "layer 2 W[0, 1]: ..." (0-based entry).
_KINK_WARNING = re.compile(r"layer (\d+) (W|b)\[(\d+)(?:, (\d+))?\]:")


def parameter_id(layer: int, name: str, unit: int, source: int | None) -> str:
    """"w-L-J-K" for w_jk^[l], "b-L-J" for b_j^[l] (all counted from 1)."""
    return f"w-{layer}-{unit}-{source}" if name == "W" else f"b-{layer}-{unit}"


def edge_grade(relative_error: float, kink: bool) -> str:
    """One entry's grade, as the page paints it: "kink" (left out of the verdict), "ok"
    (within :data:`TOLERANCE`), "warn" (within :data:`WARN_ERROR`) or "bad"."""
    if kink:
        return "kink"
    if relative_error <= TOLERANCE:
        return "ok"
    return "warn" if relative_error <= WARN_ERROR else "bad"


def grade_legend() -> list[dict[str, str]]:
    """Each grade and what it means, for the page's legend."""
    return [{"grade": "ok", "text": f"≤ {TOLERANCE:g}"},
            {"grade": "warn", "text": f"≤ {WARN_ERROR:g}"},
            {"grade": "bad", "text": "larger"},
            {"grade": "kink", "text": "at a ReLU kink"}]


def kink_ids(warnings: list[str]) -> set[str]:
    """Ids of the entries whose numerical gradient gradcheck flagged at a ReLU kink."""
    found = set()
    for warning in warnings:
        if match := _KINK_WARNING.match(warning):
            layer, name, j, k = match.groups()
            found.add(parameter_id(int(layer), name, int(j) + 1,
                                   None if k is None else int(k) + 1))
    return found


def engine_gradients(net: Network, X: np.ndarray, Y: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Per Dense layer, {"W": ∂L/∂W, "b": ∂L/∂b} from ``Network.backprop`` on a copy."""
    copy = net.copy(dtype="float64")
    copy.backprop(X, Y)
    result = []
    for layer in copy.layers:
        assert isinstance(layer, Dense)
        grads = {"W": layer.dW.copy()}
        if layer.db is not None:
            grads["b"] = layer.db.copy()
        result.append(grads)
    return result


def broken_gradients(net: Network, X: np.ndarray, Y: np.ndarray, mistake: str,
                     lr: float) -> list[dict[str, np.ndarray]]:
    """The same gradients computed with a known-wrong backward rule (``teaching.reference``)."""
    step = reference_step(net, X, Y, mistake=mistake, lr=lr)
    result = []
    for dW, db in zip(step.dW, step.db, strict=True):
        grads = {"W": np.asarray(dW, dtype=np.float64)}
        if db is not None:
            grads["b"] = np.asarray(db, dtype=np.float64)
        result.append(grads)
    return result


def numeric_gradients(trace: Trace) -> dict[str, float]:
    """The central-difference estimate of every parameter, from the worked step's trace."""
    return {
        parameter_id(g.layer, "W" if g.name == "w" else "b", g.unit, g.input): g.numeric
        for g in trace.gradients
    }


def run_check(net: Network, X: np.ndarray, Y: np.ndarray, trace: Trace, *,
              mistake: str, lr: float) -> dict[str, Any]:
    """The check's result as JSON-ready data: verdict, per-layer table and per-edge errors.

    ``trace`` is ``bp.explain(net, X, Y, lr=lr)``; ``mistake`` is "none" or a
    key of ``backprop.teaching.reference.MISTAKES``.
    """
    report = gradcheck(net, X, Y, tolerance=TOLERANCE)
    kinks = kink_ids(report.warnings)
    numeric = numeric_gradients(trace)
    engine = engine_gradients(net, X, Y)
    result: dict[str, Any] = {
        "rule": mistake, "samples": int(X.shape[0]), "tolerance": report.tolerance,
        "step": report.step, "warnings": list(report.warnings), "error": None,
    }
    if mistake == "none":
        analytic = engine
    else:
        try:
            analytic = broken_gradients(net, X, Y, mistake, lr)
        except ValueError as error:  # e.g. transpose-W on a layer that is not square
            return result | {"verdict": "N/A", "error": str(error), "tensors": [], "edges": {}}
    edges: dict[str, dict[str, Any]] = {}
    tensors: list[dict[str, Any]] = []
    for number, (mine, engines) in enumerate(zip(analytic, engine, strict=True), start=1):
        for name, grad in mine.items():
            ids = [parameter_id(number, name, int(index[0]) + 1,
                                int(index[1]) + 1 if name == "W" else None)
                   for index in np.ndindex(grad.shape)]
            num = np.array([numeric[i] for i in ids])
            flat = grad.reshape(-1)
            kinked = np.array([i in kinks for i in ids], dtype=bool)
            for i, n, g, k in zip(ids, num, flat, kinked, strict=True):
                edge = relative_error(n, g)
                edges[i] = {"numeric": float(n), "analytic": float(g), "kink": bool(k),
                            "relative_error": edge, "grade": edge_grade(edge, bool(k))}
            tensors.append(_tensor_row(report, number, name, num, flat, kinked,
                                       same_as_engine=_same(grad, engines[name])))
    passed = all(row["passed"] for row in tensors)
    return result | {"verdict": "PASS" if passed else "FAIL", "tensors": tensors, "edges": edges}


def _same(gradient: np.ndarray, engines: np.ndarray) -> bool:
    """Whether a rule left this tensor's gradient as the engine's (up to rounding)."""
    return bool(np.allclose(gradient, engines, rtol=1e-12, atol=0.0))


def _tensor_row(report: GradcheckReport, layer: int, name: str, numeric: np.ndarray,
                analytic: np.ndarray, kinked: np.ndarray, *,
                same_as_engine: bool) -> dict[str, Any]:
    """One row of the per-layer table: gradcheck's own when the gradients are the engine's."""
    if same_as_engine:
        own = next(t for t in report.tensors if t.layer == layer and t.name == name)
        return {"layer": layer, "name": name, "relative_error": own.relative_error,
                "max_abs_error": own.max_abs_error, "kink_entries": own.kink_entries,
                "passed": own.passed, "below_resolution": own.below_resolution,
                "result": _result(own.passed, own.below_resolution)}
    keep = ~kinked
    error = relative_error(numeric[keep], analytic[keep])
    passed = error <= report.tolerance
    return {"layer": layer, "name": name, "relative_error": error,
            "max_abs_error": float(np.max(np.abs(numeric - analytic), initial=0.0)),
            "kink_entries": int(kinked.sum()), "passed": passed,
            "below_resolution": False, "result": _result(passed, below_resolution=False)}


def _result(passed: bool, below_resolution: bool) -> str:
    """A tensor's result as the table reads it."""
    if not passed:
        return "FAIL"
    return "ok (below resolution)" if below_resolution else "ok"
