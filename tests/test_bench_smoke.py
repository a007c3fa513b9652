"""Smoke test of the benchmark harness: bench.run --smoke end to end, no timing assertions;
and the report's targets section on made-up results."""

from __future__ import annotations

import importlib.util
import itertools
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


def _run_smoke(out: Path, systems: str, *extra: str) -> dict[str, Any]:
    """Run the smoke suite (or, given --quick, the quick one) in a subprocess; return its JSON."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    cmd = [sys.executable, "-m", "bench.run", "--systems", systems, "--out", str(out)]
    cmd += extra if "--quick" in extra else ("--smoke", *extra)
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
    backprop_import = meta["import_s"]["backprop"]
    assert 0 < backprop_import["min"] <= backprop_import["median"] < 10
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
    """The backprop-only path runs whether or not the peers are installed (one after another)."""
    doc = _run_smoke(tmp_path, "backprop", "--sequential")
    _check_meta(doc, ["backprop"])
    assert doc["meta"]["schedule"] == "sequential"
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
    assert doc["meta"]["schedule"] == "turns"
    for entry in doc["workloads"]:
        _check_gemm(entry)
        _check_backprop(entry)
        for peer in ("torch", "torch-fused", "sklearn"):
            _check_ok_result(entry["results"][peer], entry["workload"])
        assert set(entry["ratios"]) == {"torch", "torch-fused", "sklearn"}
        _check_turns(entry, systems)
    _check_files(tmp_path, doc)


def _check_turns(entry: dict[str, Any], systems: list[str]) -> None:
    """The systems' timed parts took turns: never two at once, one epoch each round."""
    spans = sorted(
        (start, end, system)
        for system in systems
        for start, end in entry["results"][system]["timed_spans"]
    )
    for (_, end, before), (start, _, after) in itertools.pairwise(spans):
        assert start >= end, f"{after} started while {before} was timed"
    epochs = entry["workload"]["epochs"]
    assert len(spans) == len(systems) * (epochs + 1)  # the epochs, then inference
    first_round = {system for _, _, system in spans[: len(systems)]}
    assert first_round == set(systems), "one system ran several epochs before the others' first"


def _result(median: float, inference_s: float, peak_rss_mib: float = 250.0) -> dict[str, Any]:
    """A made-up "ok" result of one system: every field the report reads."""
    return {
        "status": "ok",
        "version": "0",
        "notes": [],
        "epoch_seconds": [median, median],
        "first_epoch_s": median,
        "steady": {"median": median, "min": median, "max": median, "q1": median, "q3": median},
        "samples_per_s": 1000 / median,
        "metrics": {"accuracy": [0.9, 0.95]},
        "time_to_target_s": None,
        "target_epoch": None,
        "inference_s": inference_s,
        "inference_samples_per_s": 100 / inference_s,
        "peak_rss_mib": peak_rss_mib,
        "setup_peak_rss_mib": peak_rss_mib,
    }


def _entry(name: str, batch_size: int, floor_s: float, medians: dict[str, float]) -> dict[str, Any]:
    """A workload entry with the given FLOP-bound time and s/epoch per system."""
    from bench.run import derive

    workload = {
        "name": name,
        "axis": "test",
        "description": "made up",
        "label": "made up",
        "task": "multiclass",
        "n_params": 1,
        "epochs": 2,
        "epoch_samples": 5000 if batch_size == 1 else None,
        "batch_size": batch_size,
    }
    gemm = {"status": "ok", "epoch_flops": 1e9, "gflops": 1.0, "epoch_seconds": floor_s}
    results = {
        s: _result(m, inference_s=0.1 if s == "backprop" else 0.2) for s, m in medians.items()
    }
    entry = {"workload": workload, "target": 0.9, "gemm": gemm, "results": results}
    derive(entry, list(medians))
    return entry


def _cells(section: str, first_cell: str) -> list[str]:
    """The cells of the one table row whose first cell starts with ``first_cell``."""
    rows = [line for line in section.splitlines() if line.startswith(f"| {first_cell}")]
    assert len(rows) == 1, rows
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def test_the_targets_section_marks_met_missed_and_below_the_floor() -> None:
    from bench.report import BELOW_FLOOR, markdown

    systems = ["backprop", "torch", "torch-fused", "sklearn"]
    doc = {
        "meta": {
            "mode": "test",
            "date": "today",
            "cpu": "cpu",
            "cpu_count": 2,
            "threads": 2,
            "python": "3",
            "numpy": "2",
            "backprop": "0",
            "data": "synthetic",
            "data_note": "made up",
            "n_train": 5000,
            "n_test": 100,
            "systems": systems,
            "import_s": {"backprop": {"min": 0.25, "median": 0.3}},
        },
        "workloads": [
            # 1.0 s ≤ 0.45 × 2.5 s = 1.125 s, above the 0.8 s floor: met. sklearn ÷ 3 = 1.1 s: met.
            _entry(
                "headline",
                128,
                0.8,
                {"backprop": 1.0, "torch": 3.0, "torch-fused": 2.5, "sklearn": 3.3},
            ),
            # 1.2 s against the faster torch's 1.0 s: missed, though the 0.3 s floor allows it.
            _entry(
                "width-64",
                128,
                0.3,
                {"backprop": 1.2, "torch": 1.0, "torch-fused": 1.1, "sklearn": 9.0},
            ),
            # 3× torch-fused's samples/s demands 1.2 s ÷ 3 = 0.4 s, below the 0.8 s floor.
            _entry(
                "batch-1",
                1,
                0.8,
                {"backprop": 1.0, "torch": 1.5, "torch-fused": 1.2, "sklearn": 9.0},
            ),
        ],
    }
    md = markdown(doc).split("\n## Speed targets\n")[1].split("\n## ")[0]
    # target | measured | met | demands s/epoch | FLOP-bound s/epoch | floor
    headline = _cells(md, "headline epoch ≤ 0.45 × torch-fused's")
    assert headline[2:] == ["met", "1.125", "0.800", "above the floor"]
    online = _cells(md, "online learning (batch 1)")
    assert online[1].startswith("1.20× torch-fused's samples/s")
    assert online[2:] == ["missed", "0.400", "0.800", BELOW_FLOOR]
    others = _cells(md, "every other workload")
    assert others[1] == "1 of 2 workloads; missed: `width-64` 1.20"
    assert others[2] == "missed"
    assert others[5] == "above the floor at every workload"
    sklearn = _cells(md, "≥ 3× faster than scikit-learn")
    assert (sklearn[1], sklearn[2]) == ("3 of 3 workloads", "met")
    assert _cells(md, "inference at least as fast")[2] == "met"  # 0.1 s against 0.2 s
    assert _cells(md, "`import backprop` ≤ 0.2 s")[1:3] == ["0.250 s", "missed"]
    assert _cells(md, "peak RSS of the headline ≤ 300 MiB")[1:3] == ["250 MiB", "met"]
    # 0.8 s of GEMMs in 1.0 s: 0.80; 0.70 demands 0.8 s ÷ 0.7 per epoch
    fraction = _cells(md, "headline FLOP-bound fraction ≥ 0.7")
    assert fraction[1:] == ["0.80 (1.000 s/epoch)", "met", "1.143", "0.800", "above the floor"]
    # Per workload: the torch target's demanded time, ratio and verdict.
    assert _cells(md, "`batch-1`")[3:6] == [
        "0.400 (torch-fused ÷ 3) — below the GEMM floor",
        "0.83",
        "missed",
    ]
    assert _cells(md, "`width-64`")[3:6] == ["1.000 (torch)", "1.20", "missed"]
    assert _cells(md, "`headline`")[3:6] == ["1.125 (0.45 × torch-fused)", "0.40", "met"]


def test_profile_charges_each_sample_to_its_innermost_backprop_line() -> None:
    from bench.profile import innermost_lines

    collapsed = "\n".join(
        [
            "<module> (x.py:1);fit (backprop/training.py:400);Dense.forward (backprop/layers.py:211)"
            ";matmul (numpy/core.py:9) 30",
            "<module> (x.py:1);fit (backprop/training.py:400);Adam._update (backprop/optimizers.py:340) 10",
            "<module> (x.py:1);fit (backprop/training.py:400) 5",
            "<module> (x.py:1);load (bench/data.py:3) 50",  # outside fit: not counted
        ]
    )
    counts, total = innermost_lines(collapsed)
    assert total == 45
    assert counts["Dense.forward (backprop/layers.py:211)"] == 30
    assert counts["Adam._update (backprop/optimizers.py:340)"] == 10
    assert counts["fit (backprop/training.py:400)"] == 5


def test_quick_mode_runs_and_writes_valid_json(tmp_path: Path) -> None:
    """--quick, as CI runs it: synthetic data, backprop only; no timing is asserted."""
    doc = _run_smoke(tmp_path, "backprop", "--quick", "--data", "synthetic")
    assert doc["meta"]["mode"] == "quick"
    names = [e["workload"]["name"] for e in doc["workloads"]]
    assert names == ["headline", "width-64", "regression"]
    for entry in doc["workloads"]:
        _check_ok_result(entry["results"]["backprop"], entry["workload"])
