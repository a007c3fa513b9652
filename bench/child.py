"""One system (or the GEMM probe) on one workload, in its own process.

    python -m bench.child --system NAME --threads N --spec SPEC.json --out RESULT.json
                          [--turns GO_FD,READY_FD]

Thread counts go into the environment before NumPy (or torch) is
imported, so BLAS and OpenMP start with them. Peak memory is this
process's own peak resident set (see peak_rss_mib). The result is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def set_threads(n: int) -> None:
    """Fix every BLAS/OpenMP pool to n threads; call before importing numpy."""
    for var in THREAD_VARS:
        os.environ[var] = str(n)


def prepare_process(system: str, threads: int) -> None:
    """Before NumPy is imported: every pool at ``threads`` threads, the environment the
    system's levers need, and for backprop (and the GEMM probe, whose rates are the floor
    under the engine's products) backprop imported first, as the command does, so that
    the library's own choice of BLAS kernels applies."""
    set_threads(threads)
    from bench.systems import environment  # imports no numpy

    os.environ.update(environment(system))
    if system.split("+")[0] in ("backprop", "gemm"):
        import backprop  # noqa: F401


def vm_hwm_mib() -> float | None:
    """VmHWM of /proc/self/status in MiB: the high-water mark of this program's own
    resident memory since it started; None where there is no such file (not Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # "VmHWM:  123456 kB"
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB.

    VmHWM where Linux has it. Not ru_maxrss there: the kernel carries the
    parent's peak over fork and exec into the child's ru_maxrss, and the
    parent (bench.run) has loaded MNIST once to check it, so every child
    would report at least that. Elsewhere ru_maxrss (KiB on Linux, bytes on macOS).
    """
    import resource

    hwm = vm_hwm_mib()
    if hwm is not None:
        return hwm
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def blas_threads() -> list[dict[str, Any]]:
    """The thread pools NumPy's BLAS and OpenMP actually use, where threadpoolctl can tell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [
        {k: p.get(k) for k in ("user_api", "internal_api", "num_threads", "version",
                               "architecture")}
        for p in threadpool_info()
    ]


def turn_taker(fds: str | None) -> Callable[[], None]:
    """The wait before each timed part: none, or with ``--turns GO_FD,READY_FD`` the
    parent's go (see bench.turns.run_interleaved).

    Writing "r" on READY_FD says: whatever this process did since its last
    go is finished and it is ready for its next timed part. It then blocks
    on GO_FD until the parent writes "g".
    """
    if fds is None:
        return lambda: None
    go, ready = (int(fd) for fd in fds.split(","))

    def take_turn() -> None:
        os.write(ready, b"r")
        if os.read(go, 1) != b"g":
            raise RuntimeError("the benchmark's parent process went away")

    return take_turn


def _run_system(name: str, spec: dict[str, Any], take_turn: Callable[[], None]) -> dict[str, Any]:
    """Build the system's trainer on the workload's data and measure it."""
    from bench import data, measure, systems
    from bench.workloads import Workload

    module, options = systems.load(name)
    why = module.problem()
    if why is not None:
        return {"status": "unavailable", "reason": why}
    workload = Workload.from_dict(spec["workload"])
    ds = data.load(workload, spec["data"], spec["n_train"], spec["n_test"])
    trainer = module.make_trainer(workload, ds, spec["threads"], **options)
    setup_rss = peak_rss_mib()
    target = workload.target(spec["data"])
    result = measure.run(trainer, workload, ds, target, spec["infer_repeats"], take_turn)
    result.update(
        status="ok",
        version=trainer.version,
        notes=trainer.notes,
        setup_peak_rss_mib=setup_rss,
        blas=blas_threads(),
    )
    return result


def _run_gemm(spec: dict[str, Any], take_turn: Callable[[], None]) -> dict[str, Any]:
    """GEMM rates on the workload's shapes (and, without a workload, the square reference).

    On a workload the probe is one more participant in the turns: one round
    of its GEMMs per turn, a turn per epoch of the systems, and the median
    of the rounds is the result.
    """
    import time

    from bench import gemm
    from bench.workloads import Workload

    if spec.get("workload") is None:
        return {"status": "ok", **gemm.reference(spec["reference_n"], spec["quick"])}
    workload = Workload.from_dict(spec["workload"])
    k = workload.epoch_samples or spec["n_train"]
    rounds, spans = [], []
    for _ in range(workload.epochs):
        take_turn()
        began = time.time()
        rounds.append(gemm.measure(workload, k, spec["quick"]))
        spans.append((began, time.time()))
    result = gemm.median_round(rounds)
    return {"status": "ok", **result, "timed_spans": spans, "blas": blas_threads()}


def main(argv: list[str] | None = None) -> int:
    """Entry point; always writes a result, "error" with the traceback on failure."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--system", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--spec", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--turns", help="GO_FD,READY_FD: take turns with the other systems")
    args = p.parse_args(argv)
    prepare_process(args.system, args.threads)
    with open(args.spec) as f:
        spec = json.load(f)
    try:
        if args.system == "gemm":
            result = _run_gemm(spec, turn_taker(args.turns))
        else:
            result = _run_system(args.system, spec, turn_taker(args.turns))
    except Exception as exc:
        result = {
            "status": "error",
            "reason": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    result["system"] = args.system
    result["threads"] = args.threads
    result["peak_rss_mib"] = peak_rss_mib()
    result["peak_rss_from"] = "ru_maxrss" if vm_hwm_mib() is None else "VmHWM"
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
