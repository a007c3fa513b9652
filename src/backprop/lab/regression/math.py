"""The exact pieces of /regression's picture: data, least squares, the Hessian, contours.

For one linear unit a = w·x + b and L(w, b) = (1/n) Σ ½ (w·xᵢ + b − yᵢ)², with
X the (n, 2) matrix of rows (xᵢ, 1) and θ = (w, b):

    L(θ) = L(θ*) + ½ (θ − θ*)ᵀ H (θ − θ*),   H = XᵀX / n,   θ* = (XᵀX)⁻¹ Xᵀy,

so the contours are ellipses around θ* with axes along H's eigenvectors, and
full-batch gradient descent θ ← θ − η ∇L converges iff η < 2/λ_max(H).

With momentum β (heavy ball, as SGD(lr, momentum) steps: v ← β v + ∇L, θ ← θ − η v)
each eigen-direction of H, with eigenvalue λ, follows e_{t+1} = (1 + β − ηλ) e_t − β e_{t−1},
whose roots r solve r² − (1 + β − ηλ) r + β = 0. Both lie inside the unit circle iff
0 < ηλ < 2(1 + β), so the bound becomes η < 2(1 + β)/λ_max; a root is real and negative
(the path zig-zags, flipping sign each step) iff ηλ > (1 + √β)², which is 1/λ_max at β = 0.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from backprop.lab.protocol import MAX_POINTS, FieldError
from backprop.lab.regression.protocol import MAX_COORDINATE

#: Points on each contour ellipse (the first repeated at the end).
CONTOUR_POINTS = 97
#: Contour levels drawn: L* + Δ·ratioᵏ for k = 0 .. CONTOUR_LEVELS − 1.
CONTOUR_LEVELS = 16
CONTOUR_RATIO = 0.6


def design_matrix(x: np.ndarray) -> np.ndarray:
    """X = [x, 1], (n, 2): the inputs with a column of ones for the bias."""
    return np.column_stack([x, np.ones_like(x)])


@dataclass(frozen=True)
class Scaling:
    """x' = (x − mean) / std; std is 1 when every x is equal (nothing to scale)."""

    mean: float
    std: float

    @classmethod
    def of(cls, x: np.ndarray, standardize: bool) -> Scaling:
        if not standardize or x.size == 0:
            return cls(0.0, 1.0)
        std = float(x.std())
        return cls(float(x.mean()), std if std > 0 else 1.0)

    def inputs(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std

    def to_original(self, w: float, b: float) -> tuple[float, float]:
        """(w, b) of the same line in the original units: y = w'·(x − μ)/σ + b'."""
        return w / self.std, b - w * self.mean / self.std

    def to_scaled(self, w: float, b: float) -> tuple[float, float]:
        return w * self.std, b + w * self.mean


@dataclass(frozen=True)
class Stability:
    """The eigenvalues of H = XᵀX/n and what they say about the learning rate at momentum β."""

    lambda_max: float
    lambda_min: float
    eigenvectors: np.ndarray  # columns, for λ_min then λ_max
    matrix: np.ndarray  # H itself
    momentum: float = 0.0  # β

    @property
    def condition(self) -> float | None:
        """κ = λ_max / λ_min; None when H is singular (κ infinite)."""
        if self.lambda_min <= self.lambda_max * 1e-12:
            return None
        return self.lambda_max / self.lambda_min

    @property
    def bound(self) -> float:
        """2(1 + β)/λ_max: full-batch gradient descent converges iff lr is below it."""
        return 2.0 * (1.0 + self.momentum) / self.lambda_max

    @property
    def zigzag_from(self) -> float:
        """(1 + √β)²/λ_max (1/λ_max without momentum): above it the steepest direction flips
        sign every step (zig-zag)."""
        return (1.0 + math.sqrt(self.momentum)) ** 2 / self.lambda_max

    @property
    def bound_name(self) -> str:
        return "2(1+β)/λ_max" if self.momentum else "2/λ_max"

    @property
    def zigzag_name(self) -> str:
        return "(1+√β)²/λ_max" if self.momentum else "1/λ_max"


def hessian(x: np.ndarray) -> np.ndarray:
    """H = XᵀX / n, the (constant) Hessian of L(w, b)."""
    X = design_matrix(x)
    return np.asarray(X.T @ X / x.size)


def stability(x: np.ndarray, momentum: float = 0.0) -> Stability:
    H = hessian(x)
    values, vectors = np.linalg.eigh(H)  # ascending
    return Stability(float(values[1]), max(float(values[0]), 0.0), vectors, H, momentum)


def least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """θ* = argmin L: the normal equations' solution (the shortest one when H is singular)."""
    theta = np.linalg.lstsq(design_matrix(x), y, rcond=None)[0]
    return float(theta[0]), float(theta[1])


def loss_at(x: np.ndarray, y: np.ndarray, w: float, b: float) -> float:
    """L(w, b) = (1/n) Σ ½ (w·xᵢ + b − yᵢ)²."""
    return float(np.mean(0.5 * (w * x + b - y) ** 2))


def square_view(points: list[tuple[float, float]], margin: float = 0.35) -> list[float]:
    """[lo_w, hi_w, lo_b, hi_b]: a square box holding the points with a margin, equal axes."""
    ws = [p[0] for p in points]
    bs = [p[1] for p in points]
    center_w, center_b = (min(ws) + max(ws)) / 2, (min(bs) + max(bs)) / 2
    half = max(max(ws) - min(ws), max(bs) - min(bs), 1.0) / 2 * (1 + 2 * margin)
    return [center_w - half, center_w + half, center_b - half, center_b + half]


def contours(
    x: np.ndarray, y: np.ndarray, view: list[float]
) -> tuple[list[float], list[list[list[float]]]]:
    """Levels and, per level, the ellipse {θ : L(θ) = level} as a closed polyline.

    The largest level is the loss at the view's farthest corner (its ellipse
    is cut by the view's edges, as are the next ones); the others shrink
    geometrically towards L* = L(θ*), so the narrow valley shows near θ*.
    """
    w_star, b_star = least_squares(x, y)
    minimum = loss_at(x, y, w_star, b_star)
    stab = stability(x)
    H = stab.matrix
    # the largest level: the loss at the view's farthest corner; the rest shrink towards L*
    corners = np.array([[view[i], view[j]] for i in (0, 1) for j in (2, 3)])
    offsets = corners - [w_star, b_star]
    rise = float(np.max(0.5 * np.einsum("ij,jk,ik->i", offsets, H, offsets)))
    if not math.isfinite(rise) or rise <= 0:
        rise = 1.0
    levels = [minimum + rise * CONTOUR_RATIO**k for k in range(CONTOUR_LEVELS)]
    angles = np.linspace(0.0, 2 * math.pi, CONTOUR_POINTS)
    circle = np.stack([np.cos(angles), np.sin(angles)])  # (2, points)
    # a singular H has λ_min = 0: its "ellipses" are long enough to cross the view as lines
    eigen = np.array([max(stab.lambda_min, stab.lambda_max * 1e-12), stab.lambda_max])
    lines = []
    for level in levels:
        # ½ λᵢ rᵢ² = level − L*  →  rᵢ = √(2 (level − L*) / λᵢ) along eigenvector i
        radii = np.sqrt(2 * (level - minimum) / eigen)
        radii = np.minimum(radii, 1e3 * (view[1] - view[0]))
        ellipse = stab.eigenvectors @ (radii[:, None] * circle)
        lines.append(np.column_stack([ellipse[0] + w_star, ellipse[1] + b_star]).tolist())
    return levels, lines


def generate(
    w_true: float, b_true: float, noise: float, n: int, x_min: float, x_max: float, seed: int
) -> np.ndarray:
    """(n, 2) points y = w*·x + b* + N(0, noise²), x uniform in [x_min, x_max]."""
    if not x_min < x_max:
        raise FieldError("x_max", f"The end of the x range ({x_max:g}) must be greater than "
                         f"its start ({x_min:g}).")
    rng = np.random.default_rng(seed)
    x = rng.uniform(x_min, x_max, size=n)
    y = w_true * x + b_true + rng.normal(0.0, noise, size=n)
    return np.column_stack([x, np.clip(y, -MAX_COORDINATE, MAX_COORDINATE)])


def parse_csv(text: str) -> np.ndarray:
    """(n, 2) points from CSV text: two numbers x,y per row; a first row of names is skipped."""
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if rows and not _is_number(rows[0][0]):
        rows = rows[1:]  # a header such as "x,y"
    if not rows:
        raise FieldError("text", "The CSV has no data rows; give two numbers x,y per line.")
    if len(rows) > MAX_POINTS:
        raise FieldError("text", f"The CSV has {len(rows)} rows; the plot holds at most "
                         f"{MAX_POINTS} points.")
    points = np.empty((len(rows), 2))
    for i, row in enumerate(rows, start=1):
        if len(row) != 2:
            raise FieldError("text", f"Row {i} of the CSV has {len(row)} values; give two, x,y.")
        for j, cell in enumerate(row):
            if not _is_number(cell):
                raise FieldError("text", f"In row {i}, column {j + 1} of the CSV, "
                                 f"{cell.strip()!r} is not a number.")
            value = float(cell)
            if not math.isfinite(value):
                raise FieldError("text", f"In row {i}, column {j + 1} of the CSV, "
                                 f"{cell.strip()!r} is not a finite number.")
            if abs(value) > MAX_COORDINATE:
                raise FieldError("text", f"In row {i}, column {j + 1} of the CSV, {value:g} is "
                                 f"outside ±{MAX_COORDINATE:g}.")
            points[i - 1, j] = value
    return points


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def to_csv(points: np.ndarray) -> str:
    """The points as CSV with a header, full precision (repr of each float)."""
    lines = ["x,y"] + [f"{x!r},{y!r}" for x, y in points.tolist()]
    return "\n".join(lines) + "\n"
