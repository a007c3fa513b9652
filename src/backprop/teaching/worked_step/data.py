"""The worked step as plain Python data and JSON, for programs."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

from backprop.teaching.worked_step.notation import fmt
from backprop.teaching.worked_step.records import NOTATION_FIELDS, StepRecord


def as_dict(trace: StepRecord, digits: int | None = None) -> dict[str, Any]:
    """The numbers as plain Python data; ``digits`` rounds every float."""
    data = asdict(trace)
    for name in NOTATION_FIELDS:
        del data[name]
    data["m"] = trace.m
    data["max_relative_error"] = trace.max_relative_error
    following = getattr(trace, "following", None)  # a Trace's steps after the first
    if following is not None:
        data["following"] = [as_dict(record) for record in following]
    if digits is None:
        return data
    return _round_floats(data, digits)  # type: ignore[no-any-return]


def to_json(trace: StepRecord, indent: int | None = 2) -> str:
    """JSON with every number to the trace's significant digits."""
    return json.dumps(as_dict(trace, trace.digits), indent=indent, ensure_ascii=False)


def _round_floats(value: Any, digits: int) -> Any:
    if isinstance(value, float):
        return float(fmt(value, digits)) if math.isfinite(value) else value
    if isinstance(value, list):
        return [_round_floats(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: _round_floats(v, digits) for k, v in value.items()}
    return value
