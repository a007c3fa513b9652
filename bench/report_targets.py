"""The report's speed-targets section: each target met or missed, and the GEMM floor under it."""

from __future__ import annotations

from typing import Any

from bench import report_format as fmt
from bench import targets

BELOW_FLOOR = "below the GEMM floor: unreachable on this machine without doing fewer FLOPs"


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
    return f"{fmt.seconds(c.demanded_s)} ({_rule(c)}){floor}"


def _ratio_and_verdict(c: targets.Check | None) -> list[str]:
    """Ratio and verdict; dashes where the target does not apply to the workload."""
    return ["–", "–"] if c is None else [fmt.ratio(c.value), _verdict(c.met)]


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
        measured = f"{value:.2f} ({fmt.seconds(c.measured_s)} s/epoch)"
    elif c.target == "online":
        measured = f"{1 / value:.2f}× {c.peer}'s samples/s (time ratio {value:.2f})"
    else:
        measured = f"{value:.2f} × {c.peer}'s time ({fmt.seconds(c.measured_s)} s/epoch)"
    demanded = "–" if c.demanded_s is None else fmt.seconds(c.demanded_s)
    return [measured, _verdict(c.met), demanded, fmt.seconds(c.floor_s), _floor_note(c)]


def _group_target_row(group: list[targets.Check]) -> list[str]:
    """A target checked on every workload: counts, the misses, and where it is below the floor."""
    measured = [c for c in group if c.met is not None]
    missed = [c for c in measured if not c.met]
    text = f"{len(measured) - len(missed)} of {len(measured)} workloads"
    if missed:
        text += "; missed: " + ", ".join(f"`{c.workload}` {fmt.ratio(c.value)}" for c in missed)
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


def targets_section(doc: dict[str, Any]) -> list[str]:
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
        "measured on its shapes (the median of the probe's rounds). \"compiled\" targets "
        f"are checked on `{targets.COMPILED}` (not measured when it did not run), the NumPy "
        f"engine's on `{targets.NUMPY}`. The recipe target ({targets.RECIPE}) is measured "
        "by bench/recipe.py, not in this run.",
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
        "NumPy s/epoch",
        "compiled s/epoch",
        "FLOP-bound s/epoch",
        "compiled: fastest-peer target demands s/epoch",
        "ratio",
        "met",
        "compiled: headline / online target demands s/epoch",
        "ratio",
        "met",
        "NumPy ÷ torch",
        "met",
        "compiled inference ÷ fastest peer",
        "met",
    ]
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for entry in doc["workloads"]:
        name = entry["workload"]["name"]
        own = {c.target: c for c in checks if c.workload == name}
        cells = [
            f"`{name}`",
            fmt.seconds(targets.backprop_epoch_s(entry)),
            fmt.seconds(targets.backprop_epoch_s(entry, targets.COMPILED)),
            fmt.seconds(targets.floor_s(entry)),
        ]
        for c in (own.get("vs-fastest"), own.get("headline") or own.get("online")):
            cells += [_demanded(c), *_ratio_and_verdict(c)]
        cells += _ratio_and_verdict(own.get("numpy-vs-torch"))
        cells += _ratio_and_verdict(own.get("inference"))
        lines.append("| " + " | ".join(cells) + " |")
    return lines
