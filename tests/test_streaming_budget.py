"""The memory budget of streaming, the sizes it gives, files of any size, and BLAS threads
fitted to a process memory limit."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from backprop.blas_threads import THREAD_BYTES, threads_within
from backprop.errors import DataError, OptionError
from backprop.streaming import ArraySource, NpyFile, NpyShards, open_source, shuffled_batches
from backprop.streaming.budget import memory_budget, plan_rows, read_rows

MiB = 1 << 20


def test_the_budget_comes_from_the_argument_the_environment_or_the_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKPROP_MEMORY_BUDGET", raising=False)
    assert memory_budget() == 128 * MiB
    monkeypatch.setenv("BACKPROP_MEMORY_BUDGET", str(64 * MiB))
    assert memory_budget() == 64 * MiB and memory_budget(32 * MiB) == 32 * MiB
    plan = plan_rows(100, 4, 32)  # rows of 100 float32 features and a target: 408 bytes
    assert plan.buffer_rows == 32 * MiB // 408 and plan.block_rows == plan.buffer_rows // 8
    for bad, message in [("lots", "BACKPROP_MEMORY_BUDGET='lots' must be a positive integer"),
                         ("1000", "memory budget of 1,000 bytes is below the smallest")]:
        monkeypatch.setenv("BACKPROP_MEMORY_BUDGET", bad)
        with pytest.raises(OptionError, match=message) as caught:
            memory_budget()
        assert "\n" not in str(caught.value)
    monkeypatch.delenv("BACKPROP_MEMORY_BUDGET")
    with pytest.raises(OptionError, match=r"a shuffle buffer of 1,000,000 samples takes 389\.1 "
                                          r"MiB, above half the memory budget of 128 MiB"):
        plan_rows(100, 4, 32, buffer_size=1_000_000)
    assert plan_rows(100, 4, 32, buffer_size=1_000_000, budget=1 << 30).buffer_rows == 1_000_000


def traced_peak(action: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_a_small_data_set_never_allocates_the_whole_buffer() -> None:
    X = np.ones((1000, 8), np.float32)

    def epoch() -> list[tuple[np.ndarray, np.ndarray]]:
        return list(shuffled_batches(ArraySource(X, np.zeros(1000)), 100,
                                     rng=np.random.default_rng(0)))

    epoch()  # what it imports on first use is not the buffer
    batches, peak = traced_peak(epoch)
    assert sum(len(y) for _, y in batches) == 1000  # type: ignore[attr-defined]
    assert peak < 200_000  # the data's rows (40 kB, and the batches as many), not 128 MiB


def write_npy(path: Path, rows: int, columns: int, seed: int = 0) -> np.ndarray:
    data = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, columns))
    rng = np.random.default_rng(seed)
    for start in range(0, rows, 50_000):
        stop = min(start + 50_000, rows)
        data[start:stop] = rng.normal(size=(stop - start, columns))
    data.flush()
    return np.asarray(data)


def test_the_targets_and_statistics_of_a_large_npy_are_read_within_the_budget(
        tmp_path: Path) -> None:
    """A 48 MB file under a 16 MiB budget: the targets are the last column copied out of
    each window (not the blocks kept until the end), the statistics summed block by block."""
    path = tmp_path / "Xy.npy"
    data = write_npy(path, 200_000, 60)
    source = NpyFile(path)
    source.memory_budget = 16 * MiB
    source.targets()  # what it imports on first use is not the targets
    targets, peak = traced_peak(source.targets)
    assert np.array_equal(targets, data[:, -1])  # type: ignore[arg-type]
    assert peak < 1.2 * data[:, -1].nbytes, peak  # the column (0.8 MB), not the file (48 MB)
    stats, peak = traced_peak(source.column_statistics)
    assert np.allclose(stats.mean, data[:, :-1].astype(np.float64).mean(axis=0))  # type: ignore[attr-defined]
    assert peak < 16 * MiB, peak
    X, y = source.read(0, 10, 20)
    assert not np.shares_memory(X, y)  # the targets outlive the block they were read from


def sparse_npy(path: Path, shape: tuple[int, ...], holds: int | None = None) -> int:
    """An .npy file declaring float32 ``shape``, its data a hole of ``holds`` bytes (all it
    declares by default): nothing written, nothing on disk."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": shape})
    declared = int(np.prod(shape)) * 4
    with path.open("wb") as file:
        file.write(header.getvalue())
        file.truncate(len(header.getvalue()) + (declared if holds is None else holds))
    return declared


def test_a_file_over_2_gib_streams_and_a_lying_header_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.npy"
    declared = sparse_npy(big, (600_000, 1000))  # 2.4 GB: above BACKPROP_MAX_ARRAY_BYTES
    assert declared > 2 << 30 and big.stat().st_blocks * 512 < 1 * MiB
    source = open_source(big)
    assert isinstance(source, NpyFile) and source.shape == (600_000, 999)
    X, y = source.read(0, 599_990, 600_000)
    assert X.shape == (10, 999) and not X.any() and not y.any()
    shards = tmp_path / "shards"
    shards.mkdir()
    sparse_npy(shards / "X_000.npy", (600_000, 1000))
    np.save(shards / "y_000.npy", np.zeros(600_000, np.int8))
    assert NpyShards(shards).n_samples == 600_000
    liar = tmp_path / "liar.npy"
    sparse_npy(liar, (600_000, 1000), holds=1000)
    with pytest.raises(DataError) as caught:
        open_source(liar)
    assert str(caught.value) == (
        f"{liar} declares shape (600000, 1000) (2,400,000,000 bytes) but the file holds "
        "1,000: it is corrupt or truncated")


def test_what_is_loaded_whole_is_still_held_to_the_array_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    np.save(tmp_path / "X_000.npy", np.zeros((100, 10), np.float32))  # 4,000 bytes
    np.save(tmp_path / "y_000.npy", np.zeros(100))
    np.save(tmp_path / "X_test.npy", np.zeros((100, 10), np.float32))
    np.save(tmp_path / "y_test.npy", np.zeros(100))
    monkeypatch.setenv("BACKPROP_MAX_ARRAY_BYTES", "3000")
    shards = NpyShards(tmp_path)  # streamed: accepted
    with pytest.raises(DataError, match=r"X_test\.npy declares shape \(100, 10\) \(4,000 "
                                        r"bytes\), above the limit of 3,000 bytes"):
        shards.test_arrays()  # loaded whole: refused


def run_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backprop", "train", *args],
                          capture_output=True, text=True, timeout=120)


def test_the_command_says_it_streams_and_within_which_budget(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4)).astype(np.float32)
    np.save(tmp_path / "data.npy", np.column_stack([X, (X[:, 0] > 0).astype(np.float32)]))
    common = ["--epochs", "1", "--no-plots", "--out", str(tmp_path / "run")]
    result = run_command(str(tmp_path / "data.npy"), "--memory-budget", "64M", *common)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "data: classification, 2 classes, 4 features, 500 train / 0 test; streamed from disk "
        "with a memory budget of 64 MiB")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["config"]["memory_budget"] == 64 * MiB
    result = subprocess.run([sys.executable, "-m", "backprop", "train", str(tmp_path / "data.npy"),
                             *common], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "BACKPROP_MEMORY_BUDGET": str(100 * MiB)})
    assert result.stdout.splitlines()[0].endswith("with a memory budget of 100 MiB")
    for dataset, extra, message in [
        (str(tmp_path / "data.npy"), ["--memory-budget", "lots"],
         "--memory-budget 'lots' is not a size: give bytes, or a number with K, M or G"),
        (str(tmp_path / "data.npy"), ["--memory-budget", "1M"],
         "--memory-budget '1M' is below the smallest budget, 16M"),
        ("xor", ["--memory-budget", "64M"], "--memory-budget applies to data streamed from disk"),
        (str(tmp_path / "data.npy"), ["--buffer-size", "10000000"],
         "a shuffle buffer of 10,000,000 samples takes 228.9 MiB, above half the memory budget"),
    ]:
        result = run_command(dataset, *extra, *common)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("backprop: error: ") and message in result.stderr
        assert result.stderr.count("\n") == 1


def test_blas_threads_follow_the_memory_limit() -> None:
    assert threads_within(400_000_000, 16) == 1
    assert threads_within(2 << 30, 16) == (2 << 30) // (4 * THREAD_BYTES) == 7
    assert threads_within(64 << 30, 16) == 16
    assert threads_within(64 << 30, 2) == 2


PROBE = """
import json, os
import backprop
from threadpoolctl import threadpool_info
blas = [pool["num_threads"] for pool in threadpool_info() if pool["internal_api"] == "openblas"]
print(json.dumps({"variable": os.environ.get("OPENBLAS_NUM_THREADS"), "threads": blas}))
"""


def probe_threads(limit: int | None, env: dict[str, str]) -> dict[str, object]:
    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))

    clean = {k: v for k, v in os.environ.items()
             if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            timeout=60, env={**clean, **env}, preexec_fn=limited)
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's RLIMIT_DATA")
def test_a_process_started_under_a_memory_limit_starts_blas_threads_that_fit_it() -> None:
    pytest.importorskip("threadpoolctl")
    limited = probe_threads(1 << 30, {})  # 1 GiB: 3 threads at most
    expected = min(threads_within(1 << 30, len(os.sched_getaffinity(0))), 3)
    assert limited == {"variable": str(expected), "threads": [expected]}
    assert probe_threads(None, {})["variable"] is None  # no limit: OpenBLAS's own choice
    assert probe_threads(1 << 30, {"OPENBLAS_NUM_THREADS": "2"})["variable"] == "2"


def test_read_rows_follow_the_budget_and_the_width() -> None:
    assert read_rows(1001, 4, 256 * MiB) == (256 * MiB // 16) // 4004
    assert read_rows(1, 8, 16 * MiB) == (16 * MiB // 16) // 8
