"""The classic 2-3-1 network of the textbook derivations, with its one sample.

Two inputs, three sigmoid hidden units and one sigmoid output, no biases, the
loss ½(a − y)², x = (0.35, 0.9), y = 0.5, η = 0.5. ``WEIGHTS[l][j][k]`` connects
unit k of the layer below to unit j of layer l + 1 (W is (n_out, n_in)).
``backprop explain`` explains it when given no network, and the lab's sandbox
opens on it.
"""

from __future__ import annotations

#: The widths, input first.
LAYERS = [2, 3, 1]
#: W of each layer, (n_out, n_in).
WEIGHTS = [[[0.1, 0.8], [0.4, 0.6], [0.3, 0.2]], [[0.3, 0.9, 0.5]]]
#: The input x and the target y.
X = [0.35, 0.9]
Y = 0.5
#: The learning rate η of the worked step.
LR = 0.5
