"""solver="lbfgs": SciPy's L-BFGS-B on the network's flat parameter buffer.

The objective is J(θ) of :mod:`backprop.sklearn.objective` on the whole
training set, its gradient the one :meth:`backprop.Network.backprop` fills
(plus the L2 penalty): θ goes into ``net.params`` in place, so the layers'
W and b (views into it) follow. As scikit-learn does, ``max_iter`` bounds the
iterations, ``max_fun`` the evaluations of J, and ``tol`` is L-BFGS-B's
``gtol`` (the largest projected gradient component at which it stops).
SciPy works in float64; a float32 network receives θ rounded to float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop._typing import Array
from backprop.network import Network
from backprop.sklearn.objective import penalized_backprop


def minimize_lbfgs(
    net: Network,
    X: Array,
    Y: Array,
    *,
    alpha: float,
    max_iter: int,
    max_fun: int,
    tol: float,
    verbose: bool,
    sample_weight: Array | None = None,
) -> tuple[Any, list[float]]:
    """Run L-BFGS-B from the network's current θ; returns SciPy's result and J per iteration.

    J weighs the rows by ``sample_weight`` when given (:func:`penalized_backprop`).
    Afterwards ``net.params`` holds the result's θ.
    """
    from scipy.optimize import minimize

    def objective(theta: Array) -> tuple[float, Array]:
        net.params[...] = theta
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss = penalized_backprop(net, X, Y, alpha, sample_weight)
        return loss, net.grads.astype(np.float64)

    curve: list[float] = []

    def record(intermediate_result: Any) -> None:
        curve.append(float(intermediate_result.fun))
        if verbose:
            print(f"Iteration {len(curve)}, loss = {curve[-1]:.8f}")

    result = minimize(
        objective,
        net.params.astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=record,
        options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
    )
    net.params[...] = result.x
    return result, curve
