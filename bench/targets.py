"""The speed targets, checked against one run: ratios within the run, never absolute times.

A time target demands a time per epoch (a multiple of a peer's time in the
same run). Next to it stands the workload's FLOP-bound time: its GEMMs
alone, at the rate np.matmul reaches on exactly its shapes (the median of
the probe's rounds, taken in turns with the systems). A demanded time below
that floor cannot be reached on this machine without doing fewer FLOPs.

The targets of the compiled path are checked on the system ``backprop+compiled``
(``Network(compiled=True)``), which a run must include (``--systems
backprop,backprop+compiled,...``); without it they read "not measured". The
NumPy engine's own target is checked on ``backprop``.

The recipe target (98.0% test accuracy within 2.0 s of training with
``--compiled``) is measured by bench/recipe.py and is not in a run's JSON, so it
is not checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.workloads import HEADLINE

#: The peers whose fastest time every workload must match: default and fused PyTorch, JAX.
FAST_PEERS: tuple[str, ...] = ("torch", "torch-fused", "jax")
#: Every peer, for inference.
INFERENCE_PEERS: tuple[str, ...] = ("torch", "torch-fused", "jax", "sklearn")
#: The system the compiled path's targets are checked on, and the NumPy engine's.
COMPILED = "backprop+compiled"
NUMPY = "backprop"
HEADLINE_VS_TORCH_FUSED = 0.6
ONLINE_SPEEDUP = 2.0
PEAK_RSS_MIB = 300.0
IMPORT_S = 0.2
FLOP_BOUND_FRACTION = 0.6
#: The default MNIST recipe (bench/recipe.py): this test accuracy for every seed...
RECIPE_ACCURACY = 0.98
#: ... within this many seconds of training on a 2-core machine, with --compiled.
RECIPE_SECONDS = 2.0

# key -> what the target asks, in the words of the report
TARGETS: dict[str, str] = {
    "vs-fastest": "compiled: every workload at least as fast as the fastest of torch, "
    "torch-fused and jax (ratio ≤ 1)",
    "numpy-vs-torch": "NumPy engine: every workload at least as fast as default torch",
    "headline": f"compiled: headline epoch ≤ {HEADLINE_VS_TORCH_FUSED:g} × torch-fused's",
    "flop-fraction": f"compiled: headline FLOP-bound fraction ≥ {FLOP_BOUND_FRACTION:g}",
    "online": f"compiled: online learning (batch 1) ≥ {ONLINE_SPEEDUP:g}× torch-fused's "
    "samples/s",
    "inference": "compiled: inference at least as fast as the fastest peer at every workload",
    "rss": f"compiled: peak RSS of the headline ≤ {PEAK_RSS_MIB:g} MiB (compiled path)",
    "import": f"`import backprop` ≤ {IMPORT_S:g} s",
}
# Targets checked on every workload they apply to (the others on one workload).
PER_WORKLOAD: tuple[str, ...] = ("vs-fastest", "numpy-vs-torch", "inference")
RECIPE = (
    f"the default MNIST recipe with --compiled to ≥ {RECIPE_ACCURACY:.1%} test accuracy in "
    f"≤ {RECIPE_SECONDS:g} s of training"
)


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
    system: str = COMPILED

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


def fastest(
    entry: dict[str, Any], key: str, peers: tuple[str, ...]
) -> tuple[str | None, float | None]:
    """The peer with the shortest time under ``key`` ("epoch" or "inference"), and that time."""
    times = []
    for name in peers:
        r = _ok(entry, name)
        if r is not None:
            times.append((r["steady"]["median"] if key == "epoch" else r["inference_s"], name))
    if not times:
        return None, None
    seconds, name = min(times)
    return name, float(seconds)


def backprop_epoch_s(entry: dict[str, Any], system: str = NUMPY) -> float | None:
    """backprop's (or ``system``'s) median s/epoch on the workload, or None when it did not
    run."""
    return _epoch_s(entry, system)


def floor_s(entry: dict[str, Any]) -> float | None:
    """The workload's FLOP-bound s/epoch, or None when the GEMM probe failed."""
    gemm = entry["gemm"]
    return float(gemm["epoch_seconds"]) if gemm.get("status") == "ok" else None


def _time_check(
    target: str, entry: dict[str, Any], peer: str | None, peer_s: float | None, limit: float,
    system: str = COMPILED,
) -> Check:
    """``system``'s s/epoch against ``limit`` × the peer's s/epoch."""
    measured = _epoch_s(entry, system)
    return Check(
        target,
        entry["workload"]["name"],
        measured / peer_s if measured is not None and peer_s is not None else None,
        limit,
        peer=peer,
        measured_s=measured,
        demanded_s=None if peer_s is None else limit * peer_s,
        floor_s=floor_s(entry),
        system=system,
    )


def _headline_checks(entry: dict[str, Any], compiled: dict[str, Any] | None) -> list[Check]:
    """The headline's own targets, on the compiled path: 0.6× torch-fused, its peak RSS,
    its FLOP-bound fraction."""
    name = entry["workload"]["name"]
    floor = floor_s(entry)
    fused = _epoch_s(entry, "torch-fused")
    return [
        _time_check("headline", entry, "torch-fused", fused, HEADLINE_VS_TORCH_FUSED),
        Check("rss", name, None if compiled is None else compiled["peak_rss_mib"], PEAK_RSS_MIB),
        Check(
            "flop-fraction",
            name,
            None if compiled is None else compiled.get("gemm_fraction"),
            FLOP_BOUND_FRACTION,
            at_least=True,
            measured_s=_epoch_s(entry, COMPILED),
            # the fraction is floor ÷ epoch time: it demands floor ÷ 0.6 per epoch
            demanded_s=None if floor is None else floor / FLOP_BOUND_FRACTION,
            floor_s=floor,
        ),
    ]


def checks(doc: dict[str, Any]) -> list[Check]:
    """Every target on every workload it applies to, in the run's workload order."""
    out: list[Check] = []
    for entry in doc["workloads"]:
        w = entry["workload"]
        compiled = _ok(entry, COMPILED)
        peer, peer_s = fastest(entry, "epoch", FAST_PEERS)
        out.append(_time_check("vs-fastest", entry, peer, peer_s, 1.0))
        torch_s = _epoch_s(entry, "torch")
        out.append(_time_check("numpy-vs-torch", entry, "torch", torch_s, 1.0, system=NUMPY))
        if w["name"] == HEADLINE:
            out += _headline_checks(entry, compiled)
        elif w["batch_size"] == 1:
            # same samples per epoch for every system: k× the samples/s is 1/k of the time
            fused = _epoch_s(entry, "torch-fused")
            out.append(_time_check("online", entry, "torch-fused", fused, 1 / ONLINE_SPEEDUP))
        infer_name, infer_s = fastest(entry, "inference", INFERENCE_PEERS)
        ratio = (compiled["inference_s"] / infer_s
                 if compiled is not None and infer_s is not None else None)
        out.append(Check("inference", w["name"], ratio, 1.0, peer=infer_name))
    imported = doc["meta"].get("import_s", {}).get("backprop", {})
    out.append(Check("import", "–", imported.get("min"), IMPORT_S, system=NUMPY))
    return out
