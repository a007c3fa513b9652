"""Module paths from before the packages were cut by concern still import, with a warning.

Each check runs in a fresh interpreter: once a module is imported, Python stops asking.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from backprop.moved import MOVED, new_path


def _in_fresh_python(statement: str) -> str:
    """Run ``statement`` with every DeprecationWarning recorded; what it printed and warned."""
    code = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always', DeprecationWarning)\n"
        f"    {statement}\n"
        "print('warned:', [str(w.message) for w in caught])\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_imports_the_module_at_its_new_one(old: str) -> None:
    said = _in_fresh_python(
        f"import importlib; print(importlib.import_module({old!r}) is "
        f"importlib.import_module({MOVED[old]!r}))"
    )
    assert said.startswith("True\n"), said
    assert f"{old} is now {MOVED[old]}" in said


def test_a_module_inside_a_moved_package_is_the_same_module_not_a_copy() -> None:
    assert new_path("backprop.commands.train") == "backprop.cli.train"
    said = _in_fresh_python(
        "import backprop.commands.train as old, backprop.cli.train as new; print(old is new)"
    )
    assert said.startswith("True\n"), said
    assert "backprop.commands.train is now backprop.cli.train" in said


def test_an_old_module_as_an_attribute_of_the_package() -> None:
    said = _in_fresh_python(
        "import backprop as bp, backprop.nn.activations as new; print(bp.activations is new)"
    )
    assert said.startswith("True\n"), said
    assert "backprop.activations is now backprop.nn.activations" in said
    assert new_path("backprop.network") is None  # never moved
