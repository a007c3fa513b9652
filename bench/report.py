"""The run's results as Markdown: the header, the summary, the speed targets, one table per
workload and the notes."""

from __future__ import annotations

from typing import Any

from bench import report_format as fmt
from bench.report_notes import NOTES, rss_note
from bench.report_targets import targets_section
from bench.systems import PEERS


def _median(entry: dict[str, Any], system: str) -> float | None:
    r = entry["results"].get(system, {})
    return r["steady"]["median"] if r.get("status") == "ok" else None


def _header(doc: dict[str, Any]) -> list[str]:
    """Title, machine, data and reference GEMM lines, and systems that did not run."""
    m = doc["meta"]
    versions: dict[str, str] = {}
    package = {"torch-fused": "torch", "sklearn": "scikit-learn"}
    for entry in doc["workloads"]:
        for name, r in entry["results"].items():
            if r.get("status") == "ok" and not name.startswith("backprop"):
                versions.setdefault(package.get(name, name), r.get("version", "?"))
    ver = " · ".join(f"{k} {v}" for k, v in versions.items())
    lines = [
        f"# backprop benchmark ({m['mode']})",
        "",
        f"{m['date']} · {m['cpu']} · {m['cpu_count']} cores, {m['threads']} threads per "
        f"system · Python {m['python']} · NumPy {m['numpy']} · backprop {m['backprop']}"
        + (f" · {ver}" if ver else ""),
        "",
        f"**Data: {m['data']}** — {m['data_note']}; {m['n_train']:,} train / "
        f"{m['n_test']:,} test samples.",
    ]
    if m.get("schedule") == "turns":
        lines.append(
            "\nSchedule: per workload, every system's process starts at once and they take "
            "turns: one epoch each, round the systems, then inference; a waiting process "
            "uses no CPU. Drift in the machine's speed falls on every system alike."
        )
    elif m.get("schedule") == "sequential":
        lines.append("\nSchedule: per workload, one system's process after another.")
    load = m.get("load_average_start"), m.get("load_average_end")
    if load[0] is not None and load[1] is not None:
        lines.append(
            f"\nLoad average (1, 5, 15 min) at start {', '.join(f'{x:.2f}' for x in load[0])}, "
            f"at end {', '.join(f'{x:.2f}' for x in load[1])}: other work on the machine "
            "shows up as spread in the epoch times."
        )
        # The end load counts the suite's own threads; only the start shows other work.
        if load[0][0] > 0.5 * m["cpu_count"]:
            lines.append(
                f"\n> **Warning: the machine was busy when the run began (1-min load "
                f"{load[0][0]:.2f} on {m['cpu_count']} cores); these timings are unreliable.**"
            )
    if m.get("data_fallback_reason"):
        lines.append(f"MNIST was asked for but is unavailable: {m['data_fallback_reason']}.")
    ref = m.get("gemm_reference", {})
    if ref.get("status") == "ok":
        lines.append(
            f"\nGEMM rate of this machine (np.matmul {ref['n']}³, {m['threads']} threads): "
            f"float32 {ref['float32']:.1f} GFLOP/s, float64 {ref['float64']:.1f} GFLOP/s."
        )
    imports = m.get("import_s", {})
    if imports:
        timed = [
            f"{name} {t['min']:.3f} s" if "min" in t else f"{name}: {t['error']}"
            for name, t in imports.items()
        ]
        lines.append(
            "\nImport time in a fresh interpreter (fastest of several, bytecode cached): "
            + ", ".join(timed)
            + "."
        )
    if m.get("compiled_passes"):
        lines.append(f"\nThe compiled path's passes, built ahead of time (python -m backprop.aot): "
                     f"{m['compiled_passes']}.")
    seen: set[str] = set()
    for entry in doc["workloads"]:
        for name, r in entry["results"].items():
            if r.get("status") != "ok" and (name, r.get("reason")) not in seen:
                seen.add((name, r.get("reason")))  # type: ignore[arg-type]
                lines.append(f"\n> **{name}: {r.get('reason')}** — skipped ({r.get('status')}).")
    return lines


def _summary(doc: dict[str, Any]) -> list[str]:
    """One row per workload: median s/epoch per system and backprop's ratios."""
    systems: list[str] = doc["meta"]["systems"]
    peers = [p for p in PEERS if p in systems]
    head = ["workload", "varies", "params", *[f"{s} s/epoch" for s in systems]]
    if "backprop" in systems:
        head += [f"backprop ÷ {p}" for p in peers]
        if peers:
            head += ["inference: backprop ÷ fastest peer"]
    head += ["FLOP-bound s/epoch", "backprop FLOP-bound fraction"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in doc["workloads"]:
        w = e["workload"]
        cells = [f"`{w['name']}`", w["axis"], f"{w['n_params']:,}"]
        cells += [fmt.seconds(_median(e, s)) for s in systems]
        if "backprop" in systems:
            cells += [fmt.ratio(e["ratios"].get(p, {}).get("epoch")) for p in peers]
            if peers:
                inference = [e["ratios"].get(p, {}).get("inference") for p in peers]
                known = [x for x in inference if x is not None]
                cells.append(fmt.ratio(max(known)) if known else "–")
        cells.append(fmt.seconds(e["gemm"].get("epoch_seconds")))
        cells.append(fmt.ratio(e["results"].get("backprop", {}).get("gemm_fraction")))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _metric_cells(r: dict[str, Any], task: str) -> str:
    """Test metric per epoch: accuracy, or MSE / R² for regression."""
    if task == "regression":
        return " ".join(
            f"{mse:.3g}/{r2:.3f}"
            for mse, r2 in zip(r["metrics"]["mse"], r["metrics"]["r2"], strict=True)
        )
    return " ".join(f"{a:.4f}" for a in r["metrics"]["accuracy"])


def _workload_section(entry: dict[str, Any], systems: list[str]) -> list[str]:
    """Header lines and the per-system table of one workload."""
    w, gm = entry["workload"], entry["gemm"]
    metric = "R²" if w["task"] == "regression" else "accuracy"
    k = w["epoch_samples"]
    lines = [
        "",
        f"## `{w['name']}` — {w['description']}",
        "",
        f"{w['label']}; {w['epochs']} epochs"
        + (f" of {k:,} samples" if k else "")
        + f"; target test {metric} {entry['target']:g}.",
    ]
    if gm.get("status") == "ok":
        rounds = gm.get("rounds", [])
        spread = (
            f" (median of {len(rounds)} rounds taken in turns, "
            f"{min(rounds):.3f}–{max(rounds):.3f} s)"
            if len(rounds) > 1
            else ""
        )
        lines.append(
            f"GEMMs: {gm['epoch_flops'] / 1e9:.1f} GFLOP per epoch, {gm['gflops']:.1f} GFLOP/s "
            f"on these shapes → FLOP-bound epoch {gm['epoch_seconds']:.3f} s{spread}."
        )
    else:
        lines.append(f"GEMM probe failed: {gm.get('reason')}")
    col = "test MSE/R² by epoch" if w["task"] == "regression" else "test accuracy by epoch"
    head = [
        "system",
        "s/epoch (median)",
        "min–max",
        "IQR",
        "first epoch s",
        "samples/s",
        col,
        f"time to {metric} ≥ {entry['target']:g}",
        "inference samples/s",
        "peak RSS MiB (setup)",
        "FLOP-bound fraction",
        "backprop ÷ system: epoch / inference / to target",
    ]
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in systems:
        r = entry["results"].get(s, {})
        if r.get("status") != "ok":
            lines.append(
                f"| {s} | {r.get('status', 'missing')}: {r.get('reason', '')} |"
                + " |" * (len(head) - 2)
            )
            continue
        st = r["steady"]
        tt = (
            f"{r['time_to_target_s']:.2f} s (epoch {r['target_epoch']})"
            if r["time_to_target_s"] is not None
            else f"not reached in {len(r['epoch_seconds'])}"
        )
        ratios = entry["ratios"].get(s, {})
        ratio = " / ".join(
            fmt.ratio(ratios.get(k)) for k in ("epoch", "inference", "time_to_target")
        )
        cells = [
            s,
            f"{st['median']:.3f}",
            f"{st['min']:.3f}–{st['max']:.3f}",
            f"{st['q3'] - st['q1']:.3f}",
            f"{r['first_epoch_s']:.3f}",
            f"{r['samples_per_s']:,.0f}",
            _metric_cells(r, w["task"]),
            tt,
            f"{r['inference_samples_per_s']:,.0f}",
            f"{r['peak_rss_mib']:.0f} ({r['setup_peak_rss_mib']:.0f})",
            fmt.significant(r.get("gemm_fraction"), 2),
            "–" if s == "backprop" else ratio,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(doc: dict[str, Any]) -> str:
    """The whole report."""
    systems: list[str] = doc["meta"]["systems"]
    lines = _header(doc)
    lines += ["", "## Summary: median seconds per epoch", "", *_summary(doc)]
    lines += targets_section(doc)
    for entry in doc["workloads"]:
        lines += _workload_section(entry, systems)
    lines += ["", "## Notes", ""] + [f"- {n}" for n in (*NOTES, rss_note(doc))]
    system_notes: list[str] = []
    for entry in doc["workloads"]:
        for r in entry["results"].values():
            for n in r.get("notes", []):
                if n not in system_notes:
                    system_notes.append(n)
    lines += [f"- {n}" for n in system_notes]
    lines.append(
        f"\nPlot: {doc['meta'].get('plot', '–')}. "
        f"Total run time {doc['meta'].get('total_wall_s', 0):.0f} s."
    )
    return "\n".join(lines) + "\n"
