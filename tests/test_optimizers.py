"""Optimizers: the first three updates match the published rules and torch.optim.

Each case steps a fixed parameter vector with a fixed sequence of three
gradients by calling ``opt.step(params, grads)`` directly. The expected
values come from the update rule written out below in plain NumPy (not
from the library), and from torch.optim when PyTorch is installed.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.optim import base as optimizer_base
from backprop.optim import rules

P0 = np.array([0.5, -1.2, 2.0, 0.0, -0.3])
GRADS = [
    np.array([0.1, -0.4, 1.5, -2.0, 0.05]),
    np.array([-0.3, 0.2, 0.7, -1.0, 0.0]),
    np.array([0.25, -0.6, -0.9, 0.4, 0.3]),
]


# -- the published update rules, one step at a time ------------------------
def sgd_reference(
    lr: float,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    dampening: float = 0.0,
) -> list[np.ndarray]:
    """Sutskever et al. 2013 momentum as torch.optim.SGD writes it (buf = g at step 1)."""
    w, buf, out = P0.copy(), None, []
    for g in GRADS:
        g = g + weight_decay * w
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            d = g + momentum * buf if nesterov else buf
        else:
            d = g
        w = w - lr * d
        out.append(w)
    return out


def rmsprop_reference(
    lr: float, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0
) -> list[np.ndarray]:
    """Hinton's lecture 6e: v ← α v + (1 − α) g², w ← w − η g / (√v + ε) (+ momentum, L2)."""
    w, v, buf, out = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), []
    for g in GRADS:
        g = g + weight_decay * w
        v = alpha * v + (1 - alpha) * g * g
        if momentum:
            buf = momentum * buf + g / (np.sqrt(v) + eps)
            w = w - lr * buf
        else:
            w = w - lr * g / (np.sqrt(v) + eps)
        out.append(w)
    return out


def adam_reference(
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled: bool = False,
) -> list[np.ndarray]:
    """Kingma & Ba 2015, Algorithm 1 (with ε added to √v̂); AdamW: Loshchilov & Hutter 2019."""
    b1, b2 = betas
    w, m, v, out = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), []
    for t, g in enumerate(GRADS, start=1):
        if decoupled:
            w = w - lr * weight_decay * w
        else:
            g = g + weight_decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w)
    return out


# (id, our optimizer, reference steps, torch optimizer class name, torch kwargs)
CASES: list[tuple[str, Callable[[], bp.Optimizer], Callable[[], list[np.ndarray]], str, dict[str, Any]]] = [
    ("sgd", lambda: bp.SGD(lr=0.1), lambda: sgd_reference(0.1), "SGD", {"lr": 0.1}),
    (
        "sgd-momentum",
        lambda: bp.SGD(lr=0.1, momentum=0.9),
        lambda: sgd_reference(0.1, momentum=0.9),
        "SGD",
        {"lr": 0.1, "momentum": 0.9},
    ),
    (
        "sgd-nesterov",
        lambda: bp.SGD(lr=0.1, momentum=0.9, nesterov=True),
        lambda: sgd_reference(0.1, momentum=0.9, nesterov=True),
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    ),
    (
        "sgd-weight-decay",
        lambda: bp.SGD(lr=0.1, weight_decay=0.05),
        lambda: sgd_reference(0.1, weight_decay=0.05),
        "SGD",
        {"lr": 0.1, "weight_decay": 0.05},
    ),
    (
        "sgd-momentum-nesterov-weight-decay",
        lambda: bp.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05),
        lambda: sgd_reference(0.1, momentum=0.9, nesterov=True, weight_decay=0.05),
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
    ),
    (
        "sgd-momentum-dampening",
        lambda: bp.SGD(lr=0.1, momentum=0.9, dampening=0.3),
        lambda: sgd_reference(0.1, momentum=0.9, dampening=0.3),
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.3},
    ),
    (
        "rmsprop",
        lambda: bp.RMSProp(lr=0.01),
        lambda: rmsprop_reference(0.01),
        "RMSprop",
        {"lr": 0.01, "alpha": 0.99, "eps": 1e-8},
    ),
    (
        "rmsprop-momentum-weight-decay",
        lambda: bp.RMSProp(lr=0.01, alpha=0.9, weight_decay=0.05, momentum=0.5),
        lambda: rmsprop_reference(0.01, alpha=0.9, weight_decay=0.05, momentum=0.5),
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.05, "momentum": 0.5},
    ),
    (
        "adam",
        lambda: bp.Adam(lr=0.01),
        lambda: adam_reference(0.01),
        "Adam",
        {"lr": 0.01},
    ),
    (
        "adam-weight-decay",
        lambda: bp.Adam(lr=0.01, weight_decay=0.1),
        lambda: adam_reference(0.01, weight_decay=0.1),
        "Adam",
        {"lr": 0.01, "weight_decay": 0.1},
    ),
    (
        "adamw",
        lambda: bp.AdamW(lr=0.01, weight_decay=0.1),
        lambda: adam_reference(0.01, weight_decay=0.1, decoupled=True),
        "AdamW",
        {"lr": 0.01, "weight_decay": 0.1},
    ),
    (
        "adamw-default-decay",
        lambda: bp.AdamW(lr=0.01),
        lambda: adam_reference(0.01, weight_decay=0.01, decoupled=True),
        "AdamW",
        {"lr": 0.01},
    ),
]
IDS = [case[0] for case in CASES]


def run_ours(make: Callable[[], bp.Optimizer]) -> list[np.ndarray]:
    opt, params, out = make(), P0.copy(), []
    for g in GRADS:
        opt.step(params, g.copy())
        out.append(params.copy())
    return out


@pytest.mark.parametrize(("name", "make", "reference", "torch_name", "torch_kwargs"), CASES, ids=IDS)
def test_first_three_updates_match_the_published_rule(
    name: str,
    make: Callable[[], bp.Optimizer],
    reference: Callable[[], list[np.ndarray]],
    torch_name: str,
    torch_kwargs: dict[str, Any],
) -> None:
    ours, expected = run_ours(make), reference()
    for t, (got, want) in enumerate(zip(ours, expected, strict=True), start=1):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15, err_msg=f"{name}, step {t}")
    assert not np.allclose(ours[0], P0)  # every case really moves


@pytest.mark.parametrize(("name", "make", "reference", "torch_name", "torch_kwargs"), CASES, ids=IDS)
def test_first_three_updates_match_torch_optim(
    name: str,
    make: Callable[[], bp.Optimizer],
    reference: Callable[[], list[np.ndarray]],
    torch_name: str,
    torch_kwargs: dict[str, Any],
) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: torch.optim comparison skipped")
    p = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, torch_name)([p], **torch_kwargs)
    expected = []
    for g in GRADS:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        expected.append(p.detach().numpy().copy())
    for t, (got, want) in enumerate(zip(run_ours(make), expected, strict=True), start=1):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=f"{name}, step {t}")


def test_adam_coupled_l2_and_adamw_decoupled_decay_differ() -> None:
    coupled = run_ours(lambda: bp.Adam(lr=0.01, weight_decay=0.1))
    decoupled = run_ours(lambda: bp.AdamW(lr=0.01, weight_decay=0.1))
    plain = run_ours(lambda: bp.Adam(lr=0.01))
    for t in range(3):
        assert not np.allclose(coupled[t], decoupled[t], rtol=1e-6, atol=0.0), f"step {t + 1}"
        assert not np.allclose(decoupled[t], plain[t], rtol=1e-6, atol=0.0)
    # Adam's first step is ≈ η·sign(g) whatever λ w adds to g (when it keeps the sign),
    # so coupled L2 shows only from the second step on.
    for t in (1, 2):
        assert not np.allclose(coupled[t], plain[t], rtol=1e-6, atol=0.0), f"step {t + 1}"
    # AdamW's first step is exactly Adam's step taken from the shrunk weights.
    params = P0 * (1 - 0.01 * 0.1)
    bp.Adam(lr=0.01).step(params, GRADS[0].copy())  # in place: params is now the stepped value
    np.testing.assert_allclose(decoupled[0], params, rtol=1e-15)


def test_grads_are_not_modified_by_a_step() -> None:
    for _, make, *_ in CASES:
        opt, params = make(), P0.copy()
        for g in GRADS:
            given = g.copy()
            opt.step(params, given)
            np.testing.assert_array_equal(given, g)


def test_state_carries_over_across_split_runs() -> None:
    """Three steps in one go equal one step, then two more with the same optimizer."""
    for _, make, *_ in CASES:
        whole = run_ours(make)[-1]
        opt, params = make(), P0.copy()
        opt.step(params, GRADS[0].copy())
        for g in GRADS[1:]:
            opt.step(params, g.copy())
        np.testing.assert_array_equal(params, whole)


def test_float32_steps_track_float64_ones() -> None:
    for name, make, *_ in CASES:
        want = run_ours(make)[-1]
        opt, params = make(), P0.astype(np.float32)
        for g in GRADS:
            opt.step(params, g.astype(np.float32))
        assert params.dtype == np.float32
        np.testing.assert_allclose(params, want, rtol=1e-5, atol=1e-6, err_msg=name)


def test_update_returns_the_step_and_leaves_the_parameters_alone() -> None:
    for name, make, *_ in CASES:
        stepped, checked = make(), make()
        params = P0.copy()
        for g in GRADS:
            before = params.copy()
            given = params.copy()
            update = checked.update(given, g.copy())
            np.testing.assert_array_equal(given, before, err_msg=name)  # only read
            stepped.step(params, g.copy())
            np.testing.assert_array_equal(before - update, params, err_msg=name)


@pytest.mark.parametrize(
    "make",
    [lambda: bp.Adam(lr=1e-3), lambda: bp.SGD(lr=0.1, momentum=0.9),
     lambda: bp.RMSProp(lr=1e-3, momentum=0.9)],
    ids=["adam", "momentum", "rmsprop"],
)
def test_moments_that_decay_into_subnormals_are_flushed_to_zero(
    make: Callable[[], bp.Optimizer],
) -> None:
    """A gradient that stops (a weight of an always-0 pixel) leaves no subnormal state behind."""
    tiny = np.finfo(np.float32).tiny
    opt = make()
    params = np.ones(4, dtype=np.float32)
    opt.step(params, np.array([1e-3, 1e-30, 1e-20, 0.0], dtype=np.float32))
    ever_subnormal = False
    for _ in range(3 * rules.FLUSH_EVERY):
        opt.step(params, np.zeros(4, dtype=np.float32))
        state = np.concatenate([np.abs(a) for a in opt.state_dict()["arrays"].values()])
        ever_subnormal |= bool(np.any((state > 0) & (state < tiny)))
        if opt.t % rules.FLUSH_EVERY == 0:
            assert not np.any((state > 0) & (state < tiny)), f"subnormal state after step {opt.t}"
    assert ever_subnormal  # the decay really went through the subnormal range
    assert np.all(np.isfinite(params))


def test_flush_subnormals_zeroes_exactly_the_values_below_the_smallest_normal() -> None:
    for dtype in (np.float32, np.float64):
        tiny = np.finfo(dtype).tiny
        moment = np.array([tiny, tiny / 2, -tiny / 4, -tiny, 1.0, 0.0, 5e-324], dtype=dtype)
        expected = np.where(np.abs(moment) < tiny, 0.0, moment).astype(dtype)
        rules.flush_subnormals(moment)
        np.testing.assert_array_equal(moment, expected)
        assert moment[0] == tiny and moment[3] == -tiny and moment[1] == 0.0


@settings(max_examples=25, deadline=None)
@given(
    size=st.integers(1, 40),
    block_size=st.integers(1, 45),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_a_step_taken_block_by_block_equals_one_taken_whole(
    size: int, block_size: int, dtype: type, seed: int
) -> None:
    """Every optimizer gives the same Δθ and state, bit for bit, whatever the block size."""
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(size).astype(dtype)
    grads = [rng.standard_normal(size).astype(dtype) for _ in range(3)]
    for name, make, *_ in CASES:
        results = []
        for blocks in (rules.BLOCK_SIZE, block_size):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(optimizer_base, "BLOCK_SIZE", blocks)
                opt, params = make(), start.copy()
                for g in grads:
                    opt.step(params, g.copy())
                results.append((params, opt.state_dict()["arrays"]))
        (whole, whole_state), (blocked, blocked_state) = results
        np.testing.assert_array_equal(blocked, whole, err_msg=name)
        assert whole_state.keys() == blocked_state.keys()
        for key in whole_state:
            np.testing.assert_array_equal(blocked_state[key], whole_state[key], err_msg=key)
        assert not np.array_equal(whole, start)


def test_a_step_on_matrices_equals_the_step_on_their_flat_views() -> None:
    rng = np.random.default_rng(3)
    start, grads = rng.standard_normal((6, 5)), [rng.standard_normal((6, 5)) for _ in range(3)]
    for name, make, *_ in CASES:
        flat_opt, matrix_opt = make(), make()
        flat, matrix = start.ravel().copy(), start.copy()
        for g in grads:
            flat_opt.step(flat, g.ravel().copy())
            matrix_opt.step(matrix, g.copy())
        np.testing.assert_array_equal(matrix.ravel(), flat, err_msg=name)


def test_params_and_grads_of_different_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match=r"same shape, got \(4,\) and \(5,\)"):
        bp.Adam().step(np.zeros(4), np.zeros(5))


@settings(max_examples=20, deadline=None)
@given(
    size=st.integers(1, 40),
    block_size=st.integers(1, 45),
    dtype=st.sampled_from([np.float32, np.float64]),
    scale=st.sampled_from([1e-30, 1e-3, 1.0, 1e3]),
    seed=st.integers(0, 2**16),
)
def test_the_compiled_step_equals_the_numpy_passes_bit_for_bit(
    size: int, block_size: int, dtype: type, scale: float, seed: int
) -> None:
    """Δθ and the state of the compiled pass equal the NumPy passes' to the last bit, for
    every optimizer configuration (SGD with and without momentum, dampening, Nesterov and
    L2; RMSProp; Adam, Adam with L2 and AdamW), over enough steps to flush subnormals twice."""
    pytest.importorskip("numba", reason="numba not installed (the numba extra): compiled step not tested")
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(size).astype(dtype)
    grads = [(scale * rng.standard_normal(size)).astype(dtype) for _ in range(3)]
    steps = 2 * rules.FLUSH_EVERY + 1
    for name, make, *_ in CASES:
        results = []
        for compiled in (False, True):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(optimizer_base, "BLOCK_SIZE", block_size)
                opt, params = make(), start.copy()
                opt.compiled_step = compiled
                updates = []
                for t in range(steps):
                    g = grads[t % 3] if t < 3 else np.zeros(size, dtype) + grads[0] * (t % 2)
                    updates.append(opt.update(params, g).copy())
                    params -= updates[-1]
                results.append((params, updates, opt.state_dict()["arrays"]))
        (numpy_params, numpy_updates, numpy_state), (params, updates, state) = results
        for t, (got, want) in enumerate(zip(updates, numpy_updates, strict=True), start=1):
            np.testing.assert_array_equal(got, want, err_msg=f"{name}, Δθ of step {t}")
        np.testing.assert_array_equal(params, numpy_params, err_msg=name)
        for key in numpy_state:
            np.testing.assert_array_equal(state[key], numpy_state[key], err_msg=f"{name} {key}")


def test_the_compiled_step_without_numba_names_the_extra(
        monkeypatch: pytest.MonkeyPatch, without_prebuilt_passes: Path) -> None:
    import sys

    from backprop.optim import compiled as compiled_steps

    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now fails
    monkeypatch.setattr(compiled_steps, "_kernels", {})
    opt = bp.Adam()
    opt.compiled_step = True
    with pytest.raises(ImportError, match=r"needs numba: pip install 'backprop-mlp\[numba\]'"):
        opt.step(np.zeros(3), np.ones(3))


def test_an_optimizer_without_a_compiled_pass_says_so() -> None:
    class Halving(bp.Optimizer):
        def _update(self, block: rules.Block) -> None:
            np.multiply(block.grads, 0.5, out=block.step)

    opt = Halving(lr=1.0)
    opt.step(params := np.ones(3), np.ones(3))
    assert np.array_equal(params, np.full(3, 0.5))
    opt.compiled_step = True
    with pytest.raises(bp.OptionError, match="Halving has no compiled step"):
        opt.step(params, np.ones(3))


@pytest.mark.parametrize("optimizer", ["adam", "momentum", "rmsprop"])
def test_train_with_the_compiled_step_gives_the_same_model(tmp_path: Path, optimizer: str) -> None:
    """`backprop train --compiled-step` writes the same weights, to the last bit, as without."""
    pytest.importorskip("numba", reason="numba not installed (the numba extra): compiled step not tested")
    models = []
    for compiled in (False, True):
        out = tmp_path / f"compiled-{compiled}"
        command = [sys.executable, "-m", "backprop", "train", "xor", "--layers", "4", "--epochs",
                   "20", "--optimizer", optimizer, "--no-plots", "--quiet", "--out", str(out)]
        result = subprocess.run(command + ["--compiled-step"] * compiled,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        models.append(bp.load(str(out / "model.npz")))
    assert models[0].params.size > 0
    np.testing.assert_array_equal(models[0].params, models[1].params)


def test_train_with_the_compiled_step_without_numba_names_the_extra(tmp_path: Path) -> None:
    """Without numba, --compiled-step is refused in one line before any training."""
    code = ("import sys; sys.modules['numba'] = None; from backprop.cli.entry import main; "
            "sys.exit(main(['train', 'xor', '--compiled-step', '--quiet', '--out', sys.argv[1]]))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "backprop: error: --compiled-step needs numba: pip install 'backprop-mlp[numba]'"
    )
    assert not (tmp_path / "run" / "model.npz").exists()
