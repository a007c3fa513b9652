"""The run's plot: seconds per epoch against parameter count and against batch size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PLOT_SYSTEMS: tuple[str, ...] = ("backprop", "torch", "torch-fused", "jax")
_PARAM_AXES = ("headline", "width", "depth")
_BATCH_AXES = ("headline", "batch")


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
    # backprop with engine levers (backprop+numba, ...), dashed, where the run has them
    levered = sorted({system for entry in doc["workloads"] for system in entry["results"]
                      if system.startswith("backprop+")})
    for ax, kinds, by_batch, xlabel in panels:
        for system in (*PLOT_SYSTEMS, *levered):
            pts = _points(doc, kinds, system, by_batch)
            if not pts:
                if system not in missing and system in PLOT_SYSTEMS:
                    missing.append(system)
                continue
            xs, ys, _ = zip(*pts, strict=True)
            style = "--" if system in levered else "-"
            ax.plot(xs, ys, marker="o", linestyle=style, label=system)
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
