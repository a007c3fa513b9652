"""The lab in headless Chromium: the index and each page load and connect without errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backprop.lab.app import PAGES


def test_index_lists_every_page(lab_page: Callable[..., Any]) -> None:
    page = lab_page("")
    for name in PAGES:
        assert page.get_by_test_id(f"index-{name}").get_attribute("href") == f"/{name}"


def test_every_page_connects_and_exposes_its_state(lab_page: Callable[..., Any]) -> None:
    for name in PAGES:
        page = lab_page(name)
        state = page.evaluate("() => window.backpropLab.state()")
        assert state["type"] == "state" and state["page"] == name
