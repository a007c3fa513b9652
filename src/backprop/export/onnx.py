"""placeholder"""
from __future__ import annotations

import os
from typing import Any


def to_onnx(net: Any, path: str | os.PathLike[str]) -> None:
    raise NotImplementedError
