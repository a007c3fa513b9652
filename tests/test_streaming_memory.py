"""Training on a memmap several times larger than the memory its process may use.

The child process measures its own memory after importing NumPy and backprop
and running one matrix product (so BLAS has set up its buffers), then limits
itself to that baseline plus BUDGET with setrlimit, and checks that the limit
bites (loading the file into memory fails) before it trains.

The limit is RLIMIT_DATA, not RLIMIT_AS: a memory map of the file is address
space but not memory (its pages are the file's, which the kernel drops and
re-reads as needed), and RLIMIT_AS would refuse the map itself. RLIMIT_DATA
counts what the process allocates: the heap and anonymous maps, where every
NumPy array lives. A second child trains `backprop train` on the same data
as .npy shards under RLIMIT_AS, which holds there because shards are read
one window at a time and never mapped whole; its budget is larger
(COMMAND_BUDGET, 2.4 times smaller than the file) because the command uses
the default shuffle buffer, 32 MiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backprop as bp

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc/self/status and Linux's RLIMIT_DATA")

BUDGET = 48 * 2**20  # bytes the child may allocate beyond its baseline
M, N, K = 800_000, 48, 3  # 800,000 samples × 48 float32 features = 154 MB: 3.2 × BUDGET
BUFFER = 20_000  # shuffle-buffer rows: 3.8 MB
COMMAND_BUDGET = 64 * 2**20  # address space beyond the baseline for `backprop train`

CHILD = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import backprop as bp
    from backprop.cli import entry as cli

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

    folder, budget, limit_kind, buffer = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    np.ones((256, 256), np.float32) @ np.ones((256, 256), np.float32)  # BLAS sets up
    kind = resource.RLIMIT_DATA if limit_kind == "data" else resource.RLIMIT_AS
    baseline = status("VmData" if limit_kind == "data" else "VmSize")
    resource.setrlimit(kind, (baseline + budget, baseline + budget))
    try:
        np.load(folder + "/X_000.npy")
        sys.exit("the limit does not bite: the whole file loaded")
    except MemoryError:
        pass
    X_test, y_test = np.load(folder + "/X_test.npy"), np.load(folder + "/y_test.npy")
    if limit_kind == "data":
        X = np.load(folder + "/X_000.npy", mmap_mode="r")
        y = np.load(folder + "/y_000.npy")
        net = bp.Network([bp.Dense(X.shape[1], 32, activation="relu"),
                          bp.Dense(32, 3, activation="softmax")], loss="cross_entropy", seed=0)
        source = bp.streaming.open_source(X, y, buffer_size=buffer)
        history = net.fit(source, None, epochs=1, batch_size=128, optimizer=bp.Adam(3e-3))
        accuracy = net.evaluate(X_test, y_test)["accuracy"]
        losses = history["loss"]
    else:
        status_code = cli.main(["train", folder, "--layers", "32", "--epochs", "1",
                                "--batch-size", "128", "--lr", "0.003", "--scale", "none",
                                "--out", folder + "/run", "--quiet", "--no-plots"])
        assert status_code == 0, status_code
        metrics = json.load(open(folder + "/run/metrics.json"))
        accuracy, losses = metrics["test"]["accuracy"], [metrics["final"]["loss"]]
    print(json.dumps({"accuracy": accuracy, "losses": losses, "baseline": baseline}))
""")


def make_data(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Three classes, separable by a random linear map plus noise; written as one shard."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(N, K))
    X = rng.normal(size=(M, N)).astype(np.float32)
    y = np.argmax(X @ w + rng.normal(scale=2.0, size=(M, K)), axis=1).astype(np.int8)
    X_test = rng.normal(size=(5000, N)).astype(np.float32)
    y_test = np.argmax(X_test @ w, axis=1)
    np.save(folder / "X_000.npy", X)
    np.save(folder / "y_000.npy", y)
    np.save(folder / "X_test.npy", X_test)
    np.save(folder / "y_test.npy", y_test)
    return X, y, X_test, y_test


def run_child(folder: Path, kind: str, budget: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), str(budget), kind, str(BUFFER)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_a_memmap_larger_than_the_memory_limit_trains_as_well_as_in_memory(
        tmp_path: Path) -> None:
    X, y, X_test, y_test = make_data(tmp_path)
    assert X.nbytes > 3 * BUDGET
    streamed = run_child(tmp_path, "data", BUDGET)
    net = bp.Network([bp.Dense(N, 32, activation="relu"), bp.Dense(32, K, activation="softmax")],
                     loss="cross_entropy", seed=0)
    net.fit(X, y, epochs=1, batch_size=128, optimizer=bp.Adam(3e-3))
    in_memory = net.evaluate(X_test, y_test)["accuracy"]
    assert in_memory > 0.9  # the task is learnable: well above chance (1/3)
    # the same data, the same network and steps, another order of the samples
    assert abs(streamed["accuracy"] - in_memory) < 0.01, (streamed, in_memory)
    assert X.nbytes > 2 * COMMAND_BUDGET
    del X
    shards = run_child(tmp_path, "address", COMMAND_BUDGET)  # backprop train on the shards
    assert abs(shards["accuracy"] - in_memory) < 0.01, (shards, in_memory)
