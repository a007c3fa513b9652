"""Training on files several times larger than the memory its process may use, giving the
same model, bit for bit, as the same data in memory.

Each test writes a file of about 210 MB, then runs a child process that trains one epoch
on it under ``setrlimit(RLIMIT_DATA)``: the child first trains on a small copy of the data
(so that every lazy import and BLAS's buffers are in place), measures its memory (VmData),
limits itself to that baseline plus LIMIT (64 MiB, a third of the file), checks that the
limit bites (the file's size cannot be allocated), and trains with a memory budget of
BUDGET (32 MiB). The parent then trains the same network on the same data held in memory,
with the same seed and the same memory budget, hence the same blocks read in the same
order, and compares the weights bit for bit: the streamed run (scaling statistics summed
block by block, targets and features read a block at a time) computed exactly what the
in-memory run did.

A CSV file is parsed in Python, a few MB a second, so its test writes a smaller file (76
MB) under a smaller limit (CSV_LIMIT, 24 MiB) and budget (16 MiB). The last test runs
the estimators and the command with their defaults on 784 features in processes limited
to 400 MB from their start.

The limit is RLIMIT_DATA, not RLIMIT_AS: a memory map of a file is address space but not
memory (its pages are the file's, which the kernel drops and re-reads as needed);
RLIMIT_DATA counts what the process allocates, the heap and anonymous maps, where every
NumPy array lives. The child reports its peak VmData above the baseline, sampled every
5 ms (printed with ``pytest -s``); the limit is what the test asserts.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.datasets import Scaler
from backprop.streaming import open_source
from backprop.streaming.budget import plan_rows

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc/self/status and Linux's RLIMIT_DATA")

MiB = 1 << 20
LIMIT = 64 * MiB  # what the child may allocate beyond its baseline
BUDGET = 32 * MiB  # the memory budget of its streaming
CSV_LIMIT, CSV_BUDGET = 24 * MiB, 16 * MiB  # for a CSV file, parsed in Python: smaller
M, N, K = 520_000, 100, 3  # 520,000 samples × 100 float32 features: 210 MB, 3 × LIMIT
HIDDEN, BATCH, LR = 16, 256, 0.01

CHILD = textwrap.dedent("""
    import contextlib, io, json, os, resource, sys, threading, time
    import numpy as np
    import backprop as bp
    from backprop.cli import entry as cli

    def vm_data():
        for line in open("/proc/self/status"):
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024

    task, folder, limit, budget = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    train = ["--layers", "16", "--epochs", "1", "--batch-size", "256", "--lr", "0.01",
             "--memory-budget", budget, "--no-plots"]

    def run(where, out):
        if task in ("npy", "shards", "csv"):
            name = {"npy": "Xy.npy", "shards": "shards", "csv": "data.csv"}[task]
            extra = ["--scale", "none"] if task == "csv" else []
            status = cli.main(["train", os.path.join(where, name), *train, *extra,
                               "--out", out])
            assert status == 0, status
            return
        from backprop.sklearn import MLPClassifier
        X = np.load(os.path.join(where, "X.npy"), mmap_mode="r")
        y = np.load(os.path.join(where, "y.npy"))
        settings = dict(hidden_layer_sizes=(16,), batch_size=256, learning_rate_init=0.01,
                        random_state=0)
        fitted = MLPClassifier(max_iter=1, **settings).fit(X, y)
        stepped = MLPClassifier(**settings)
        for start in range(0, len(y), len(y) // 3 + 1):  # three chunks of the memmap
            chunk = slice(start, start + len(y) // 3 + 1)
            stepped.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
        os.makedirs(out, exist_ok=True)
        np.save(os.path.join(out, "fit.npy"), fitted.network_.params)
        np.save(os.path.join(out, "partial_fit.npy"), stepped.network_.params)

    peak = 0
    def watch():
        global peak
        while True:
            peak = max(peak, vm_data())
            time.sleep(0.005)
    threading.Thread(target=watch, daemon=True).start()
    with contextlib.redirect_stdout(io.StringIO()):
        run(os.path.join(folder, "warm"), os.path.join(folder, "warm", "run"))
    baseline = vm_data()
    resource.setrlimit(resource.RLIMIT_DATA, (baseline + limit, baseline + limit))
    try:
        np.empty(int(sys.argv[5]), np.uint8)
        sys.exit("the limit does not bite: the file's size could be allocated")
    except MemoryError:
        pass
    peak = baseline
    started = time.perf_counter()
    run(folder, os.path.join(folder, "run"))
    seconds = time.perf_counter() - started
    print(json.dumps({"baseline": baseline, "peak": peak - baseline, "seconds": seconds}))
""")


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """tmp_path, emptied afterwards: the files are hundreds of MB."""
    yield tmp_path
    for entry in tmp_path.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def learnable(m: int, seed: int = 0) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(start, X rows, labels) in chunks: three classes, a random linear map plus noise."""
    w = np.random.default_rng(42).normal(size=(N, K))
    rng = np.random.default_rng(seed)
    for start in range(0, m, 50_000):
        rows = min(50_000, m - start)
        X = rng.standard_normal((rows, N), dtype=np.float32) * 3.0 + 1.0  # not standard yet
        labels = np.argmax(X @ w + rng.normal(scale=4.0, size=(rows, K)), axis=1)
        yield start, X, labels.astype(np.int8)


def write_npy(path: Path, m: int) -> None:
    """One .npy file, the label in its last column."""
    data = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(m, N + 1))
    for start, X, labels in learnable(m):
        data[start:start + len(X), :N] = X
        data[start:start + len(X), N] = labels
    data.flush()


def write_shards(folder: Path, m: int) -> None:
    """Shards whose sizes are whole blocks (but the last), so that the blocks an epoch reads
    are those of the same rows in one array."""
    folder.mkdir()
    block = plan_rows(N, 4, BATCH, budget=BUDGET).block_rows
    bounds = [0, 23 * block, 61 * block, m] if m > 61 * block else [0, m // 2, m]
    X = np.empty((m, N), np.float32)
    y = np.empty(m, np.int8)
    for start, rows, labels in learnable(m):
        X[start:start + len(rows)], y[start:start + len(rows)] = rows, labels
    for i, (start, stop) in enumerate(itertools.pairwise(bounds)):
        np.save(folder / f"X_{i:03d}.npy", X[start:stop])
        np.save(folder / f"y_{i:03d}.npy", y[start:stop])


def write_arrays(folder: Path, m: int) -> None:
    """X.npy (m, N) and y.npy (m,), for the estimators' memmap."""
    X = np.lib.format.open_memmap(folder / "X.npy", mode="w+", dtype=np.float32, shape=(m, N))
    y = np.empty(m, np.int8)
    for start, rows, labels in learnable(m):
        X[start:start + len(rows)], y[start:start + len(rows)] = rows, labels
    X.flush()
    np.save(folder / "y.npy", y)


def run_child(folder: Path, task: str, file_bytes: int, limit: int = LIMIT,
              budget: int = BUDGET) -> tuple[dict[str, Any], str]:
    """The child's report and its standard output (the command's lines before it)."""
    assert file_bytes > 2.9 * limit
    result = subprocess.run(
        [sys.executable, "-c", CHILD, task, str(folder), str(limit), str(budget),
         str(file_bytes)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "BACKPROP_MEMORY_BUDGET": str(budget)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"\n{task}: {file_bytes / 1e6:.0f} MB file, peak {report['peak'] / MiB:.1f} MiB above "
          f"a baseline of {report['baseline'] / MiB:.0f} MiB (limit {limit // MiB} MiB), "
          f"{report['seconds']:.1f} s")
    assert report["peak"] < limit
    return report, result.stdout


def network() -> bp.Network:
    """The network the command builds from the child's options."""
    return bp.Network([bp.Dense(N, HIDDEN, activation="relu"),
                       bp.Dense(HIDDEN, K, activation="softmax")], loss="cross_entropy", seed=0)


def trained_in_memory(X: np.ndarray, labels: np.ndarray, scale: bool) -> np.ndarray:
    """The weights after one epoch on (X, labels) in memory: scaled in place with a Scaler
    fitted on it, then read through a source with the same memory budget (the same blocks,
    the same order for the same seed) as the child's."""
    if scale:
        scaler = Scaler("standard").fit(X)
        for start in range(0, len(X), 65_536):
            X[start:start + 65_536] = scaler.transform(X[start:start + 65_536])
    net = network()
    net.fit(open_source(X, labels.astype(np.int64), memory_budget=BUDGET), None, epochs=1,
            batch_size=BATCH, optimizer=bp.Adam(LR))
    return net.params


def model_weights(path: Path) -> np.ndarray:
    return bp.load(str(path / "run" / "model.npz")).params


def first_line(stdout: str) -> str:
    return stdout.splitlines()[0]


def test_backprop_train_on_a_npy_file_three_times_the_limit(folder: Path) -> None:
    (folder / "warm").mkdir()
    write_npy(folder / "warm" / "Xy.npy", 2000)
    write_npy(folder / "Xy.npy", M)
    _, stdout = run_child(folder, "npy", (folder / "Xy.npy").stat().st_size)
    assert first_line(stdout).endswith("520000 train / 0 test; streamed from disk with a "
                                       "memory budget of 32 MiB")
    data = np.load(folder / "Xy.npy")
    expected = trained_in_memory(data[:, :N], data[:, N], scale=True)
    assert np.array_equal(model_weights(folder), expected)


def test_backprop_train_on_shards_three_times_the_limit(folder: Path) -> None:
    (folder / "warm").mkdir()
    write_shards(folder / "warm" / "shards", 2000)
    write_shards(folder / "shards", M)
    size = sum(f.stat().st_size for f in (folder / "shards").iterdir())
    _, stdout = run_child(folder, "shards", size)
    assert "streamed from disk with a memory budget of 32 MiB" in first_line(stdout)
    parts = sorted((folder / "shards").glob("X_*.npy"))
    X = np.concatenate([np.load(p) for p in parts])
    y = np.concatenate([np.load(p.with_name("y" + p.name[1:])) for p in parts])
    expected = trained_in_memory(X, y, scale=True)
    assert np.array_equal(model_weights(folder), expected)


def test_the_estimators_fit_and_partial_fit_on_a_memmap_three_times_the_limit(
        folder: Path) -> None:
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
    from backprop.sklearn import MLPClassifier

    (folder / "warm").mkdir()
    write_arrays(folder / "warm", 2000)
    write_arrays(folder, M)
    run_child(folder, "estimators", (folder / "X.npy").stat().st_size)
    X, y = np.load(folder / "X.npy"), np.load(folder / "y.npy")
    settings: dict[str, Any] = {"hidden_layer_sizes": (16,), "batch_size": BATCH,
                                "learning_rate_init": LR, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # one epoch: it has not converged
        fitted = MLPClassifier(max_iter=1, **settings).fit(
            open_source(X, y, memory_budget=BUDGET), None)
    assert np.array_equal(np.load(folder / "run" / "fit.npy"), fitted.network_.params)
    stepped = MLPClassifier(**settings)
    third = len(y) // 3 + 1
    for start in range(0, len(y), third):
        stepped.partial_fit(open_source(X[start:start + third], y[start:start + third],
                                        memory_budget=BUDGET), None, classes=[0, 1, 2])
    assert np.array_equal(np.load(folder / "run" / "partial_fit.npy"), stepped.network_.params)


def write_csv(path: Path, repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """A CSV file: a header, then 4,000 distinct rows of 20 features and a label, written
    ``repeats`` times (fast to write); returns the rows it holds as load_csv reads them
    (each cell's float, as float32) and the labels."""
    _, X, labels = next(learnable(4000, seed=1))
    cells = [[f"{value:.6g}" for value in row] for row in X[:, :20].tolist()]
    text = "".join(",".join(row) + f",{label}\n"
                   for row, label in zip(cells, labels.tolist(), strict=True))
    with path.open("w") as file:
        file.write(",".join(f"x{i}" for i in range(20)) + ",label\n")
        for _ in range(repeats):
            file.write(text)
    values = np.array([[float(cell) for cell in row] for row in cells]).astype(np.float32)
    return np.tile(values, (repeats, 1)), np.tile(labels, repeats)


def test_backprop_train_on_a_csv_file_three_times_the_limit(folder: Path) -> None:
    """The CSV is parsed in Python, a few MB a second: a smaller file under a smaller limit
    (CSV_LIMIT) and budget (the smallest, 16 MiB), trained without scaling (one pass less)."""
    (folder / "warm").mkdir()
    write_csv(folder / "warm" / "data.csv", 1)
    X, y = write_csv(folder / "data.csv", 110)  # 440,000 rows, 76 MB
    size = (folder / "data.csv").stat().st_size
    _, stdout = run_child(folder, "csv", size, limit=CSV_LIMIT, budget=CSV_BUDGET)
    assert first_line(stdout).endswith("440000 train / 0 test; streamed from disk with a "
                                       "memory budget of 16 MiB")
    net = bp.Network([bp.Dense(20, HIDDEN, activation="relu"),
                      bp.Dense(HIDDEN, K, activation="softmax")], loss="cross_entropy", seed=0)
    net.fit(open_source(X, y.astype(np.int64), memory_budget=CSV_BUDGET), None, epochs=1,
            batch_size=BATCH, optimizer=bp.Adam(LR))
    assert np.array_equal(model_weights(folder), net.params)


WIDE = """
import json, os, sys, threading, time
import backprop  # before NumPy: OpenBLAS starts as many threads as fit the limit, here one
import numpy as np

peak = 0
def watch():
    global peak
    while True:
        for line in open("/proc/self/status"):
            if line.startswith("VmData:"):
                peak = max(peak, int(line.split()[1]) * 1024)
        time.sleep(0.005)
threading.Thread(target=watch, daemon=True).start()
if sys.argv[1] == "estimator":
    from backprop.sklearn import MLPClassifier
    data = np.load(sys.argv[2], mmap_mode="r")
    MLPClassifier((256,), max_iter=1, random_state=0).fit(data[:, :-1], data[:, -1])
else:
    from backprop.cli import entry as cli
    status = cli.main(["train", sys.argv[2], "--layers", "256", "--epochs", "1",
                       "--batch-size", "200", "--out", sys.argv[3], "--no-plots", "--quiet"])
    assert status == 0, status
time.sleep(0.01)
print(json.dumps({"peak": peak}))
"""


def test_a_400_mb_limit_trains_784_256_10_on_a_larger_file_by_default(folder: Path) -> None:
    """The estimators and the command with their defaults (memory budget, scaling, BLAS's
    threads), each in a process limited to 400 MB from its start, as ``prlimit --data``
    does: 784 features, a 256-unit hidden layer, a file larger than the limit. Importing
    backprop before NumPy lets it start no more BLAS threads than the limit holds (see
    backprop.blas_threads), so that the test holds on any number of cores."""
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
    rows = 130_000  # × 785 float32 columns: 408 MB
    data = np.lib.format.open_memmap(folder / "Xy.npy", mode="w+", dtype=np.float32,
                                     shape=(rows, 785))
    rng = np.random.default_rng(0)
    for start in range(0, rows, 20_000):
        X = rng.standard_normal((min(20_000, rows - start), 784), dtype=np.float32)
        data[start:start + len(X), :784] = X
        data[start:start + len(X), 784] = X[:, :10].argmax(axis=1)
    data.flush()
    del data
    limit = 400_000_000
    assert (folder / "Xy.npy").stat().st_size > limit

    def limited() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))

    clean = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")
             and k != "BACKPROP_MEMORY_BUDGET"}
    for front_end in ("estimator", "command"):
        result = subprocess.run(
            [sys.executable, "-c", WIDE, front_end, str(folder / "Xy.npy"), str(folder / "run")],
            capture_output=True, text=True, timeout=300, env=clean, preexec_fn=limited)
        assert result.returncode == 0, result.stderr[-3000:]
        peak = json.loads(result.stdout.strip().splitlines()[-1])["peak"]
        print(f"\n784-256-10, {front_end}, 400 MB limit: peak VmData {peak / MiB:.0f} MiB")
