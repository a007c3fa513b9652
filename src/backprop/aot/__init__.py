"""Building the compiled passes ahead of time: ``python -m backprop.aot``.

Every pass of the compiled path (:mod:`backprop.nn.compiled_activations`,
:mod:`backprop.nn.compiled_losses`, :mod:`backprop.optim.compiled`), in float32 and
float64, compiled by numba's ahead-of-time compiler into one extension module for
this machine (:mod:`backprop.aot.build`), which :mod:`backprop.prebuilt` loads
without numba.
"""
