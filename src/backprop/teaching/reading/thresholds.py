"""The thresholds of the reading, the table the report shows, and the kinds of finding."""

from __future__ import annotations

#: Vanishing: the first layer's ‖∂L/∂W‖ at least this many times below the last layer's.
VANISHING_RATIO = 100.0
#: Exploding across depth: the first layer's ‖∂L/∂W‖ this many times above the last's.
EXPLODING_RATIO = 100.0
#: Exploding over time: a layer's gradient norm growing by this factor over training.
EXPLODING_GROWTH = 100.0
#: Exploding: any ‖∂L/∂W‖ above this (the loss is a mean over the batch, so
#: gradient norms are usually well below 10).
EXPLODING_NORM = 1e3
#: Dead ReLUs: more than this fraction of a hidden layer's units dead.
DEAD_FRACTION = 0.5
#: Saturation: more than this fraction of a hidden layer's (sample, unit) pairs saturated.
SATURATED_FRACTION = 0.5
#: Learning rate too high: a layer's median ‖ΔW‖/‖W‖ per step above this.
UPDATE_RATIO_HIGH = 0.1
#: Learning rate too low: every layer's median ‖ΔW‖/‖W‖ per step below this.
UPDATE_RATIO_LOW = 1e-5
#: The lower end of the usual band of ‖ΔW‖/‖W‖ (1e-4..1e-2): a network that
#: does not learn while every layer moves less than this names a low learning rate.
UPDATE_RATIO_SMALL = 1e-4
#: Loss rising: the last loss above (1 + LOSS_RISE) times the first.
LOSS_RISE = 0.1
#: Loss flat: the last loss within LOSS_FLAT (relative) of the first.
LOSS_FLAT = 0.01
#: Accuracy at chance: at most (1 + CHANCE_MARGIN) / n_classes.
CHANCE_MARGIN = 0.1
#: Symmetric units: a hidden layer whose rows of [W b] differ from their mean
#: by at most this fraction of ‖[W b]‖ (every unit computes the same thing).
SYMMETRY_SPREAD = 1e-3

#: (name, value, what crossing it means): the table that the report and README show.
THRESHOLDS: tuple[tuple[str, float, str], ...] = (
    ("VANISHING_RATIO", VANISHING_RATIO,
     "vanishing: median ‖∂L/∂W^[1]‖ / ‖∂L/∂W^[L]‖ at most 1/100"),
    ("EXPLODING_RATIO", EXPLODING_RATIO,
     "exploding: median ‖∂L/∂W^[1]‖ / ‖∂L/∂W^[L]‖ at least 100"),
    ("EXPLODING_GROWTH", EXPLODING_GROWTH,
     "exploding: the whole gradient's norm grows 100× over training"),
    ("EXPLODING_NORM", EXPLODING_NORM, "exploding: a gradient norm above 1e3 (or NaN, inf)"),
    ("DEAD_FRACTION", DEAD_FRACTION,
     "dead ReLUs: more than half a hidden layer's units dead (second half of training)"),
    ("SATURATED_FRACTION", SATURATED_FRACTION,
     "saturation: more than half a hidden sigmoid/tanh layer saturated (second half)"),
    ("UPDATE_RATIO_HIGH", UPDATE_RATIO_HIGH,
     "learning rate too high: a layer's median ‖ΔW‖/‖W‖ above 0.1 (or the loss rose)"),
    ("UPDATE_RATIO_LOW", UPDATE_RATIO_LOW,
     "learning rate too low: every layer's median ‖ΔW‖/‖W‖ below 1e-5, loss flat"),
    ("UPDATE_RATIO_SMALL", UPDATE_RATIO_SMALL,
     "not learning, named as a low learning rate: every layer's ‖ΔW‖/‖W‖ below 1e-4"),
    ("LOSS_RISE", LOSS_RISE, "loss rising: last loss above 1.1 × the first"),
    ("LOSS_FLAT", LOSS_FLAT,
     "loss flat: last loss within 1 % of the first; not learning: it fell by less"),
    ("CHANCE_MARGIN", CHANCE_MARGIN,
     "not learning: accuracy at most 1.1 × chance (1 / number of classes)"),
    ("SYMMETRY_SPREAD", SYMMETRY_SPREAD,
     "symmetric: a hidden layer's rows of [W b] within 1e-3 of their mean (relative)"),
)

#: The kinds of finding, in the order they are read and reported: whether the
#: network learns at all first, then what the gradients and units say.
KINDS: tuple[str, ...] = ("not_learning", "symmetric", "vanishing", "exploding", "dead",
                          "saturated", "lr_high", "lr_low")
