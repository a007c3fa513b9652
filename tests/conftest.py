"""Shared test settings and helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# backprop before NumPy, as the command imports it: the same BLAS kernels here as in the
# command's processes that tests compare with bit for bit (backprop.blas_kernels; the
# variable it may set passes to every child)
import backprop  # noqa: F401

# Gradient checks run the network hundreds of times per example: no per-example deadline.
settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

# the lab's server and browser fixtures (tests/lab_fixtures.py)
pytest_plugins = ["lab_fixtures"]


@pytest.fixture
def without_prebuilt_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache folder: no compiled passes built ahead of time (``python -m
    backprop.aot``) for this process or its children, whatever the user's cache holds, so
    that the compiled path is numba's. Yields the folder, for a child's environment."""
    from backprop import prebuilt

    monkeypatch.setenv("BACKPROP_CACHE", str(tmp_path))
    prebuilt.loaded_module.cache_clear()
    yield tmp_path
    prebuilt.loaded_module.cache_clear()


@pytest.fixture
def openblas_x86_kernels() -> None:
    """Skips unless NumPy's BLAS is an OpenBLAS on x86-64, which takes OPENBLAS_CORETYPE's
    x86 kernel sets (Sandybridge, Haswell) and says which it took."""
    import platform

    import numpy  # noqa: F401  (loaded, so that threadpoolctl sees its BLAS)

    threadpoolctl = pytest.importorskip("threadpoolctl", reason="it says which BLAS is loaded")
    if platform.machine().lower() not in ("x86_64", "amd64") or not any(
            pool.get("internal_api") == "openblas" for pool in threadpoolctl.threadpool_info()):
        pytest.skip("OPENBLAS_CORETYPE names x86 kernels: NumPy's BLAS here is not an "
                    "OpenBLAS on x86-64")
