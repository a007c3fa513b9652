"""Shared test settings and helpers."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Gradient checks run the network hundreds of times per example: no per-example deadline.
settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

# the lab's server and browser fixtures (tests/lab_fixtures.py)
pytest_plugins = ["lab_fixtures"]
