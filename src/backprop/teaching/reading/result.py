"""What a reading returns: its findings, the numbers they came from, the paragraph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backprop.teaching.reading.words import finite_or_none


@dataclass(frozen=True)
class Finding:
    """One thing the numbers say.

    Attributes:
        kind: one of :data:`~backprop.teaching.reading.KINDS`.
        layers: the layers it concerns, numbered 1..L over the Dense layers.
        value: the number that crossed its threshold (a ratio, a fraction).
        text: one or two sentences naming the layers and the numbers (what was measured).
        advice: what to try, chosen by what was measured and by the network's
            activation, initialization and depth; empty when there is nothing to add.
    """

    kind: str
    layers: tuple[int, ...]
    value: float
    text: str
    advice: str = ""

    @property
    def sentences(self) -> str:
        """The text, then the advice."""
        return f"{self.text} {self.advice}".strip()


@dataclass(frozen=True)
class Reading:
    """The findings, the statistics they came from, and the paragraph.

    ``kind in reading`` tells whether a finding of that kind was made.
    ``stats`` holds "first_last_ratio" (median ‖∂L/∂W^[1]‖ / ‖∂L/∂W^[L]‖),
    "update_ratio_min"/"update_ratio_max" (the smallest and largest per-layer
    median ‖ΔW‖/‖W‖), "dead_max", "saturated_max" (the largest hidden-layer
    fractions over the second half), "spread_min" (the smallest hidden-layer
    unit spread at the end), "loss_first", "loss_last", "accuracy", "chance",
    "r2" (NaN where they do not apply) and "records" (recorded batches).
    ``layers`` holds, per Dense layer l = 1..L, the numbers the findings
    compare: "layer", "grad_norm_W" and "update_ratio" (medians over
    training), "dead_fraction", "saturated_fraction" and "unit_spread"
    (means over its second half). ``facts`` is the paragraph without advice.
    """

    findings: tuple[Finding, ...]
    stats: dict[str, float] = field(default_factory=dict)
    paragraph: str = ""
    layers: tuple[dict[str, float], ...] = ()
    facts: str = ""

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(finding.kind for finding in self.findings)

    @property
    def verdict(self) -> str:
        """The kinds found, comma-separated, or "healthy" (never for a loss that did not fall)."""
        return ", ".join(self.kinds) or "healthy"

    @property
    def advice(self) -> tuple[str, ...]:
        """The findings' advice, in their order (empty ones left out)."""
        return tuple(finding.advice for finding in self.findings if finding.advice)

    def __contains__(self, kind: object) -> bool:
        return kind in self.kinds

    def __str__(self) -> str:
        return self.paragraph

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: verdict, paragraph, findings and stats (NaN and inf as None)."""
        return {
            "verdict": self.verdict,
            "paragraph": self.paragraph,
            "facts": self.facts,
            "findings": [
                {"kind": f.kind, "layers": list(f.layers), "value": finite_or_none(f.value),
                 "text": f.text, "advice": f.advice}
                for f in self.findings
            ],
            "stats": {key: finite_or_none(value) for key, value in self.stats.items()},
            "layers": [{key: finite_or_none(value) for key, value in row.items()}
                       for row in self.layers],
        }
