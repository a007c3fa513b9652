"""Benchmarks: backprop side by side with PyTorch and scikit-learn on the same jobs.

Run ``python -m bench.run --help``. Each system runs in its own subprocess
(thread counts fixed before NumPy is imported), so timings and peak memory
do not mix.
"""
