"""OpenBLAS's kernels chosen before NumPy loads them (backprop.blas_kernels): the AVX2 ones
on AMD's Zen 4, OpenBLAS's own choice elsewhere, and never over the user's or too late."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backprop import blas_kernels
from backprop.blas_kernels import AVX2_KERNELS, CORETYPE_VARIABLE, prefers_avx2_kernels
from backprop.processor import fields, first_processor


def described(vendor: str, family: int, flags: str) -> str:
    """A processor's lines as /proc/cpuinfo gives them."""
    return (f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: 17\n"
            f"model name\t: a processor\nflags\t\t: fpu sse2 {flags} rdpid\n")


@pytest.mark.parametrize(("vendor", "family", "flags", "avx2"), [
    ("AuthenticAMD", 25, "avx2 fma avx512f avx512bw", True),  # Zen 4
    ("AuthenticAMD", 25, "avx2 fma", False),                   # Zen 3: no AVX-512 to avoid
    ("AuthenticAMD", 26, "avx2 fma avx512f avx512bw", False),  # Zen 5: left to OpenBLAS
    ("GenuineIntel", 6, "avx2 fma avx512f avx512bw", False),   # Intel's AVX-512
    ("AuthenticAMD", 25, "avx2 fma avx512fake", False),        # a flag's name, not a prefix
])
def test_the_avx2_kernels_are_chosen_on_zen_4_alone(vendor: str, family: int, flags: str,
                                                    avx2: bool) -> None:
    assert prefers_avx2_kernels(described(vendor, family, flags)) is avx2


def test_an_unknown_processor_keeps_openblas_choice() -> None:
    assert prefers_avx2_kernels(None) is False  # no /proc/cpuinfo: not Linux
    assert prefers_avx2_kernels("processor : 0\nFeatures : fp asimd\n") is False  # an Arm


def test_a_description_is_read_by_field() -> None:
    named = fields(described("AuthenticAMD", 25, "avx512f"))
    assert named["vendor_id"] == "AuthenticAMD"
    assert named["cpu family"] == "25"
    assert "avx512f" in named["flags"].split()
    assert fields(None) == {}


ZEN_4 = described("AuthenticAMD", 25, "avx2 fma avx512f avx512bw")


@pytest.fixture
def before_numpy(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """This process as it was before NumPy loaded, on a Zen 4, with no kernels chosen:
    the guards see no NumPy and no variable (both put back after the test)."""
    monkeypatch.delitem(sys.modules, "numpy")
    monkeypatch.delenv(CORETYPE_VARIABLE, raising=False)
    monkeypatch.setattr(blas_kernels, "first_processor", lambda: ZEN_4)
    monkeypatch.setattr(blas_kernels, "chosen", None)
    return monkeypatch


def test_on_zen_4_before_numpy_the_avx2_kernels_are_set(before_numpy: pytest.MonkeyPatch) -> None:
    assert blas_kernels.kernels_before_numpy() == AVX2_KERNELS
    assert os.environ[CORETYPE_VARIABLE] == AVX2_KERNELS
    assert blas_kernels.chosen == AVX2_KERNELS  # for a parent that starts other programs


def test_after_numpy_nothing_is_set(before_numpy: pytest.MonkeyPatch) -> None:
    before_numpy.setitem(sys.modules, "numpy", sys)  # loaded: its kernels are taken
    assert blas_kernels.kernels_before_numpy() is None
    assert CORETYPE_VARIABLE not in os.environ and blas_kernels.chosen is None


def test_a_variable_already_set_stands(before_numpy: pytest.MonkeyPatch) -> None:
    before_numpy.setenv(CORETYPE_VARIABLE, "Sandybridge")
    assert blas_kernels.kernels_before_numpy() is None
    assert os.environ[CORETYPE_VARIABLE] == "Sandybridge" and blas_kernels.chosen is None


def test_another_processor_keeps_openblas_choice(before_numpy: pytest.MonkeyPatch) -> None:
    before_numpy.setattr(blas_kernels, "first_processor",
                         lambda: described("GenuineIntel", 6, "avx2 avx512f"))
    assert blas_kernels.kernels_before_numpy() is None
    assert CORETYPE_VARIABLE not in os.environ


#: Imports backprop in a fresh process (NumPy first when asked), then reports the variable
#: and the kernels OpenBLAS took.
PROBE = """
import json, os, sys
if sys.argv[1] == "numpy first":
    import numpy
import backprop
from threadpoolctl import threadpool_info
taken = [pool.get("architecture") for pool in threadpool_info()
         if pool.get("internal_api") == "openblas"]
print(json.dumps({"variable": os.environ.get("OPENBLAS_CORETYPE"), "taken": taken}))
"""


def probe(order: str, coretype: str | None = None) -> dict[str, object]:
    pytest.importorskip("threadpoolctl", reason="it says which kernels OpenBLAS took")
    environment = {name: value for name, value in os.environ.items()
                   if name != CORETYPE_VARIABLE}
    if coretype is not None:
        environment[CORETYPE_VARIABLE] = coretype
    finished = subprocess.run([sys.executable, "-c", PROBE, order], env=environment,
                              capture_output=True, text=True, check=True)
    return json.loads(finished.stdout)  # type: ignore[no-any-return]


def test_importing_backprop_first_chooses_for_this_processor() -> None:
    seen = probe("backprop first")
    if prefers_avx2_kernels(first_processor()):
        assert seen["variable"] == AVX2_KERNELS
        assert seen["taken"] and set(seen["taken"]) == {AVX2_KERNELS}  # type: ignore[arg-type]
    else:
        assert seen["variable"] is None  # OpenBLAS's own choice


#: Imports backprop in a fresh process that reads a Zen 4's description: the real
#: backprop.processor, loaded from its file, with first_processor replaced.
ON_ZEN_4 = """
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("backprop.processor", sys.argv[1])
processor = importlib.util.module_from_spec(spec)
spec.loader.exec_module(processor)
processor.first_processor = lambda: sys.argv[2]
sys.modules["backprop.processor"] = processor
import backprop
from threadpoolctl import threadpool_info
taken = [pool.get("architecture") for pool in threadpool_info()
         if pool.get("internal_api") == "openblas"]
print(json.dumps({"variable": os.environ.get("OPENBLAS_CORETYPE"), "taken": taken}))
"""


def test_importing_backprop_on_a_zen_4_sets_the_avx2_kernels_before_numpy_loads(
        openblas_x86_kernels: None) -> None:
    """Whatever this machine is: backprop's import makes the choice before NumPy's."""
    import backprop.processor

    environment = {name: value for name, value in os.environ.items()
                   if name != CORETYPE_VARIABLE}
    finished = subprocess.run(
        [sys.executable, "-c", ON_ZEN_4, str(Path(backprop.processor.__file__)), ZEN_4],
        env=environment, capture_output=True, text=True, check=True)
    seen = json.loads(finished.stdout)
    assert seen["variable"] == AVX2_KERNELS
    assert seen["taken"] and set(seen["taken"]) == {AVX2_KERNELS}


def test_numpy_loaded_first_keeps_openblas_choice() -> None:
    assert probe("numpy first")["variable"] is None


def test_the_users_choice_stands(openblas_x86_kernels: None) -> None:
    seen = probe("backprop first", coretype="Sandybridge")
    assert seen["variable"] == "Sandybridge"
    assert seen["taken"] and set(seen["taken"]) == {"Sandybridge"}  # type: ignore[arg-type]
