"""The package: what ``import backprop`` loads, and that every public name resolves."""

from __future__ import annotations

import subprocess
import sys

import backprop as bp

LAZY_MODULES = (
    "backprop.teaching.reading",
    "backprop.teaching.diagnostics",
    "backprop.files.model_file",
    "backprop.files.loading",
    "backprop.teaching.worked_step",
    "numpy.random",
)


def test_import_backprop_leaves_inspection_files_and_random_numbers_unloaded() -> None:
    code = (
        "import sys, backprop; "
        "print(','.join(m for m in sys.modules if m.startswith(('backprop', 'numpy.random'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.strip().split(","))
    assert "backprop.network" in loaded and "backprop.optim.rules" in loaded
    assert not loaded & set(LAZY_MODULES), f"loaded eagerly: {sorted(loaded & set(LAZY_MODULES))}"


def test_every_public_name_resolves() -> None:
    for name in bp.__all__:
        assert getattr(bp, name) is not None, name
    assert callable(bp.explain) and callable(bp.gradcheck)  # functions, not their modules
    assert bp.Diagnostics.__module__ == "backprop.teaching.diagnostics"
    assert bp.read_diagnostics.__module__ == "backprop.teaching.reading"
    assert bp.load.__module__ == "backprop.files.loading"
    assert bp.explain.__module__ == "backprop.teaching.worked_step"


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    try:
        bp.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("bp.no_such_name did not raise")
