"""The speed targets, checked against one run: ratios within the run, never absolute times.

A time target demands a time per epoch (a multiple of a peer's time in the
same run). Next to it stands the workload's FLOP-bound time: its GEMMs
alone, at the rate np.matmul reaches on exactly its shapes. A demanded time
below that floor cannot be reached on this machine without doing fewer FLOPs.

The recipe target (98.0% test accuracy within 5 s of training) is measured
by bench/recipe.py and is not in a run's JSON, so it is not checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.workloads import HEADLINE

TORCHES: tuple[str, ...] = ("torch", "torch-fused")
HEADLINE_VS_TORCH_FUSED = 0.45
SKLEARN_SPEEDUP = 3.0
ONLINE_SPEEDUP = 3.0
PEAK_RSS_MIB = 300.0
IMPORT_S = 0.2
FLOP_BOUND_FRACTION = 0.70

# key -> what the target asks, in the words of the report
TARGETS: dict[str, str] = {
    "headline": f"headline epoch ≤ {HEADLINE_VS_TORCH_FUSED:g} × torch-fused's",
    "vs-torch": "every other workload at least as fast as the faster torch (ratio ≤ 1)",
    "vs-sklearn": f"≥ {SKLEARN_SPEEDUP:g}× faster than scikit-learn at every workload "
    f"(ratio ≤ {1 / SKLEARN_SPEEDUP:.3f})",
    "online": f"online learning (batch 1) ≥ {ONLINE_SPEEDUP:g}× the faster torch's samples/s",
    "inference": "inference at least as fast as the faster torch at every workload",
    "rss": f"peak RSS of the headline ≤ {PEAK_RSS_MIB:g} MiB",
    "flop-fraction": f"headline FLOP-bound fraction ≥ {FLOP_BOUND_FRACTION:g}",
    "import": f"`import backprop` ≤ {IMPORT_S:g} s",
}
# Targets checked on every workload they apply to (the others on one workload).
PER_WORKLOAD: tuple[str, ...] = ("vs-torch", "vs-sklearn", "inference")


@dataclass(frozen=True)
class Check:
    """One target on one workload.

    value: the measured quantity (backprop ÷ peer ratio, MiB, or a fraction),
    None when a system it needs did not run. The target holds when value ≤
    limit (value ≥ limit when at_least). Time targets also carry backprop's
    s/epoch, the s/epoch the target demands, and the FLOP-bound s/epoch.
    """

    target: str
    workload: str
    value: float | None
    limit: float
    at_least: bool = False
    peer: str | None = None
    measured_s: float | None = None
    demanded_s: float | None = None
    floor_s: float | None = None

    @property
    def met(self) -> bool | None:
        """Whether the target holds; None when it could not be measured."""
        if self.value is None:
            return None
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    @property
    def below_floor(self) -> bool:
        """Whether the demanded time is shorter than the GEMMs alone take here."""
        return (
            self.demanded_s is not None
            and self.floor_s is not None
            and self.demanded_s < self.floor_s
        )


def _ok(entry: dict[str, Any], system: str) -> dict[str, Any] | None:
    r: dict[str, Any] = entry["results"].get(system, {})
    return r if r.get("status") == "ok" else None


def _epoch_s(entry: dict[str, Any], system: str) -> float | None:
    """The system's median s/epoch, or None when it did not run."""
    r = _ok(entry, system)
    return None if r is None else float(r["steady"]["median"])


def _faster_torch(entry: dict[str, Any], key: str) -> tuple[str | None, float | None]:
    """The torch variant with the shorter time under ``key`` ("epoch" or "inference")."""
    times = []
    for name in TORCHES:
        r = _ok(entry, name)
        if r is not None:
            times.append((r["steady"]["median"] if key == "epoch" else r["inference_s"], name))
    if not times:
        return None, None
    seconds, name = min(times)
    return name, float(seconds)


def backprop_epoch_s(entry: dict[str, Any]) -> float | None:
    """backprop's median s/epoch on the workload, or None when it did not run."""
    return _epoch_s(entry, "backprop")


def floor_s(entry: dict[str, Any]) -> float | None:
    """The workload's FLOP-bound s/epoch, or None when the GEMM probe failed."""
    gemm = entry["gemm"]
    return float(gemm["epoch_seconds"]) if gemm.get("status") == "ok" else None


def _time_check(
    target: str, entry: dict[str, Any], peer: str | None, peer_s: float | None, limit: float
) -> Check:
    """backprop's s/epoch against ``limit`` × the peer's s/epoch."""
    measured = _epoch_s(entry, "backprop")
    return Check(
        target,
        entry["workload"]["name"],
        measured / peer_s if measured is not None and peer_s is not None else None,
        limit,
        peer=peer,
        measured_s=measured,
        demanded_s=None if peer_s is None else limit * peer_s,
        floor_s=floor_s(entry),
    )


def checks(doc: dict[str, Any]) -> list[Check]:
    """Every target on every workload it applies to, in the run's workload order."""
    out: list[Check] = []
    for entry in doc["workloads"]:
        w = entry["workload"]
        torch_name, torch_s = _faster_torch(entry, "epoch")
        if w["name"] == HEADLINE:
            out.append(
                _time_check(
                    "headline",
                    entry,
                    "torch-fused",
                    _epoch_s(entry, "torch-fused"),
                    HEADLINE_VS_TORCH_FUSED,
                )
            )
        elif w["batch_size"] == 1:
            # same samples per epoch for every system: k× the samples/s is 1/k of the time
            out.append(_time_check("online", entry, torch_name, torch_s, 1 / ONLINE_SPEEDUP))
        if w["name"] != HEADLINE:
            out.append(_time_check("vs-torch", entry, torch_name, torch_s, 1.0))
        out.append(
            _time_check(
                "vs-sklearn", entry, "sklearn", _epoch_s(entry, "sklearn"), 1 / SKLEARN_SPEEDUP
            )
        )
        bp = _ok(entry, "backprop")
        infer_name, infer_s = _faster_torch(entry, "inference")
        ratio = bp["inference_s"] / infer_s if bp is not None and infer_s is not None else None
        out.append(Check("inference", w["name"], ratio, 1.0, peer=infer_name))
        if w["name"] == HEADLINE:
            out.append(
                Check("rss", w["name"], None if bp is None else bp["peak_rss_mib"], PEAK_RSS_MIB)
            )
            floor = floor_s(entry)
            out.append(
                Check(
                    "flop-fraction",
                    w["name"],
                    None if bp is None else bp.get("gemm_fraction"),
                    FLOP_BOUND_FRACTION,
                    at_least=True,
                    measured_s=_epoch_s(entry, "backprop"),
                    # the fraction is floor ÷ epoch time: it demands floor ÷ 0.70 per epoch
                    demanded_s=None if floor is None else floor / FLOP_BOUND_FRACTION,
                    floor_s=floor,
                )
            )
    imported = doc["meta"].get("import_s", {}).get("backprop", {})
    out.append(Check("import", "–", imported.get("min"), IMPORT_S))
    return out
