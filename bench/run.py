"""Run the benchmark suite: every workload on every system, each in its own subprocess.

    python -m bench.run [--quick | --smoke] [--only NAME[,NAME]] [--systems LIST]
                        [--epochs N] [--threads N] [--out DIR] [--data synthetic|mnist]

Writes bench.json, bench.md and bench.png into --out (default bench/results/)
and prints the Markdown report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select as io_select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: python bench/run.py
    sys.path.insert(0, str(_ROOT))
if str(_ROOT / "src") not in sys.path:  # the backprop the children use (see child_env)
    sys.path.insert(0, str(_ROOT / "src"))

from bench import report  # noqa: E402
from bench.child import THREAD_VARS  # noqa: E402
from bench.systems import LEVERS, PEERS, SYSTEMS, levers_of  # noqa: E402
from bench.workloads import SMOKE_N_TEST, SMOKE_N_TRAIN, Workload, by_name, select  # noqa: E402

ROOT = _ROOT
DEFAULT_OUT = ROOT / "bench" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        prog="backprop bench",
        description="Benchmark backprop against PyTorch (CPU) and scikit-learn.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="reduced set, under two minutes")
    mode.add_argument("--smoke", action="store_true", help="tiny synthetic jobs (for tests)")
    p.add_argument("--only", help="comma-separated workload names (see --list)")
    p.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help=f"comma-separated subset of {','.join(SYSTEMS)} (default: all)",
    )
    p.add_argument("--epochs", type=int, help="epochs per workload (overrides each default)")
    p.add_argument("--threads", type=int, default=2, help="threads for every system (default 2)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    p.add_argument("--data", choices=("mnist", "synthetic"), default="mnist")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds a subprocess may take (with turns: for its setup or for one turn)",
    )
    p.add_argument(
        "--sequential",
        action="store_true",
        help="run the systems one after another instead of taking turns epoch by epoch",
    )
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument(
        "--render",
        type=Path,
        metavar="BENCH_JSON",
        help="write bench.md and bench.png again from a finished run's bench.json and exit",
    )
    args = p.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        p.error("--epochs must be at least 1")
    if args.threads < 1:
        p.error("--threads must be at least 1")
    args.system_list = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in args.system_list if levers_of(s) is None]
    if unknown or not args.system_list:
        p.error(
            f"--systems: unknown {unknown}; choose from {','.join(SYSTEMS)}, or backprop "
            f"with levers, e.g. backprop+{'+'.join(LEVERS)}"
        )
    args.only_list = [s.strip() for s in args.only.split(",")] if args.only else None
    return args


def child_env(threads: int) -> dict[str, str]:
    """Environment for a child: thread counts fixed, backprop and bench importable."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    paths = [str(ROOT / "src"), str(ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _child_command(system: str, threads: int, spec_path: Path, out_path: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "bench.child", "--system", system, "--threads", str(threads)),
        *("--spec", str(spec_path), "--out", str(out_path)),
    ]


def _child_result(system: str, out_path: Path, output_tail: str, returncode: int) -> dict[str, Any]:
    """The child's JSON result, or an error naming how it ended."""
    if not out_path.exists():
        tail = output_tail.strip().splitlines()[-5:]
        return {
            "system": system,
            "status": "error",
            "reason": f"child exited {returncode} without a result: {' | '.join(tail)}",
        }
    result: dict[str, Any] = json.loads(out_path.read_text())
    return result


def run_child(
    system: str, spec: dict[str, Any], threads: int, timeout: float | None
) -> dict[str, Any]:
    """Run ``python -m bench.child`` for one system and return its JSON result."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_path.write_text(json.dumps(spec))
        cmd = _child_command(system, threads, spec_path, out_path)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd,
                cwd=ROOT,
                env=child_env(threads),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"system": system, "status": "error", "reason": f"timed out after {timeout} s"}
        wall = time.perf_counter() - t0
        result = _child_result(system, out_path, proc.stderr or proc.stdout or "", proc.returncode)
    result["wall_s"] = wall
    return result


#: A process counts as idle once its CPU time has not grown for this long (seconds)...
IDLE_QUIET_S = 0.06
#: ... and the parent waits at most this long for that, or this long where it cannot tell.
IDLE_LIMIT_S = 1.0


def _cpu_ticks(pid: int) -> int | None:
    """User + system CPU time of process ``pid`` in clock ticks (/proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat


def wait_idle(pid: int) -> None:
    """Return once process ``pid`` has stopped using the CPU.

    A process that has just said it is ready may still have BLAS or OpenMP
    worker threads spinning in wait for more work (OpenBLAS spins about 0.1 s);
    they would steal the next system's first moments on a 2-core machine.
    """
    deadline = time.perf_counter() + IDLE_LIMIT_S
    last, quiet_since = _cpu_ticks(pid), time.perf_counter()
    if last is None:
        time.sleep(IDLE_LIMIT_S)
        return
    while time.perf_counter() < deadline:
        time.sleep(0.01)
        ticks = _cpu_ticks(pid)
        if ticks is None:
            return
        if ticks != last:
            last, quiet_since = ticks, time.perf_counter()
        elif time.perf_counter() - quiet_since >= IDLE_QUIET_S:
            return


class _Turns:
    """One system's child process and the two pipes it takes turns through."""

    def __init__(self, system: str, cmd: list[str], env: dict[str, str], log: Path) -> None:
        self.system = system
        child_go, self.go = os.pipe()  # parent writes "g": go on
        self.ready, child_ready = os.pipe()  # child writes "r": done, ready for the next go
        self.log = log.open("w")
        try:
            self.proc = subprocess.Popen(
                [*cmd, "--turns", f"{child_go},{child_ready}"],
                cwd=ROOT,
                env=env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                pass_fds=(child_go, child_ready),
            )
        except OSError:
            for fd in (self.go, self.ready):
                os.close(fd)
            self.log.close()
            raise
        finally:
            os.close(child_go)
            os.close(child_ready)
        self.timed_out = False
        #: What it stopped in when it timed out: its setup or a turn.
        self.stage = "setup"

    def wait_ready(self, timeout: float | None) -> bool:
        """Wait until the child is ready for a go (True) or has ended (False)."""
        readable, _, _ = io_select.select([self.ready], [], [], timeout)
        if not readable:
            self.timed_out = True
            self.proc.kill()
            return False
        return os.read(self.ready, 1) == b"r"

    def go_on(self) -> None:
        self.stage = "one turn"
        os.write(self.go, b"g")

    def close(self, kill: bool = False) -> int:
        """Wait for the child to end (killing it first with ``kill``); release its pipes."""
        if kill and self.proc.poll() is None:
            self.proc.kill()
        returncode = self.proc.wait()
        for fd in (self.go, self.ready):
            os.close(fd)
        self.log.close()
        return returncode


def _take_turns(children: list[_Turns], timeout: float | None) -> None:
    """Wait for every child's setup, then give turns round them until all have ended."""
    waiting = [c for c in children if c.wait_ready(timeout)]
    for child in waiting:
        wait_idle(child.proc.pid)
    while waiting:
        for child in list(waiting):
            try:
                child.go_on()
            except BrokenPipeError:  # it ended (crashed) while waiting
                waiting.remove(child)
                continue
            if not child.wait_ready(timeout):
                waiting.remove(child)
            else:
                wait_idle(child.proc.pid)  # its threads asleep before the next one goes


def run_interleaved(
    systems: list[str], spec: dict[str, Any], threads: int, timeout: float | None
) -> dict[str, dict[str, Any]]:
    """Every system's child at once, taking turns: one works, the others wait.

    Each child loads its data and builds its model, then waits. The parent
    then hands out turns round the systems: an epoch (with the untimed test
    after it) for each in turn, then the next epoch, and finally inference.
    A waiting child blocks on a pipe and uses no CPU, so each timed part has
    the machine to itself, as with one child after another; but the
    machine's drift in speed over minutes now falls on every system alike
    instead of on whichever ran when it was slow. ``timeout``: seconds one
    child may take for its setup or for one turn.
    """
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        spec_path = folder / "spec.json"
        spec_path.write_text(json.dumps(spec))
        env = child_env(threads)
        children: list[_Turns] = []
        finished = False
        try:
            for s in systems:
                out = folder / f"{s}.json"
                cmd = _child_command(s, threads, spec_path, out)
                children.append(_Turns(s, cmd, env, folder / f"{s}.log"))
            _take_turns(children, timeout)
            finished = True
        finally:  # on an error or Ctrl-C here, no child is left running
            returncodes = [child.close(kill=not finished) for child in children]
        results: dict[str, dict[str, Any]] = {}
        for child, returncode in zip(children, returncodes, strict=True):
            if child.timed_out:
                reason = f"timed out after {timeout} s in its {child.stage}"
                results[child.system] = {"system": child.system, "status": "error"}
                results[child.system]["reason"] = reason
                continue
            output = (folder / f"{child.system}.log").read_text()
            results[child.system] = _child_result(
                child.system, folder / f"{child.system}.json", output, returncode
            )
    return results


def machine_info(threads: int) -> dict[str, Any]:
    """Where and with what this run happened."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy as np

    try:
        import backprop

        bp_version = getattr(backprop, "__version__", "?")
    except ImportError:
        bp_version = "not importable"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "backprop": bp_version,
    }


#: Modules whose import time the run reports (backprop's, and what its peers cost).
IMPORT_MODULES = ("numpy", "backprop", "torch", "sklearn.neural_network")
_IMPORT_PROBE = (
    "import sys, time; t = time.perf_counter(); __import__(sys.argv[1]); "
    "print(time.perf_counter() - t)"
)


def import_times(threads: int, repeats: int) -> dict[str, Any]:
    """Seconds to import each module in a fresh interpreter: min and median of ``repeats``.

    One unmeasured import goes first, and bytecode caching is allowed
    (PYTHONDONTWRITEBYTECODE is dropped), so the modules load from .pyc files
    as they do after an install.
    """
    env = child_env(threads)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out: dict[str, Any] = {}
    for module in IMPORT_MODULES:
        seconds: list[float] = []
        for _ in range(repeats + 1):
            done = subprocess.run(
                [sys.executable, "-c", _IMPORT_PROBE, module],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                out[module] = {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
                break
            seconds.append(float(done.stdout))
        else:
            timed = sorted(seconds[1:])
            out[module] = {"min": timed[0], "median": timed[len(timed) // 2]}
    return out


def derive(entry: dict[str, Any], systems: list[str]) -> None:
    """Add each system's GEMM-bound fraction, and backprop's ratios to each peer."""
    results = entry["results"]
    gemm_s = entry["gemm"].get("epoch_seconds")
    for r in results.values():
        if r.get("status") == "ok" and gemm_s:
            r["gemm_fraction"] = gemm_s / r["steady"]["median"]
    bp = results.get("backprop", {})
    ratios: dict[str, dict[str, float | None]] = {}
    for peer in PEERS:
        pr = results.get(peer, {})
        if peer not in systems:
            continue
        if bp.get("status") != "ok" or pr.get("status") != "ok":
            ratios[peer] = {"epoch": None, "inference": None, "time_to_target": None}
            continue
        tt = (
            bp["time_to_target_s"] / pr["time_to_target_s"]
            if bp["time_to_target_s"] is not None and pr["time_to_target_s"] is not None
            else None
        )
        ratios[peer] = {
            "epoch": bp["steady"]["median"] / pr["steady"]["median"],
            "inference": bp["inference_s"] / pr["inference_s"],
            "time_to_target": tt,
        }
    entry["ratios"] = ratios


def _progress(w: Workload, system: str, r: dict[str, Any]) -> None:
    """One line on stderr per finished child."""
    if r.get("status") != "ok":
        msg = f"{r.get('status')}: {r.get('reason', '')}"
    elif system == "gemm":
        msg = f"{r['gflops']:.1f} GFLOP/s, FLOP-bound epoch {r['epoch_seconds']:.3f} s"
    else:
        msg = (
            f"{r['steady']['median']:.3f} s/epoch (first {r['first_epoch_s']:.3f}), "
            f"{r['metric']} {r['final_metric']:.4f}, peak {r['peak_rss_mib']:.0f} MiB"
        )
    print(f"[{w.name}] {system}: {msg}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the suite; returns the process exit status."""
    args = parse_args(argv)
    if args.list:
        for w in by_name().values():
            print(f"{w.name:18s} {w.axis:10s} {w.label()}  ({w.epochs} epochs)")
        return 0
    if args.render is not None:
        try:
            doc = json.loads(args.render.read_text())
        except (OSError, ValueError) as exc:
            print(f"error: cannot read {args.render}: {exc}", file=sys.stderr)
            return 2
        folder = args.render.parent
        paths = {"json": args.render, "md": folder / "bench.md", "png": folder / "bench.png"}
        return write_report(doc, paths)
    try:
        workloads = select(args.only_list, args.quick, args.smoke, args.epochs)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    source, fallback = ("synthetic" if args.smoke else args.data), None
    if source == "mnist":
        from bench.data import mnist_problem

        fallback = mnist_problem()
        if fallback is not None:
            print(f"MNIST unavailable, using synthetic data: {fallback}", file=sys.stderr)
            source = "synthetic"
    from bench.data import MNIST_NOTE, N_TEST, N_TRAIN, SYNTHETIC_NOTE

    n_train, n_test = (SMOKE_N_TRAIN, SMOKE_N_TEST) if args.smoke else (N_TRAIN, N_TEST)
    quick = args.quick or args.smoke
    args.out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    meta = machine_info(args.threads)
    meta["load_average_start"] = list(os.getloadavg())
    meta.update(
        argv=list(sys.argv[1:] if argv is None else argv),
        mode="smoke" if args.smoke else "quick" if args.quick else "full",
        schedule="sequential" if args.sequential else "turns",
        systems=args.system_list,
        data=source,
        data_note=SYNTHETIC_NOTE if source == "synthetic" else MNIST_NOTE,
        data_fallback_reason=fallback,
        n_train=n_train,
        n_test=n_test,
    )
    base = {
        "data": source,
        "n_train": n_train,
        "n_test": n_test,
        "threads": args.threads,
        "quick": quick,
        "infer_repeats": 3 if quick else 5,
    }
    ref = run_child(
        "gemm",
        {**base, "workload": None, "reference_n": 256 if args.smoke else 1024},
        args.threads,
        args.timeout,
    )
    meta["gemm_reference"] = ref
    meta["import_s"] = import_times(args.threads, 3 if quick else 7)
    doc: dict[str, Any] = {"meta": meta, "workloads": []}
    paths = {
        "json": args.out / "bench.json",
        "md": args.out / "bench.md",
        "png": args.out / "bench.png",
    }
    for w in workloads:
        spec = {**base, "workload": w.to_dict()}
        entry: dict[str, Any] = {"workload": w.to_dict(), "target": w.target(source)}
        if args.sequential:
            entry["gemm"] = run_child("gemm", spec, args.threads, args.timeout)
            _progress(w, "gemm", entry["gemm"])
            entry["results"] = {}
            for system in args.system_list:
                entry["results"][system] = r = run_child(system, spec, args.threads, args.timeout)
                _progress(w, system, r)
        else:  # the GEMM probe takes its turns with the systems, once per round
            results = run_interleaved(
                ["gemm", *args.system_list], spec, args.threads, args.timeout
            )
            entry["gemm"] = results.pop("gemm")
            entry["results"] = results
            for system, r in [("gemm", entry["gemm"]), *results.items()]:
                _progress(w, system, r)
        derive(entry, args.system_list)
        doc["workloads"].append(entry)
        paths["json"].write_text(json.dumps(doc, indent=1))  # partial results survive a stop
    meta["total_wall_s"] = time.perf_counter() - t_start
    meta["load_average_end"] = list(os.getloadavg())
    return write_report(doc, paths)


def write_report(doc: dict[str, Any], paths: dict[str, Path]) -> int:
    """bench.json, bench.md and bench.png from the results in ``doc``; print the Markdown."""
    meta = doc["meta"]
    plot_problem = report.plot(doc, paths["png"])
    meta["plot"] = plot_problem or paths["png"].name
    paths["json"].write_text(json.dumps(doc, indent=1))
    markdown = report.markdown(doc)
    paths["md"].write_text(markdown)
    print(markdown)
    written = [str(p) for p in paths.values() if p.exists()]
    print(f"wrote {', '.join(written)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
