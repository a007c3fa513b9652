"""OpenBLAS's kernel sets against each other on the engine's training step, in alternating
processes.

    python bench/blas_kernels.py [--kernels SkylakeX,Haswell] [--only headline,batch-32]
                                 [--turns 4] [--rounds 2] [--steps 150] [--numpy]

OpenBLAS picks its kernels once, when NumPy loads it, so each kernel set runs in a process
of its own, told by OPENBLAS_CORETYPE in its environment (the set ``backprop`` chooses on
import does not apply: the variable is already set). The sets take turns: for each
workload, one process of each set after the other, ``--turns`` times, so that drift in the
machine's speed falls on both alike. Each process times the training step and its matrix
products alone (:func:`bench.step_phases.measure`, compiled path unless ``--numpy``) and
says which kernels OpenBLAS took. The table gives each set's median milliseconds over the
turns and the median of the turn-by-turn ratios to the first set.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: python bench/blas_kernels.py
    sys.path.insert(0, str(_ROOT))
    sys.path.insert(0, str(_ROOT / "src"))

DEFAULT = ("headline", "mlp-512-256", "batch-32", "width-64", "width-1024", "depth-4", "float64")


def one_process(kernels: str, workload: str, rounds: int, steps: int,
                numpy_passes: bool) -> dict[str, Any]:
    """Run :func:`child` in a fresh process with OpenBLAS told to use ``kernels``."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--only", workload,
               "--rounds", str(rounds), "--steps", str(steps)]
    if numpy_passes:
        command.append("--numpy")
    environment = {**os.environ, "OPENBLAS_CORETYPE": kernels}
    finished = subprocess.run(command, env=environment, capture_output=True, text=True,
                              check=True)
    return json.loads(finished.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def child(workload: str, rounds: int, steps: int, numpy_passes: bool) -> dict[str, Any]:
    """The step and its products, in ms, and the kernels OpenBLAS says it took."""
    from threadpoolctl import threadpool_info

    from bench.step_phases import measure
    from bench.workloads import by_name

    ms = measure(by_name()[workload], rounds, steps, compiled=not numpy_passes)
    taken = sorted({str(pool.get("architecture")) for pool in threadpool_info()
                    if pool.get("internal_api") == "openblas"})
    return {"step": ms["step"], "products": ms["rows are samples"], "kernels": taken}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", default="SkylakeX,Haswell",
                        help="OPENBLAS_CORETYPE values, the first the reference "
                             "(default: %(default)s)")
    parser.add_argument("--only", default=",".join(DEFAULT),
                        help="comma-separated workloads (default: %(default)s)")
    parser.add_argument("--turns", type=int, default=4, help="processes of each set")
    parser.add_argument("--rounds", type=int, default=2, help="rounds in each process")
    parser.add_argument("--steps", type=int, default=150, help="steps per loop per round")
    parser.add_argument("--numpy", action="store_true", help="NumPy's passes, not compiled")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from bench.workloads import named

    workloads = [workload.name for workload in named(parser, args.only)]
    if args.child:
        print(json.dumps(child(workloads[0], args.rounds, args.steps, args.numpy)))
        return 0
    sets = args.kernels.split(",")
    path = "NumPy's passes" if args.numpy else "the compiled path"
    print(f"Median ms per training step, {path}, {args.turns} processes of each kernel set "
          f"in turns, {args.rounds} rounds of {args.steps} steps in each.\n")
    header = " | ".join(f"{name} step | {name} products" for name in sets)
    ratios = " | ".join(f"{name} ÷ {sets[0]} step | {name} ÷ {sets[0]} products"
                        for name in sets[1:])
    print(f"| workload | {header} | {ratios} | kernels taken |")
    print("|---|" + "---|---|" * len(sets) + "---|---|" * (len(sets) - 1) + "---|")
    for workload in workloads:
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sets}
        for _ in range(args.turns):
            for name in sets:
                runs[name].append(one_process(name, workload, args.rounds, args.steps,
                                              args.numpy))
        cells = []
        for name in sets:
            for part in ("step", "products"):
                cells.append(f"{statistics.median(run[part] for run in runs[name]):.3f}")
        for name in sets[1:]:
            for part in ("step", "products"):
                turn_ratios = [run[part] / first[part]
                               for run, first in zip(runs[name], runs[sets[0]], strict=True)]
                cells.append(f"{statistics.median(turn_ratios):.2f}")
        taken = " / ".join(",".join(sorted({kernel for run in runs[name]
                                            for kernel in run["kernels"]})) for name in sets)
        print(f"| `{workload}` | {' | '.join(cells)} | {taken} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
