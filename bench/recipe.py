"""The default MNIST recipe, as a user runs it: accuracy and wall time per seed.

    python bench/recipe.py [--seeds 0,1,2] [--out DIR] [--turns] [-- extra train options]

Runs ``backprop train mnist --seed N`` for each seed in a fresh process
(the command a user types, with its defaults: 784-256-10 ReLU/softmax, He
init, Adam with a cosine schedule, batches of 128), reads each run's
metrics.json and writes recipe.json and recipe.md into --out (default
bench/results/): the test accuracy on the full 10,000-image test set, the
training time (the sum of the epochs' times: forward, backward and update
of every batch, without start-up, data loading and the final evaluation),
the wall time of the whole fit call and the whole process, and samples/s.

With ``--turns``, each seed runs the default recipe and then the recipe with
the extra options (``-- --compiled``), one after the other, so that a machine
whose speed drifts slows both alike; the time target is checked on the runs
with the extra options.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: python bench/recipe.py
    sys.path.insert(0, str(_ROOT))
if str(_ROOT / "src") not in sys.path:  # the backprop machine_info reports
    sys.path.insert(0, str(_ROOT / "src"))

from bench.machine import machine_info  # noqa: E402
from bench.options import DEFAULT_OUT  # noqa: E402
from bench.targets import RECIPE_ACCURACY, RECIPE_SECONDS  # noqa: E402

#: The accuracy the recipe promises for every seed (≥ 98.0 % on the 10k test set).
TARGET_ACCURACY = RECIPE_ACCURACY
#: The training time it promises on a 2-core machine, in seconds.
TARGET_SECONDS = RECIPE_SECONDS


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(
        prog="python bench/recipe.py",
        description="Train the default MNIST recipe for several seeds; report accuracy and time.",
    )
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    p.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")
    p.add_argument("--turns", action="store_true",
                   help="each seed: the default recipe, then with the extra options, in turns")
    args, extra = p.parse_known_args(argv)
    if extra and extra[0] == "--":
        extra = extra[1:]
    try:
        args.seed_list = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        p.error(f"--seeds must be integers separated by commas, got {args.seeds!r}")
    if not args.seed_list:
        p.error("--seeds is empty")
    return args, extra


def run_seed(seed: int, extra: list[str], threads: int, workdir: Path) -> dict[str, Any]:
    """One ``backprop train mnist`` process; its metrics and the process's wall time."""
    out = workdir / f"seed{seed}"
    command = [sys.executable, "-m", "backprop", "train", "mnist", "--seed", str(seed),
               "--out", str(out), "--quiet", "--no-plots", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT / "src"),
                                                        os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    process_s = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"seed {seed}: backprop train failed: {done.stderr.strip()}")
    metrics = json.loads((out / "metrics.json").read_text())
    epoch_times = [row["time"] for row in metrics["history"]]
    return {
        "seed": seed,
        "test_accuracy": metrics["test"]["accuracy"],
        "epochs": metrics["epochs_run"],
        "train_s": sum(epoch_times),
        "epoch_s": epoch_times,
        "fit_wall_s": metrics["wall_time_s"],
        "process_s": process_s,
        "samples_per_s": metrics["n_train"] * len(epoch_times) / sum(epoch_times),
        "config": metrics["config"],
    }


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "## The default MNIST recipe",
        "",
        f"`{report['command']}` — {m['date']} · {m['cpu']} · {m['cpu_count']} cores, "
        f"{report['threads']} BLAS threads · Python {m['python']}, NumPy {m['numpy']}, "
        f"backprop {m['backprop']}",
        "",
        "| seed | engine | test accuracy | epochs | training s | fit wall s | process s | "
        "samples/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["runs"]:
        lines.append(
            f"| {r['seed']} | {r['engine']} | {r['test_accuracy']:.2%} | {r['epochs']} | "
            f"{r['train_s']:.2f} | {r['fit_wall_s']:.2f} | {r['process_s']:.1f} | "
            f"{r['samples_per_s']:,.0f} |"
        )
    lines.append("")
    for engine, s in report["summary"].items():
        timed = (f"target ≤ {TARGET_SECONDS:g} s: {'met' if s['time_met'] else 'MISSED'}"
                 if s["time_met"] is not None else "no time target")
        lines.append(
            f"{engine}: lowest test accuracy {s['min_accuracy']:.2%} (target ≥ "
            f"{TARGET_ACCURACY:.1%} for every seed: {'met' if s['accuracy_met'] else 'MISSED'}); "
            f"median training time {s['median_train_s']:.2f} s, slowest "
            f"{s['max_train_s']:.2f} s ({timed}).")
    lines += [
        "",
        "Training s: the sum of the epochs' times (every batch's forward pass, backward "
        "pass and update, and the epoch's bookkeeping). Fit wall s: the whole fit call. "
        "Process s: the whole command, Python start-up, MNIST loading, the final "
        "evaluation and writing the model included.",
    ]
    return "\n".join(lines) + "\n"


def summary(runs: list[dict[str, Any]], timed: bool) -> dict[str, Any]:
    """The lowest accuracy and the training times of some runs, against the targets."""
    accuracies = [r["test_accuracy"] for r in runs]
    times = [r["train_s"] for r in runs]
    return {
        "min_accuracy": min(accuracies),
        "median_train_s": statistics.median(times),
        "max_train_s": max(times),
        "accuracy_met": min(accuracies) >= TARGET_ACCURACY,
        "time_met": max(times) <= TARGET_SECONDS if timed else None,
    }


def main(argv: list[str] | None = None) -> int:
    args, extra = parse_args(argv)
    engines = [("default", []), (" ".join(extra), extra)] if args.turns and extra else [
        (" ".join(extra) or "default", extra)]
    runs = []
    with tempfile.TemporaryDirectory(prefix="backprop-recipe-") as tmp:
        for seed in args.seed_list:
            for index, (engine, options) in enumerate(engines):
                run = run_seed(seed, options, args.threads, Path(tmp) / str(index))
                runs.append({"engine": engine, **run})
    report = {
        "command": " ".join(["backprop train mnist --seed N", *extra]),
        "threads": args.threads,
        "turns": len(engines) > 1,
        "machine": machine_info(args.threads),
        "runs": runs,
        # the time target is the last engine's (the extra options' in turns)
        "summary": {engine: summary([r for r in runs if r["engine"] == engine],
                                    timed=engine == engines[-1][0])
                    for engine, _ in engines},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "recipe.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (args.out / "recipe.md").write_text(text)
    print(text)
    print(f"wrote {args.out / 'recipe.json'}, {args.out / 'recipe.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
