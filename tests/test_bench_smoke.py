"""Smoke test of the benchmark harness: bench.run --smoke end to end, no timing assertions."""

from __future__ import annotations

import importlib.util
import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMOKE_WORKLOADS = ["smoke-classify", "smoke-regression"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

sys.path.insert(0, str(ROOT))  # the bench package lives at the repository root


def _importable(name: str) -> bool:
    """Whether ``name`` can be found, without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _run_smoke(out: Path, systems: str) -> dict[str, Any]:
    """Run the smoke suite in a subprocess and return its JSON."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    cmd = [sys.executable, "-m", "bench.run", "--smoke", "--systems", systems, "--out", str(out)]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "# backprop benchmark" in proc.stdout
    doc: dict[str, Any] = json.loads((out / "bench.json").read_text())
    return doc


def _check_files(out: Path, doc: dict[str, Any]) -> None:
    """The Markdown names every workload; the PNG is a real, non-trivial PNG."""
    md = (out / "bench.md").read_text()
    for name in SMOKE_WORKLOADS:
        assert f"`{name}`" in md
    assert "Data: synthetic" in md
    if not _importable("matplotlib"):
        assert "matplotlib" in doc["meta"]["plot"]
        return
    raw = (out / "bench.png").read_bytes()
    assert raw[:8] == PNG_MAGIC
    assert raw[12:16] == b"IHDR"
    width, height = struct.unpack(">II", raw[16:24])
    assert width >= 400 and height >= 200


def _check_meta(doc: dict[str, Any], systems: list[str]) -> None:
    meta = doc["meta"]
    assert meta["mode"] == "smoke"
    assert meta["data"] == "synthetic"
    assert meta["systems"] == systems
    assert meta["threads"] == 2
    assert meta["gemm_reference"]["status"] == "ok"
    assert meta["gemm_reference"]["float32"] > 0
    assert [e["workload"]["name"] for e in doc["workloads"]] == SMOKE_WORKLOADS


def _check_ok_result(r: dict[str, Any], workload: dict[str, Any]) -> None:
    """Fields every system that ran must report."""
    epochs = workload["epochs"]
    assert r["status"] == "ok", r.get("reason")
    assert len(r["epoch_seconds"]) == epochs
    assert r["first_epoch_s"] == r["epoch_seconds"][0]
    steady = r["steady"]
    assert steady["min"] <= steady["median"] <= steady["max"]
    assert steady["q1"] <= steady["q3"]
    assert r["samples_per_s"] > 0
    assert r["inference_samples_per_s"] > 0
    assert r["peak_rss_mib"] >= r["setup_peak_rss_mib"] > 0
    assert r["gemm_fraction"] > 0
    assert "time_to_target_s" in r and "target_epoch" in r
    if workload["task"] == "regression":
        assert r["metric"] == "r2"
        assert len(r["metrics"]["mse"]) == len(r["metrics"]["r2"]) == epochs
    else:
        assert r["metric"] == "accuracy"
        assert len(r["metrics"]["accuracy"]) == epochs
        assert all(0.0 <= a <= 1.0 for a in r["metrics"]["accuracy"])


def _check_gemm(entry: dict[str, Any]) -> None:
    g = entry["gemm"]
    assert g["status"] == "ok"
    assert g["epoch_flops"] > 0 and g["epoch_seconds"] > 0 and g["gflops"] > 0
    n_layers = len(entry["workload"]["sizes"]) - 1
    assert len(g["gemms"]) == 3 * n_layers - 1


def _check_backprop(entry: dict[str, Any]) -> None:
    """backprop either ran, or says plainly that its engine is not available."""
    r = entry["results"]["backprop"]
    if r["status"] == "unavailable":
        assert "backprop engine not available" in r["reason"]
    else:
        _check_ok_result(r, entry["workload"])


def test_step_gemms_count_and_flops() -> None:
    from bench.gemm import step_gemms

    gemms = step_gemms((784, 256, 10), 128)
    assert [g.kind for g in gemms] == ["forward", "dW", "forward", "dW", "dA"]
    # layer 1 has no dA: 2 GEMMs of 128x784x256; layer 2 has 3 of 128x256x10
    assert sum(g.flops for g in gemms) == 2 * 128 * (2 * 784 * 256 + 3 * 256 * 10)


def test_smoke_backprop_only(tmp_path: Path) -> None:
    """The backprop-only path runs whether or not the peers are installed."""
    doc = _run_smoke(tmp_path, "backprop")
    _check_meta(doc, ["backprop"])
    for entry in doc["workloads"]:
        assert set(entry["results"]) == {"backprop"}
        _check_gemm(entry)
        _check_backprop(entry)
    _check_files(tmp_path, doc)


def test_smoke_all_systems(tmp_path: Path) -> None:
    """backprop, torch (default and fused Adam) and scikit-learn on the smoke jobs."""
    missing = [m for m in ("torch", "sklearn") if not _importable(m)]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not importable: peer comparison not tested")
    systems = ["backprop", "torch", "torch-fused", "sklearn"]
    doc = _run_smoke(tmp_path, ",".join(systems))
    _check_meta(doc, systems)
    for entry in doc["workloads"]:
        _check_gemm(entry)
        _check_backprop(entry)
        for peer in ("torch", "torch-fused", "sklearn"):
            _check_ok_result(entry["results"][peer], entry["workload"])
        assert set(entry["ratios"]) == {"torch", "torch-fused", "sklearn"}
    _check_files(tmp_path, doc)
