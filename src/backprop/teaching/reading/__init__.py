"""What the diagnostics mean: a one-paragraph reading of :class:`Diagnostics` records.

    diag = bp.Diagnostics(every=10)
    history = net.fit(X, y, epochs=5, optimizer=bp.SGD(0.1), callbacks=[diag])
    reading = bp.read_diagnostics(diag.records, losses=history["loss"],
                                  accuracy=history["accuracy"][-1], n_classes=10,
                                  network=net)
    print(reading)              # the paragraph, naming layers and numbers
    "vanishing" in reading      # True when that finding was made
    reading.findings            # Finding(kind, layers, value, text, advice), in the order below
    reading.verdict             # "not_learning, vanishing", or "healthy"

Layers are numbered l = 1..L over the Dense layers, as in the equations
(W^[1] is the first weight matrix, W^[L] the output layer's); the records'
own "layer" is the index in ``net.layers``. A statistic "over training" is
taken over the recorded batches. The findings, and the thresholds (module
constants, in :mod:`.thresholds`) that make them:

    not_learning  the loss fell by less than LOSS_FLAT (1 %) of its start, or
                  rose; or the training accuracy is at most (1 + CHANCE_MARGIN)
                  × chance (1 / number of classes); or R² ≤ 0. Ranked first; the
                  verdict is never "healthy" with it. Its text names the likely
                  cause from the other findings (symmetry, vanishing, exploding,
                  dead, saturated, the learning rate), else from the numbers
                  (gradients shrinking toward the input, tiny updates).
    symmetric   a hidden layer whose units are identical: the rows of [W b]
                differ from their mean by at most SYMMETRY_SPREAD (1e-3) of
                ‖[W b]‖ (second half of training), as a zero or constant init
                leaves them; identical units get identical gradients forever.
    vanishing   the median over recorded batches of ‖∂L/∂W^[1]‖ / ‖∂L/∂W^[L]‖
                is at most 1 / VANISHING_RATIO (100× below). The text also names
                every layer whose median gradient norm is 100× below the last's.
    exploding   any of: a gradient or weight norm is NaN or inf, or training
                diverged (``diverged=`` the error); the first layer's gradient
                EXPLODING_RATIO (100) times above the last layer's (median); the
                whole gradient's norm √(Σ_l ‖∂L/∂W^[l]‖²) grew EXPLODING_GROWTH
                (100) times over training (median of the last quarter of the
                records over the median of the first quarter); a gradient norm
                above EXPLODING_NORM (1e3).
    dead        a hidden ReLU-type layer whose dead fraction (units with z ≤ 0
                for the whole batch), averaged over the second half of
                training, exceeds DEAD_FRACTION (50 %).
    saturated   a hidden sigmoid or tanh layer whose saturated fraction (σ'
                below 1 % of its maximum), averaged over the second half of
                training, exceeds SATURATED_FRACTION (50 %). The output layer
                is left out of both: a saturated output unit trained with its
                canonical loss is a confident one, not a stuck one.
    lr_high     some layer's median update/weight ratio ‖ΔW‖/‖W‖ is above
                UPDATE_RATIO_HIGH (0.1), or the last loss is above
                (1 + LOSS_RISE) = 1.1 times the first.
    lr_low      every layer's median update/weight ratio is below
                UPDATE_RATIO_LOW (1e-5) and, when losses are given, the loss
                moved by at most LOSS_FLAT (1 %) of the first loss.

The learning-rate findings are read only when the gradients neither vanish
nor explode and the units are not symmetric: then the update ratios say more
about the gradients than about the learning rate.

Each finding's ``text`` says what was measured; its ``advice`` what to try,
chosen by what was measured and by the network (``network=``): see
:mod:`.advice` (Xavier helps tanh at moderate depth, not sigmoid at depth 5
or more; ReLU + He stays healthy; nothing the network already uses is advised).
"""

from __future__ import annotations

from backprop.teaching.reading.read import read_diagnostics
from backprop.teaching.reading.result import Finding, Reading
from backprop.teaching.reading.thresholds import (
    CHANCE_MARGIN,
    DEAD_FRACTION,
    EXPLODING_GROWTH,
    EXPLODING_NORM,
    EXPLODING_RATIO,
    KINDS,
    LOSS_FLAT,
    LOSS_RISE,
    SATURATED_FRACTION,
    SYMMETRY_SPREAD,
    THRESHOLDS,
    UPDATE_RATIO_HIGH,
    UPDATE_RATIO_LOW,
    UPDATE_RATIO_SMALL,
    VANISHING_RATIO,
)
from backprop.teaching.reading.words import layer_list, number, percent

# the public names are backprop.teaching.reading's, wherever in the package they are defined
for _public in (read_diagnostics, Finding, Reading):
    _public.__module__ = __name__

__all__ = [
    "CHANCE_MARGIN", "DEAD_FRACTION", "EXPLODING_GROWTH", "EXPLODING_NORM", "EXPLODING_RATIO",
    "KINDS", "LOSS_FLAT", "LOSS_RISE", "SATURATED_FRACTION", "SYMMETRY_SPREAD", "THRESHOLDS",
    "UPDATE_RATIO_HIGH", "UPDATE_RATIO_LOW", "UPDATE_RATIO_SMALL", "VANISHING_RATIO",
    "Finding", "Reading", "layer_list", "number", "percent", "read_diagnostics",
]
