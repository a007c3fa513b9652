"""The :class:`Trace` of :func:`backprop.explain`: the step's numbers and their renderings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backprop.teaching.worked_step import data
from backprop.teaching.worked_step.html import render_html_steps
from backprop.teaching.worked_step.layout import render_steps
from backprop.teaching.worked_step.naming import get_naming
from backprop.teaching.worked_step.notation import TexNotation, TextNotation
from backprop.teaching.worked_step.records import StepRecord


@dataclass
class Trace(StepRecord):
    """One training step, number by number; see :func:`backprop.explain`.

    Render with ``str(trace)`` / :meth:`to_text`, :meth:`to_markdown`,
    :meth:`to_json` / :meth:`as_dict`, or let Jupyter call ``_repr_html_``.
    Its own fields are the first step; ``following`` holds the steps after it
    (``explain(..., steps=N)``), each a :class:`StepRecord`.
    """

    following: list[StepRecord] = field(default_factory=list)

    @property
    def steps(self) -> list[StepRecord]:
        """Every step, this one first."""
        return [self, *self.following]

    # -- programs ---------------------------------------------------------
    def as_dict(self, digits: int | None = None) -> dict[str, Any]:
        """The numbers as plain Python data; ``digits`` rounds every float."""
        return data.as_dict(self, digits)

    def to_json(self, indent: int | None = 2) -> str:
        """JSON with every number to the trace's significant digits."""
        return data.to_json(self, indent)

    # -- people -----------------------------------------------------------
    def __str__(self) -> str:
        return self.to_text()

    def to_text(self) -> str:
        """Plain text, one equation a line."""
        naming = get_naming(self.notation)
        return "\n".join(render_steps(self.steps, TextNotation(self.digits, naming)))

    def to_markdown(self) -> str:
        """Markdown with LaTeX math ($...$ inline, $$...$$ blocks) for GitHub and Jupyter."""
        naming = get_naming(self.notation)
        return "\n".join(render_steps(self.steps, TexNotation(self.digits, naming)))

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return render_html_steps(self.steps)
