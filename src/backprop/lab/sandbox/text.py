"""The worked step's text, cut into one entry per number the sandbox draws.

Clicking a number on /sandbox shows its equation with the numbers put in:
the very line that ``bp.explain(...).to_text()`` prints for it. This module
reads that text once per state and files each line under the id of the
number it computes:

    z-L-J / a-L-J / d-L-J   z_j^[l], a_j^[l], δ_j^[l] of the shown sample
    g-L-J-K / gb-L-J        ∂L/∂w_jk^[l], ∂L/∂b_j^[l] (means over the batch)
    u-L-J-K / ub-L-J        the update lines w_jk^[l] ← w_jk − η ∂L/∂w_jk
    loss                    the loss lines (per sample and the mean)

Layers and units are counted from 1, as in the trace; units are ≤ 8, so
"w_12^[2]" names unit 1 and input 2 without ambiguity.
"""

from __future__ import annotations

import re

_SAMPLE = re.compile(r"sample (\d+):")
_FORWARD = re.compile(r"([za])_(\d+)\^\[(\d+)\] = ")
_DELTA = re.compile(r"δ_(\d+)\^\[(\d+)\] = ")
_SOFTMAX_G = re.compile(r"g_(\d+) = ")
_GRADIENT = re.compile(r"∂L/∂([wb])_(\d+)\^\[(\d+)\] = ")
_UPDATE = re.compile(r"([wb])_(\d+)\^\[(\d+)\] ← ")


def _parameter_id(prefix: str, name: str, units: str, layer: str) -> str:
    """"g-2-1-1" for ∂L/∂w_11^[2], "gb-2-1" for ∂L/∂b_1^[2] (prefix g or u)."""
    if name == "w":
        return f"{prefix}-{layer}-{units[0]}-{units[1:]}"
    return f"{prefix}b-{layer}-{units}"


def entry_texts(text: str, sample: int = 1) -> dict[str, str]:
    """Map each number's id to its line(s) of the trace ``text`` (sample counted from 1)."""
    entries: dict[str, str] = {}
    section = ""
    current = 1
    pending = ""  # a softmax layer's g_j line, shown with the δ_j that follows it
    loss_lines: list[str] = []
    for raw in text.splitlines():
        if raw and not raw.startswith(" "):
            section, current, pending = raw, 1, ""
            continue
        line = raw.strip()
        if found := _SAMPLE.fullmatch(line):
            current = int(found.group(1))
            continue
        if not raw.startswith("  ") or raw.startswith("    "):
            continue  # general formulas are indented by four, entries by two
        if section.startswith("Loss"):
            loss_lines.append(line)
        elif section.startswith(("Output error", "Hidden errors")):
            if _SOFTMAX_G.match(line):
                pending = line
            elif (found := _DELTA.match(line)) and current == sample:
                unit, layer = found.groups()
                entries[f"d-{layer}-{unit}"] = f"{pending}\n{line}" if pending else line
                pending = ""
        elif section.startswith("Forward pass"):
            if (found := _FORWARD.match(line)) and current == sample:
                kind, unit, layer = found.groups()
                entries[f"{kind}-{layer}-{unit}"] = line
        elif section.startswith("Gradients"):
            if found := _GRADIENT.match(line):
                entries[_parameter_id("g", *found.groups())] = line
        elif section.startswith("Update") and (found := _UPDATE.match(line)):
            entries[_parameter_id("u", *found.groups())] = line
    if loss_lines:
        entries["loss"] = "\n".join(loss_lines)
    return entries
