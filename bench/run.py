"""Run the benchmark suite: every workload on every system, each in its own subprocess.

    python -m bench.run [--quick | --smoke] [--only NAME[,NAME]] [--systems LIST]
                        [--epochs N] [--threads N] [--out DIR] [--data synthetic|mnist]

Writes bench.json, bench.md and bench.png into --out (default bench/results/)
and prints the Markdown report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: python bench/run.py
    sys.path.insert(0, str(_ROOT))
if str(_ROOT / "src") not in sys.path:  # the backprop the children use (see child_env)
    sys.path.insert(0, str(_ROOT / "src"))

from bench import report, report_plot  # noqa: E402
from bench.launch import run_child  # noqa: E402
from bench.machine import import_times, machine_info  # noqa: E402
from bench.options import parse_args  # noqa: E402  (backprop bench checks options with it)
from bench.systems import PEERS, levers_of  # noqa: E402
from bench.turns import run_interleaved  # noqa: E402
from bench.workloads import SMOKE_N_TEST, SMOKE_N_TRAIN, Workload, by_name, select  # noqa: E402


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
    meta["compiled_passes"] = build_compiled_passes(args.system_list)
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
            results = run_interleaved(["gemm", *args.system_list], spec, args.threads, args.timeout)
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


def build_compiled_passes(systems: list[str]) -> str | None:
    """For a run with backprop's compiled path: build its passes ahead of time for this
    machine (``python -m backprop.aot``) unless they are, so that its processes load them
    without numba; what was done, or None for a run without the compiled path."""
    if not any("compiled" in (levers_of(system) or ()) for system in systems):
        return None
    where = subprocess.run([sys.executable, "-m", "backprop.aot", "--where"],
                           capture_output=True, text=True)
    if where.returncode == 0:
        return f"already built: {where.stdout.strip()}"
    built = subprocess.run([sys.executable, "-m", "backprop.aot"], capture_output=True, text=True)
    outcome = (built.stdout if built.returncode == 0 else built.stderr).strip()
    print(outcome, file=sys.stderr)
    return outcome


def write_report(doc: dict[str, Any], paths: dict[str, Path]) -> int:
    """bench.json, bench.md and bench.png from the results in ``doc``; print the Markdown."""
    meta = doc["meta"]
    plot_problem = report_plot.plot(doc, paths["png"])
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
