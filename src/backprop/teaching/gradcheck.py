"""Gradient checking: backpropagation against central differences.

For every parameter θ_i the numerical gradient is

    ∂L/∂θ_i ≈ (L(θ + h e_i) − L(θ − h e_i)) / 2h,

an estimate whose error is O(h²), computed in float64 (a float32 network
is checked on a float64 copy). The report gives, per layer and tensor,
the relative error ‖g_num − g‖ / (‖g_num‖ + ‖g‖), and the same over all
parameters; values near 1e-10 mean the backward pass is right. The two
formulas are public, :func:`central_difference` and :func:`relative_error`,
and the worked step (:func:`backprop.explain`) uses them too.

A ReLU-type unit whose z lies within the step of its kink (0) makes the
difference quotient straddle a corner, so the estimate there is wrong
while backpropagation is not. Such crossings are detected (the sign of z
changes between θ ± h), left out of the pass/fail verdict and reported as
warnings that name the layer, unit and sample.

Central differences cannot resolve a gradient finer than their rounding
error, about ε·|L|/h per entry (ε = 2.2e-16). A tensor whose whole
gradient is that small (a deep sigmoid network's first layer, say) passes
when ‖g_num − g‖ is within that resolution, and the report says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from backprop.errors import OptionError
from backprop.network import Network
from backprop.nn.dropout import Dropout
from backprop.validation import check_positive_number, check_seed


def central_difference(loss: Callable[[], float], params: np.ndarray, i: int,
                       step: float) -> float:
    """(L(θ + h e_i) − L(θ − h e_i)) / 2h, with ``loss()`` evaluated at each shifted θ.

    ``params`` is perturbed in place and restored afterwards, bit for bit.
    """
    original = params[i]
    params[i] = original + step
    plus = loss()
    params[i] = original - step
    minus = loss()
    params[i] = original
    return float((plus - minus) / (2.0 * step))


def relative_error(numeric: ArrayLike, analytic: ArrayLike) -> float:
    """‖g_num − g‖ / (‖g_num‖ + ‖g‖) of numbers or arrays, and 0 when both are 0."""
    g_num, g = np.asarray(numeric, dtype=np.float64), np.asarray(analytic, dtype=np.float64)
    scale = float(np.linalg.norm(g_num) + np.linalg.norm(g))
    difference = float(np.linalg.norm(g_num - g))
    return 0.0 if scale == 0.0 else difference / scale


@dataclass
class TensorCheck:
    """The check of one parameter tensor (one layer's W or b)."""

    layer: int  # 1-based, as in W^[l]
    name: str
    shape: tuple[int, ...]
    checked: int
    relative_error: float  # over the checked entries not at a kink
    max_abs_error: float
    kink_entries: int  # entries whose ±h step crossed a ReLU kink
    passed: bool
    below_resolution: bool = False  # passed because ‖g_num − g‖ is rounding noise


@dataclass
class GradcheckReport:
    """Result of :func:`gradcheck`; truthy when every tensor passed."""

    tensors: list[TensorCheck]
    relative_error: float  # overall, every checked entry not at a kink
    tolerance: float
    step: float
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.tensors)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        lines = [
            f"gradcheck {verdict}: central differences in float64, step h={self.step:g}, "
            f"tolerance {self.tolerance:g}",
            f"{'layer':>5}  {'tensor':<6} {'shape':<12} {'checked':>7}  "
            f"{'rel. error':>10}  {'max |Δ|':>9}  result",
        ]
        for t in self.tensors:
            lines.append(
                f"{t.layer:>5}  {t.name:<6} {t.shape!s:<12} {t.checked:>7}  "
                f"{t.relative_error:>10.2e}  {t.max_abs_error:>9.2e}  "
                f"{'ok' if t.passed else 'FAIL'}"
                + ("  (difference below the resolution of central differences)"
                   if t.below_resolution else "")
                + (f"  ({t.kink_entries} {AT_A_KINK})" if t.kink_entries else "")
            )
        lines.append(f"overall ‖g_num − g‖ / (‖g_num‖ + ‖g‖) = {self.relative_error:.2e}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "relative_error": self.relative_error,
            "tolerance": self.tolerance,
            "step": self.step,
            "tensors": [t.__dict__ | {"shape": list(t.shape)} for t in self.tensors],
            "warnings": list(self.warnings),
        }


class KinkWatch:
    """Which units of a ReLU-type layer (an activation with ``kinks``) change the sign of
    z since the forward pass that was current when the watch was made.

    Make it right after a forward pass of ``net``; after each perturbed forward pass
    call :meth:`note`; :attr:`crossed` then lists (layer, unit, sample), 1-based layer,
    0-based unit and sample, of every crossing since :meth:`clear`.
    """

    def __init__(self, net: Network) -> None:
        self._kinked = [
            (number, layer)
            for number, layer in enumerate(net.layers, start=1)
            if getattr(getattr(layer, "activation", None), "kinks", ())
        ]
        self._signs = [layer.z > 0 for _, layer in self._kinked]  # type: ignore[attr-defined]
        self.crossed: list[tuple[int, int, int]] = []

    def clear(self) -> None:
        self.crossed.clear()

    def note(self) -> None:
        """Add the crossings of the latest forward pass."""
        for (number, layer), signs in zip(self._kinked, self._signs, strict=True):
            changed = np.argwhere((layer.z > 0) != signs)  # type: ignore[attr-defined]
            self.crossed.extend((number, int(unit), int(sample)) for sample, unit in changed)


def kink_warning(layer: int, name: str, entry: tuple[int, ...], step: float,
                 crossing: tuple[int, int, int]) -> str:
    """The one line that says why the central difference of one entry is left out."""
    layer_no, unit, sample = crossing
    where = ", ".join(str(j) for j in entry)
    return (f"layer {layer} {name}[{where}]: the ±{step:g} step moves unit {unit} of layer "
            f"{layer_no} (sample {sample}) across the ReLU kink at z = 0, so the numerical "
            f"gradient there is unreliable (not a bug)")


#: How a gradient whose central difference crossed a kink is described, in every report.
AT_A_KINK = "at a kink, left out"

#: The steps h a central difference can use: above the largest its O(h²) error measures
#: the loss's curvature over a wide span rather than the gradient; below the smallest
#: θ ± h rounds back towards θ and rounding error (about ε·|L|/h) swamps the difference.
STEP_RANGE = (1e-10, 1e-1)


def check_settings(
    step: Any, tolerance: Any, *, step_name: str = "gradcheck step",
    tolerance_name: str = "gradcheck tolerance",
) -> tuple[float, float]:
    """(step, tolerance) if gradcheck can use them, else an OptionError that says why.

    The relative error ‖g_num − g‖ / (‖g_num‖ + ‖g‖) lies in [0, 1], so a tolerance
    of 1 or more would pass any gradient.
    """
    step = check_positive_number(step, step_name)
    tolerance = check_positive_number(tolerance, tolerance_name)
    low, high = STEP_RANGE
    if step > high:
        raise OptionError(
            f"{step_name} {step:g} is beyond {high:g}: a central difference's error grows "
            f"as h², so it would measure the curvature, not the gradient; use a step in "
            f"[{low:g}, {high:g}] (1e-5 is usual)"
        )
    if step < low:
        raise OptionError(
            f"{step_name} {step:g} is below {low:g}: θ ± h rounds back towards θ and "
            f"rounding error (about 2.2e-16·|L|/h) swamps the difference; use a step in "
            f"[{low:g}, {high:g}] (1e-5 is usual)"
        )
    if tolerance >= 1.0:
        raise OptionError(
            f"{tolerance_name} {tolerance:g} passes any gradient: the relative error "
            "‖g_num − g‖ / (‖g_num‖ + ‖g‖) is at most 1; use a tolerance below 1 (1e-6 is usual)"
        )
    return step, tolerance


def gradcheck(
    net: Network,
    X: Any,
    y: Any,
    *,
    step: float = 1e-5,
    tolerance: float = 1e-6,
    max_checks_per_tensor: int | None = None,
    seed: int = 0,
) -> GradcheckReport:
    """Compare backpropagation's gradients with central differences on (X, y).

    Arguments:
        net: the network to check (left untouched: a float64 copy is used, so
            neither its generator nor BatchNorm's running statistics move).
            Forward passes run in training mode: BatchNorm uses the batch's
            statistics, and each Dropout layer draws one mask, then keeps it.
        X: a batch's inputs, as for :meth:`Network.gradients`.
        y: its targets.
        step: h of the central difference, in [1e-10, 0.1] (:data:`STEP_RANGE`).
        tolerance: the largest relative error that passes, in (0, 1).
        max_checks_per_tensor: check a random subset of each tensor's entries
            (for large networks); ``None`` checks every entry.
        seed: chooses that subset.
    """
    step, tolerance = check_settings(step, tolerance)
    check_seed(seed, "gradcheck seed")
    copy = net.copy(dtype="float64")
    X64 = copy.check_inputs(X)
    Y64, _ = copy.prepare_targets(y, X64.shape[0])

    def loss() -> float:
        copy.forward_batch(X64, training=True)
        return copy.batch_loss(Y64)

    # Dropout: draw one mask with this forward pass, then keep it for every other
    # (the copy's generator draws it; the network's own is untouched).
    base_loss = copy.backprop(X64, Y64)
    for layer in copy.layers:
        if isinstance(layer, Dropout):
            layer.freeze_mask = True
    analytic = copy.grads.copy()
    # rounding error of one central difference, per entry
    resolution = 10.0 * np.finfo(np.float64).eps * max(abs(base_loss), 1.0) / step
    watch = KinkWatch(copy)

    def loss_noting_crossings() -> float:
        value = loss()
        watch.note()
        return value

    rng = np.random.default_rng(seed)
    tensors: list[TensorCheck] = []
    warnings: list[str] = []
    all_numeric: list[np.ndarray] = []
    all_analytic: list[np.ndarray] = []
    for index, name, where in copy.parameter_slices:
        shape = copy.layers[index].parameter_shapes()[name]
        positions = np.arange(where.start, where.stop)
        if max_checks_per_tensor is not None and positions.size > max_checks_per_tensor:
            positions = np.sort(rng.choice(positions, max_checks_per_tensor, replace=False))
        numeric = np.empty(positions.size)
        at_kink = np.zeros(positions.size, dtype=bool)
        for k, i in enumerate(positions):
            watch.clear()
            numeric[k] = central_difference(loss_noting_crossings, copy.params, int(i), step)
            if watch.crossed:
                at_kink[k] = True
                entry = tuple(int(j) for j in np.unravel_index(i - where.start, shape))
                warnings.append(kink_warning(index + 1, name, entry, step, watch.crossed[0]))
        exact = analytic[positions]
        keep = ~at_kink
        error = relative_error(numeric[keep], exact[keep])
        noise = float(np.linalg.norm(numeric[keep] - exact[keep]))
        within_noise = error > tolerance and noise <= resolution * np.sqrt(max(keep.sum(), 1))
        tensors.append(
            TensorCheck(
                layer=index + 1,
                name=name,
                shape=shape,
                checked=int(positions.size),
                relative_error=error,
                max_abs_error=float(np.max(np.abs(numeric - exact), initial=0.0)),
                kink_entries=int(at_kink.sum()),
                passed=error <= tolerance or within_noise,
                below_resolution=bool(within_noise),
            )
        )
        all_numeric.append(numeric[keep])
        all_analytic.append(exact[keep])
    overall = relative_error(np.concatenate(all_numeric), np.concatenate(all_analytic))
    return GradcheckReport(tensors, overall, tolerance, step, warnings)
