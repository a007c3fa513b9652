"""OpenBLAS's kernels chosen before NumPy loads them (backprop.blas_kernels): the AVX2 ones
on AMD's Zen 4, OpenBLAS's own choice elsewhere, and never over the user's or too late."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from backprop.blas_kernels import AVX2_KERNELS, CORETYPE_VARIABLE, prefers_avx2_kernels
from backprop.processor import fields, first_processor


def described(vendor: str, family: int, flags: str) -> str:
    """A processor's lines as /proc/cpuinfo gives them."""
    return (f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: 17\n"
            f"model name\t: a processor\nflags\t\t: fpu sse2 {flags} rdpid\n")


@pytest.mark.parametrize(("vendor", "family", "flags", "avx2"), [
    ("AuthenticAMD", 25, "avx2 fma avx512f avx512bw", True),  # Zen 4
    ("AuthenticAMD", 25, "avx2 fma", False),                   # Zen 3: OpenBLAS takes AVX2 itself
    ("AuthenticAMD", 26, "avx2 fma avx512f avx512bw", False),  # Zen 5: 512-bit units
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


def test_numpy_loaded_first_keeps_openblas_choice() -> None:
    assert probe("numpy first")["variable"] is None


def test_the_users_choice_stands() -> None:
    seen = probe("backprop first", coretype="Sandybridge")
    assert seen["variable"] == "Sandybridge"
    assert seen["taken"] and set(seen["taken"]) == {"Sandybridge"}  # type: ignore[arg-type]
