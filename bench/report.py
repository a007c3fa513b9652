"""The run's results as Markdown tables and a PNG plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import targets
from bench.systems import PEERS

PLOT_SYSTEMS: tuple[str, ...] = ("backprop", "torch", "torch-fused")
_PARAM_AXES = ("headline", "width", "depth")
_BATCH_AXES = ("headline", "batch")
BELOW_FLOOR = "below the GEMM floor: unreachable on this machine without doing fewer FLOPs"

NOTES: tuple[str, ...] = (
    "Ratios are backprop's time ÷ the peer's time: below 1 means backprop is faster.",
    "Seconds per epoch: median over the epochs after the first (the first, reported apart, "
    "is warm-up); spread as min–max and interquartile range of those epochs. With one "
    "epoch there is no warm-up to exclude.",
    "Time to target: training time summed up to the end of the first epoch whose test "
    "metric reaches the target (evaluation is not timed).",
    "Inference: predict on the whole test set, best of several runs.",
    "FLOP-bound epoch: the GEMMs a training step needs (forward Z = A·Wᵀ per layer, "
    "dW = Δᵀ·A_prev per layer, dA = Δ·W for every layer but the first; 2·m·n·k FLOPs "
    "each), timed with np.matmul on exactly those shapes and dtype with the same threads, "
    "times the steps per epoch. FLOP-bound fraction = that time ÷ the measured epoch time.",
    "PyTorch: CPU build, torch.set_num_threads = the thread count; batches by a fresh "
    "permutation per epoch and X[idx] slices (no DataLoader); Adam/SGD with default "
    "implementation and with fused=True; softmax/sigmoid folded into CrossEntropyLoss / "
    "BCEWithLogitsLoss; He init = kaiming_normal_ (N(0, 2/n_in)), biases 0.",
    "scikit-learn: MLPClassifier/MLPRegressor, one partial_fit per epoch, matching solver, "
    "batch_size, learning_rate_init, activation, alpha=0, momentum without Nesterov. It "
    "has no He init (it always uses its Glorot-uniform scheme), no fused optimizer, "
    "shuffles with its own generator and computes the training loss every batch.",
    "Regression loss: backprop's mse is ½·Σ_k (a_k − y_k)² per sample, batch mean; torch "
    "trains on 0.5*((out-y)**2).sum(1).mean(), the same function (torch's MSELoss would "
    "drop the ½ and average over outputs); sklearn's squared loss is ½·mean, the same for "
    "one output. Reported test MSE is the plain mean squared error; R² = 1 − MSE/Var(y).",
    "batch-1 is online learning: each epoch is a fixed block of 5,000 samples (5,000 "
    "steps), so compare samples/s there.",
)


def _rss_note(doc: dict[str, Any]) -> str:
    """How peak RSS was read: VmHWM, or ru_maxrss (older runs, or no /proc)."""
    sources = {
        r.get("peak_rss_from", "ru_maxrss")
        for entry in doc["workloads"]
        for r in entry["results"].values()
        if "peak_rss_mib" in r
    }
    note = (
        "Peak RSS: the peak resident set of each system's own subprocess (interpreter, "
        "libraries and the data set included); in brackets the peak before training started. "
    )
    if sources <= {"VmHWM"}:
        return note + "Read as VmHWM from /proc/self/status."
    note += "Read as ru_maxrss"
    if doc["meta"].get("platform", "").startswith("Linux"):
        note += (
            ", which on Linux carries the parent's peak over fork and exec: bench.run loads "
            "MNIST once to check it, so no figure here is below that parent's peak"
        )
    return note + "."


def _g(x: float | None, digits: int = 3) -> str:
    """A number to ``digits`` significant digits, or an en dash."""
    if x is None:
        return "–"
    if abs(x) >= 10**digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _sec(x: float | None) -> str:
    """Seconds with three decimals below 10 s, fewer above."""
    if x is None:
        return "–"
    return f"{x:.3f}" if x < 10 else f"{x:.2f}" if x < 100 else f"{x:.1f}"


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


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
            if r.get("status") == "ok" and name != "backprop":
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
    torches = [p for p in peers if p.startswith("torch")]
    if "backprop" in systems:
        head += [f"backprop ÷ {p}" for p in peers]
        if torches:
            head += ["inference: backprop ÷ faster torch"]
    head += ["FLOP-bound s/epoch", "backprop FLOP-bound fraction"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in doc["workloads"]:
        w = e["workload"]
        cells = [f"`{w['name']}`", w["axis"], f"{w['n_params']:,}"]
        cells += [_sec(_median(e, s)) for s in systems]
        if "backprop" in systems:
            cells += [_ratio(e["ratios"].get(p, {}).get("epoch")) for p in peers]
            if torches:
                inference = [e["ratios"].get(p, {}).get("inference") for p in torches]
                known = [x for x in inference if x is not None]
                cells.append(_ratio(max(known)) if known else "–")
        cells.append(_sec(e["gemm"].get("epoch_seconds")))
        cells.append(_ratio(e["results"].get("backprop", {}).get("gemm_fraction")))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _verdict(met: bool | None) -> str:
    return "not measured" if met is None else "met" if met else "missed"


def _rule(c: targets.Check) -> str:
    """How a check's demanded time follows from the peer's: "torch", "sklearn ÷ 3", ..."""
    if c.limit == 1 or c.peer is None:
        return c.peer or "–"
    inverse = 1 / c.limit
    if abs(inverse - round(inverse)) < 1e-9:
        return f"{c.peer} ÷ {round(inverse)}"
    return f"{c.limit:g} × {c.peer}"


def _demanded(c: targets.Check | None) -> str:
    """The demanded s/epoch with its rule, flagged when below the floor."""
    if c is None or c.demanded_s is None:
        return "–"
    floor = " — below the GEMM floor" if c.below_floor else ""
    return f"{_sec(c.demanded_s)} ({_rule(c)}){floor}"


def _ratio_and_verdict(c: targets.Check | None) -> list[str]:
    return ["–", _verdict(None)] if c is None else [_ratio(c.value), _verdict(c.met)]


def _floor_note(c: targets.Check) -> str:
    if c.demanded_s is None or c.floor_s is None:
        return "–"
    return BELOW_FLOOR if c.below_floor else "above the floor"


def _single_target_row(c: targets.Check) -> list[str]:
    """A target checked on one workload: its cells."""
    value = c.value
    if value is None:
        measured = "–"
    elif c.target == "rss":
        measured = f"{value:.0f} MiB"
    elif c.target == "import":
        measured = f"{value:.3f} s"
    elif c.target == "flop-fraction":
        measured = f"{value:.2f} ({_sec(c.measured_s)} s/epoch)"
    elif c.target == "online":
        measured = f"{1 / value:.2f}× {c.peer}'s samples/s (time ratio {value:.2f})"
    else:
        measured = f"{value:.2f} × {c.peer}'s time ({_sec(c.measured_s)} s/epoch)"
    demanded = "–" if c.demanded_s is None else _sec(c.demanded_s)
    return [measured, _verdict(c.met), demanded, _sec(c.floor_s), _floor_note(c)]


def _group_target_row(group: list[targets.Check]) -> list[str]:
    """A target checked on every workload: counts, the misses, and where it is below the floor."""
    measured = [c for c in group if c.met is not None]
    missed = [c for c in measured if not c.met]
    text = f"{len(measured) - len(missed)} of {len(measured)} workloads"
    if missed:
        text += "; missed: " + ", ".join(f"`{c.workload}` {_ratio(c.value)}" for c in missed)
    if len(measured) < len(group):
        text += f"; {len(group) - len(measured)} not measured"
    verdict = _verdict(None if not measured else not missed)
    timed = any(c.demanded_s is not None for c in group)
    below = [c.workload for c in group if c.below_floor]
    if not timed:
        floor = "–"
    elif below:
        floor = f"{BELOW_FLOOR}: " + ", ".join(f"`{w}`" for w in below)
    else:
        floor = "above the floor at every workload"
    per_workload = "per workload, below" if timed else "–"
    return [text, verdict, per_workload, per_workload, floor]


def _targets(doc: dict[str, Any]) -> list[str]:
    """The speed targets: one row per target, then the time targets per workload."""
    checks = targets.checks(doc)
    if not checks:
        return []
    head = ["target", "measured", "met", "demands s/epoch", "FLOP-bound s/epoch", "floor"]
    lines = [
        "",
        "## Speed targets",
        "",
        "Ratios are within this run. A time target demands a time per epoch (a multiple of "
        "a peer's); the floor is the workload's FLOP-bound time, its GEMMs alone at the rate "
        "measured on its shapes. The recipe target (98.0% test accuracy within 5 s of "
        "training) is measured by bench/recipe.py, not in this run.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for key, title in targets.TARGETS.items():
        group = [c for c in checks if c.target == key]
        if not group:
            continue
        if key in targets.PER_WORKLOAD:
            cells = _group_target_row(group)
        else:
            cells = _single_target_row(group[0])
        lines.append("| " + " | ".join([title, *cells]) + " |")
    head = [
        "workload",
        "backprop s/epoch",
        "FLOP-bound s/epoch",
        "torch target demands s/epoch",
        "ratio",
        "met",
        "scikit-learn target demands s/epoch",
        "ratio",
        "met",
        "inference ÷ faster torch",
        "met",
    ]
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for entry in doc["workloads"]:
        name = entry["workload"]["name"]
        own = {c.target: c for c in checks if c.workload == name}
        vs_torch = own.get("headline") or own.get("online") or own.get("vs-torch")
        cells = [f"`{name}`", _sec(targets.backprop_epoch_s(entry)), _sec(targets.floor_s(entry))]
        for c in (vs_torch, own.get("vs-sklearn")):
            cells += [_demanded(c), *_ratio_and_verdict(c)]
        cells += _ratio_and_verdict(own.get("inference"))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


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
        lines.append(
            f"GEMMs: {gm['epoch_flops'] / 1e9:.1f} GFLOP per epoch, {gm['gflops']:.1f} GFLOP/s "
            f"on these shapes → FLOP-bound epoch {gm['epoch_seconds']:.3f} s."
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
        ratio = " / ".join(_ratio(ratios.get(k)) for k in ("epoch", "inference", "time_to_target"))
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
            _g(r.get("gemm_fraction"), 2),
            "–" if s == "backprop" else ratio,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(doc: dict[str, Any]) -> str:
    """The whole report."""
    systems: list[str] = doc["meta"]["systems"]
    lines = _header(doc)
    lines += ["", "## Summary: median seconds per epoch", "", *_summary(doc)]
    lines += _targets(doc)
    for entry in doc["workloads"]:
        lines += _workload_section(entry, systems)
    lines += ["", "## Notes", ""] + [f"- {n}" for n in (*NOTES, _rss_note(doc))]
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


def _points(
    doc: dict[str, Any], axes: tuple[str, ...], system: str, by_batch: bool
) -> list[tuple[float, float, str]]:
    """(x, seconds, name) for the workloads on ``axes`` where ``system`` ran."""
    n_train = doc["meta"]["n_train"]
    out = []
    for e in doc["workloads"]:
        w, r = e["workload"], e["results"].get(system, {})
        if w["axis"] not in axes or r.get("status") != "ok":
            continue
        if not by_batch and (w["dtype"] != "float32" or w["batch_size"] != 128):
            continue
        seconds = r["steady"]["median"] * n_train / r["epoch_samples"]
        out.append((float(w["batch_size"] if by_batch else w["n_params"]), seconds, w["name"]))
    return sorted(out)


def plot(doc: dict[str, Any], path: Path) -> str | None:
    """Seconds per epoch against parameter count and against batch size; None when written."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    except ImportError as exc:
        return f"no plot: matplotlib not importable ({exc})"
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    panels = (
        (axes[0], _PARAM_AXES, False, "parameters (784-w-10, deeper nets at width 256)"),
        (axes[1], _BATCH_AXES, True, "batch size"),
    )
    missing = []
    for ax, kinds, by_batch, xlabel in panels:
        for system in PLOT_SYSTEMS:
            pts = _points(doc, kinds, system, by_batch)
            if not pts:
                if system not in missing:
                    missing.append(system)
                continue
            xs, ys, _ = zip(*pts, strict=True)
            ax.plot(xs, ys, marker="o", label=system)
            if system == next(s for s in PLOT_SYSTEMS if _points(doc, kinds, s, by_batch)):
                for x, y, name in pts:
                    ax.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(xlabel)
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    n_train = doc["meta"]["n_train"]
    axes[0].set_ylabel(f"seconds per epoch ({n_train:,} samples)")
    axes[1].set_ylabel(f"seconds per {n_train:,} samples (batch 1: scaled)")
    m = doc["meta"]
    title = f"{m['data']} data, {m['threads']} threads, {m['cpu']}"
    if missing:
        title += f" — not plotted (did not run): {', '.join(sorted(set(missing)))}"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
