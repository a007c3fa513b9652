"""The compiled passes built ahead of time (backprop.aot, backprop.prebuilt): built once for
this machine, they train without numba in the process, to numba's numbers bit for bit;
arguments they were not built for go to numba's kernel; a module built for another source,
numba or processor is not loaded."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from backprop import prebuilt
from backprop.aot import build as aot
from backprop.jit import JIT_OPTIONS
from backprop.optim.compiled import constants

numba = pytest.importorskip("numba", reason="numba not installed (the numba extra): "
                                            "nothing to build ahead of time")

#: Trains networks of every σ, loss form and optimizer switch on the compiled path for 72
#: steps (past the optimizers' flush of tiny values at step 64); prints whether numba was
#: imported and the weights.
TRAIN = textwrap.dedent("""
    import json, sys
    import numpy as np
    import backprop as bp
    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 6))
    weights, labels = [], rng.integers(0, 3, 96)
    for dtype in ("float32", "float64"):
        for sigma, output, loss, optimizer in [
                ("relu", "softmax", "cross_entropy", bp.Adam(lr=0.01)),
                ("tanh", "sigmoid", "binary_cross_entropy",
                 bp.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
                ("sigmoid", "linear", "mse", bp.RMSProp(lr=0.01, momentum=0.5)),
                ("linear", "tanh", "mse", bp.RMSProp(lr=0.01, weight_decay=0.01)),
                ("leaky_relu", "relu", "mse", bp.AdamW(lr=0.01)),
                ("relu", "softmax", "cross_entropy", bp.Adam(lr=0.01, weight_decay=0.01)),
                ("tanh", "softmax", "cross_entropy", bp.SGD(lr=0.1, momentum=0.9,
                                                            dampening=0.3)),
                ("sigmoid", "sigmoid", "binary_cross_entropy", bp.SGD(lr=0.1))]:
            n_out = 3 if output == "softmax" else 1
            y = labels if n_out == 3 else (labels > 0).astype(float)
            net = bp.Network([bp.Dense(6, 8, activation=sigma),
                              bp.Dense(8, n_out, activation=output)],
                             loss=loss, seed=1, dtype=dtype, compiled=True)
            net.fit(X, y, epochs=6, batch_size=8, optimizer=optimizer, verbose=0)
            weights.append(net.params.tolist())
    print(json.dumps({"numba": "numba" in sys.modules, "weights": weights}))
""")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cache folder holding this machine's module, built once for the tests here."""
    if not any(shutil.which(name) for name in ("cc", "gcc", "clang")):
        pytest.skip("no C compiler on the PATH: the module cannot be linked")
    cache = tmp_path_factory.mktemp("cache")
    before = os.environ.get("BACKPROP_CACHE")
    os.environ["BACKPROP_CACHE"] = str(cache)
    try:
        path = aot.build()
        assert path.is_file() and path.parent == cache / "compiled"
        yield cache
    finally:
        if before is None:
            del os.environ["BACKPROP_CACHE"]
        else:
            os.environ["BACKPROP_CACHE"] = before
        prebuilt.loaded_module.cache_clear()


@pytest.fixture
def using(built: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This process reads the built module."""
    monkeypatch.setenv("BACKPROP_CACHE", str(built))
    prebuilt.loaded_module.cache_clear()
    yield built
    prebuilt.loaded_module.cache_clear()


def train(cache: Path) -> dict[str, object]:
    """TRAIN's output in a fresh process whose cache folder is ``cache`` (the passes on one
    thread, the default)."""
    env = {name: value for name, value in os.environ.items()
           if name != "BACKPROP_COMPILED_THREADS"}
    result = subprocess.run([sys.executable, "-c", TRAIN], capture_output=True, text=True,
                            env={**env, "BACKPROP_CACHE": str(cache)}, check=True)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_the_built_passes_train_without_numba_to_its_numbers_bit_for_bit(
        built: Path, tmp_path: Path) -> None:
    ahead = train(built)
    just_in_time = train(tmp_path)  # an empty cache: numba compiles the passes
    assert ahead["numba"] is False
    assert just_in_time["numba"] is True
    assert ahead["weights"] == just_in_time["weights"]


def adam_arguments(n: int, dtype: str, seed: int = 0) -> list[object]:
    rng = np.random.default_rng(seed)
    params, grads = (rng.standard_normal(n).astype(dtype) for _ in range(2))
    m, v, step = np.zeros(n, dtype), np.zeros(n, dtype), np.empty(n, dtype)
    c = constants(np.dtype(dtype), [0.9, 0.1, 0.999, 0.001, 1e-8, 1e-3, 0.0, 0.0])
    return [params, grads, m, v, step, c, False, False, False, True]


def kernels() -> tuple[prebuilt.AheadOfTimeKernel, object]:
    """The built Adam pass, and numba's."""
    from backprop.optim import compiled

    signature = dict((name, s) for name, _, s, _ in compiled.ahead_of_time())["step_adam"]
    numba_kernel = numba.njit(**JIT_OPTIONS)(compiled._adam_pass)
    kernel = prebuilt.ahead_of_time_kernel("step_adam", signature, lambda: numba_kernel)
    assert kernel is not None
    return kernel, numba_kernel


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_each_dtype_runs_its_own_built_form(using: Path, dtype: str) -> None:
    kernel, numba_kernel = kernels()
    args = adam_arguments(1000, dtype)
    assert kernel.fits(args) is getattr(prebuilt.loaded_module(), f"step_adam__{dtype}")
    same = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    assert kernel(*args) is numba_kernel(*same) is True  # type: ignore[operator]
    for got, want in zip(args[:5], same[:5], strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("change", ["strided", "read-only"])
def test_arrays_it_was_not_built_for_go_to_numba(using: Path, change: str) -> None:
    """numba's kernel takes them, and gives what the built form gives on fitting copies."""
    kernel, _ = kernels()
    args = adam_arguments(2000, "float32")
    if change == "strided":
        args[:5] = [a[::2] for a in args[:5]]  # type: ignore[index]
    else:
        args[1].flags.writeable = False  # type: ignore[attr-defined]
    assert kernel.fits(args) is None
    fitting = [np.array(a, dtype="float32") if isinstance(a, np.ndarray) else a for a in args]
    built = kernel.fits(fitting)
    assert built is not None
    assert kernel(*args) is built(*fitting) is True
    for got, want in zip(args[:5], fitting[:5], strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_number_of_another_dtype_does_not_fit(using: Path) -> None:
    from backprop.nn import compiled_activations as passes

    kernel = prebuilt.ahead_of_time_kernel("delta_relu", passes._SIGNATURES["delta"], print)
    assert kernel is not None
    g, z, a, delta, mean = (np.ones((4, 3), np.float32) for _ in range(5))
    c, db = np.array([0.0, 1.0], np.float32), np.zeros(3, np.float32)
    args = [g, z, a, c, delta, mean, db, np.float32(0.25), False, True, True, 1]
    assert kernel.fits(args) is not None
    assert kernel.fits([*args[:7], np.float64(0.25), *args[8:]]) is None
    assert kernel.fits([*args[:7], 0.25, *args[8:]]) is None


def test_arguments_of_other_shapes_or_kinds_do_not_fit(using: Path) -> None:
    kernel, _ = kernels()
    args = adam_arguments(2000, "float32")
    assert kernel.fits(args) is not None
    assert kernel.fits([a.reshape(40, 50) for a in args[:5]] + args[5:]) is None  # type: ignore[attr-defined]
    assert kernel.fits([args[0].tolist(), *args[1:]]) is None  # type: ignore[attr-defined]
    assert kernel.fits([args[0], args[1].astype("float64"), *args[2:]]) is None  # type: ignore[attr-defined]
    assert kernel.fits([args[0].astype(">f4"), *args[1:]]) is None  # type: ignore[attr-defined]
    assert kernel.fits(args[:-1]) is None


def test_it_keeps_numpys_error_model(using: Path) -> None:
    """0 / 0 gives NaN (a step reported not finite), not an exception."""
    kernel, _ = kernels()
    args = adam_arguments(1000, "float64")
    args[1] = np.zeros(1000)  # g = 0, so m = v = 0
    args[5] = constants(np.dtype("float64"), [0.9, 0.1, 0.999, 0.001, 0.0, 1e-3, 0.0, 0.0])
    assert kernel.fits(args) is not None
    assert kernel(*args) is False  # m / (√v + ε̂) = 0 / 0
    assert np.isnan(args[0]).all()  # type: ignore[call-overload]


def test_this_processor_is_described_by_its_instruction_sets() -> None:
    if not Path("/proc/cpuinfo").is_file():
        assert prebuilt._processor() is None  # no module is loaded where it cannot be told
        return
    described = prebuilt._processor()
    assert described is not None
    assert any(line.startswith(("flags", "Features")) for line in described.splitlines())


@pytest.mark.parametrize("change", ["processor", "numba", "source", "unknown processor"])
def test_a_module_built_for_anything_else_is_not_loaded(
        using: Path, change: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert prebuilt.loaded_module() is not None
    if change == "processor":
        monkeypatch.setattr(prebuilt, "_processor", lambda: "flags : another processor")
    elif change == "unknown processor":
        monkeypatch.setattr(prebuilt, "_processor", lambda: None)
    elif change == "numba":
        real = importlib.metadata.version
        monkeypatch.setattr(importlib.metadata, "version",
                            lambda name: "0.0" if name == "numba" else real(name))
    else:  # the passes' source, one character changed
        package = Path(prebuilt.__file__).parent
        for source in prebuilt._SOURCES:
            (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / source).write_bytes((package / source).read_bytes())
        (tmp_path / "optim/compiled.py").write_text(
            (package / "optim/compiled.py").read_text() + "\n")
        monkeypatch.setattr(prebuilt, "_PACKAGE", tmp_path)
    prebuilt.loaded_module.cache_clear()
    assert prebuilt.loaded_module() is None
    assert prebuilt.ahead_of_time_kernel("step_adam", "boolean()", lambda: print) is None


def test_the_command_says_where_the_module_is(using: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert aot.main(["--where"]) == 0
    out = capsys.readouterr().out
    assert out == f"{prebuilt.module_path()} (built)\n"


def test_where_an_unbuilt_module_would_be(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKPROP_CACHE", str(tmp_path))
    assert aot.main(["--where"]) == 1
    assert capsys.readouterr().out == f"{prebuilt.module_path()} (not built)\n"
    assert str(prebuilt.module_path()).startswith(str(tmp_path / "compiled" / "backprop_passes_"))


def test_building_without_numba_says_so_in_one_line(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKPROP_CACHE", str(tmp_path))
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now fails
    assert aot.main([]) == 1
    captured = capsys.readouterr()
    assert captured.err == ("error: building the compiled passes needs numba: "
                            "pip install 'backprop-mlp[numba]'\n")
    assert not (tmp_path / "compiled").exists() or not any((tmp_path / "compiled").iterdir())
