"""The network's parts: activations, losses, initializers, and the layer kinds."""
