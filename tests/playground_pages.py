"""A playground page in-process, set up and stepped by its own messages (for its tests)."""

from __future__ import annotations

from backprop.lab.playground.page import PlaygroundPage
from backprop.lab.playground.protocol import Configure, Step


def page_with(**fields: object) -> PlaygroundPage:
    """A fresh page, configured with ``fields`` (a configure message) when given."""
    page = PlaygroundPage()
    if fields:
        page.handle(Configure(type="configure", **fields))  # type: ignore[arg-type]
    return page


def step(page: PlaygroundPage, count: int) -> None:
    page.handle(Step(type="step", count=count))
