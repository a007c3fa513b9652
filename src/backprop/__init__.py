"""backprop: multi-layer perceptrons trained by the four equations of backpropagation."""

__version__ = "0.1.0"
