"""Exchange with other runtimes: ONNX graphs (:mod:`.onnx`) and PyTorch modules.

Each module imports its optional package (onnx, torch) only when called.
"""
