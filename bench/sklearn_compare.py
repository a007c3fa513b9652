"""backprop.sklearn's estimators against scikit-learn's own MLP: same splits, same settings.

    python bench/sklearn_compare.py [--seeds 5] [--threads 2] [--busy 2] [--out FILE]
    python bench/sklearn_compare.py --sparse       # peak memory on a 20,000 × 10,000 CSR
    python bench/sklearn_compare.py --tiny         # seconds: checks the script, measures nothing

Tasks: digits (8 × 8 images, 10 classes, pixels / 16), breast_cancer (30 features,
standardized) and make_regression (20,000 × 50, standardized target), each with the
solvers adam, sgd and lbfgs and scikit-learn's defaults (100 ReLU units, at most 200
epochs, its stopping rules). Per seed, both estimators get the same split (a quarter
held out) and the same ``random_state``, and are fitted from scratch in turns (which
goes first alternates), so a machine whose speed drifts slows both alike. The table
gives each one's median fit time, the ratio backprop ÷ scikit-learn (below 1: backprop
is faster), the test score (accuracy, or R²) as mean ± standard deviation over the
seeds, whether the two mean scores agree within noise (their difference within two
standard errors, from the seeds' spread) and the median epochs (lbfgs: iterations).

``--busy N`` starts N processes that spin on a core for the whole run (other work on
the machine); they stop with the run, or by themselves after an hour. The BLAS thread
count (``--threads``) is set before NumPy loads. ``--sparse`` fits each estimator once,
each in a process of its own, on a CSR matrix of 20,000 × 10,000 at 1% density, and
reports the process's peak resident memory against the 1.6 GB a dense copy would take.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
SYSTEMS = ("sklearn", "backprop")
SOLVERS = ("adam", "sgd", "lbfgs")
TASKS = ("digits", "breast_cancer", "regression")
#: The sparse job: rows, columns, density.
SPARSE_SHAPE = (20_000, 10_000, 0.01)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds (splits and fits) per task")
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")
    parser.add_argument("--busy", type=int, default=0, help="spinning processes beside the run")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated tasks")
    parser.add_argument("--solvers", default=",".join(SOLVERS), help="comma-separated solvers")
    parser.add_argument("--sparse", action="store_true", help="the sparse job's peak memory")
    parser.add_argument("--sparse-child", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help="also write the report (markdown) here")
    parser.add_argument("--tiny", action="store_true", help="small data, one seed (a check)")
    return parser.parse_args(argv)


def load_task(name: str, seed: int, tiny: bool) -> tuple[str, Any, Any, Any, Any]:
    """(estimator kind, X_train, X_test, y_train, y_test) of a task's split for ``seed``."""
    from sklearn.datasets import load_breast_cancer, load_digits, make_regression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if name == "digits":
        X, y = load_digits(return_X_y=True)
        X, kind = X / 16.0, "MLPClassifier"
    elif name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
        kind = "MLPClassifier"
    else:
        X, y = make_regression(n_samples=400 if tiny else 20_000, n_features=50,
                               n_informative=30, noise=10.0, random_state=0)
        y, kind = (y - y.mean()) / y.std(), "MLPRegressor"
    if tiny:
        X, y = X[:300], y[:300]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed,
        stratify=y if kind == "MLPClassifier" else None)
    if name == "breast_cancer":
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return kind, X_train, X_test, y_train, y_test


def make_estimator(system: str, kind: str, solver: str, seed: int, tiny: bool) -> Any:
    from sklearn import neural_network

    from backprop import sklearn as ours

    module = neural_network if system == "sklearn" else ours
    return getattr(module, kind)(solver=solver, random_state=seed,
                                 max_iter=5 if tiny else 200)


def within_noise(mine: list[float], theirs: list[float]) -> bool:
    """Whether two means over seeds differ by less than their noise: two standard errors
    of the difference of two means, √((s₁² + s₂²) / n), from the seeds' spread."""
    difference = statistics.fmean(mine) - statistics.fmean(theirs)
    if len(mine) < 2:
        return abs(difference) <= 1e-12
    spread = statistics.variance(mine) + statistics.variance(theirs)
    return abs(difference) <= 2 * (spread / len(mine)) ** 0.5 + 1e-12


def compare(task: str, solver: str, seeds: int, tiny: bool) -> dict[str, Any]:
    """Both estimators on one task and solver, per seed in turns."""
    from sklearn.exceptions import ConvergenceWarning

    seconds: dict[str, list[float]] = {s: [] for s in SYSTEMS}
    scores: dict[str, list[float]] = {s: [] for s in SYSTEMS}
    epochs: dict[str, list[int]] = {s: [] for s in SYSTEMS}
    for seed in range(seeds):
        kind, X_train, X_test, y_train, y_test = load_task(task, seed, tiny)
        order = SYSTEMS if seed % 2 == 0 else SYSTEMS[::-1]  # in turns, first alternating
        for system in order:
            estimator = make_estimator(system, kind, solver, seed, tiny)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                started = time.perf_counter()
                estimator.fit(X_train, y_train)
                seconds[system].append(time.perf_counter() - started)
            scores[system].append(float(estimator.score(X_test, y_test)))
            epochs[system].append(int(estimator.n_iter_))
    return {"task": task, "solver": solver, "seconds": seconds, "scores": scores,
            "epochs": epochs}


def table_row(result: dict[str, Any]) -> str:
    sk, bp = (statistics.median(result["seconds"][s]) for s in SYSTEMS)

    def score(system: str) -> str:
        values = result["scores"][system]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{statistics.fmean(values):.4f} ± {spread:.4f}"

    agree = within_noise(result["scores"]["backprop"], result["scores"]["sklearn"])
    sk_epochs, bp_epochs = (statistics.median(result["epochs"][s]) for s in SYSTEMS)
    return (f"| {result['task']} | {result['solver']} | {sk:.4g} | {bp:.4g} | {bp / sk:.3g} "
            f"| {score('sklearn')} | {score('backprop')} | {'yes' if agree else 'no'} "
            f"| {sk_epochs:g} / {bp_epochs:g} |")


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def sparse_child(system: str) -> int:
    """Fit one estimator on the sparse job; print its figures as one line of JSON."""
    import numpy as np
    from scipy import sparse

    rows, columns, density = SPARSE_SHAPE
    rng = np.random.default_rng(0)
    X = sparse.random(rows, columns, density=density, format="csr", random_state=rng)
    y = np.asarray(X @ rng.normal(size=columns) > 0, dtype=int)
    estimator = make_estimator(system, "MLPClassifier", "adam", 0, tiny=False)
    estimator.set_params(max_iter=2)
    before = peak_rss_mib()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - started
    print(json.dumps({"system": system, "peak_rss_mib": peak_rss_mib(),
                      "rss_before_fit_mib": before, "seconds": seconds,
                      "csr_mib": (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20,
                      "dense_mib": rows * columns * 8 / 2**20}))
    return 0


def sparse_report() -> list[str]:
    lines = [f"Sparse X: {SPARSE_SHAPE[0]:,} × {SPARSE_SHAPE[1]:,} CSR at "
             f"{SPARSE_SHAPE[2]:.0%}, MLPClassifier (100 ReLU units, adam, 2 epochs), "
             "each fitted in a process of its own:", "",
             "| system | peak RSS MiB | RSS before fit MiB | CSR MiB | dense copy MiB | fit s |",
             "|---|---|---|---|---|---|"]
    for system in SYSTEMS:
        done = subprocess.run([sys.executable, __file__, "--sparse-child", system],
                              capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        lines.append(f"| {system} | {figures['peak_rss_mib']:.0f} "
                     f"| {figures['rss_before_fit_mib']:.0f} | {figures['csr_mib']:.0f} "
                     f"| {figures['dense_mib']:.0f} | {figures['seconds']:.3g} |")
    return lines


def heading(args: argparse.Namespace) -> list[str]:
    import numpy
    import sklearn

    from bench.machine import cpu_model

    return [f"{time.strftime('%Y-%m-%d %H:%M')}, {cpu_model()}, {os.cpu_count()} cores, "
            f"{args.threads} BLAS threads, {args.busy} spinning processes beside the run, "
            f"load average {os.getloadavg()[0]:.1f} at the start; NumPy {numpy.__version__}, "
            f"scikit-learn {sklearn.__version__}; {args.seeds} seeds.", ""]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)  # before NumPy loads its BLAS
    sys.path[:0] = [str(_ROOT / "src"), str(_ROOT)]
    from bench.machine import spinning

    if args.sparse_child:
        return sparse_child(args.sparse_child)
    if args.tiny:
        args.seeds = 1
    lines, results = heading(args), []
    with spinning(args.busy):
        if args.sparse:
            lines += sparse_report()
        else:
            lines += ["| task | solver | scikit-learn s | backprop s | ÷ scikit-learn "
                      "| scikit-learn score | backprop score | within noise "
                      "| epochs (sk / bp) |", "|---|---|---|---|---|---|---|---|---|"]
            print("\n".join(lines), flush=True)
            for task in args.tasks.split(","):
                for solver in args.solvers.split(","):
                    results.append(compare(task, solver, args.seeds, args.tiny))
                    row = table_row(results[-1])
                    lines.append(row)
                    print(row, flush=True)
    lines.append(f"\nLoad average at the end: {os.getloadavg()[0]:.1f}.")
    if args.sparse:
        print("\n".join(lines))
    if args.out is not None:
        args.out.write_text("\n".join(lines) + "\n")
        if results:  # every fit's seconds, score and epochs
            args.out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
