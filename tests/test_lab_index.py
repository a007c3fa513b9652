"""The lab's index: where to begin, a path through the pages, each beside its notebook."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")

from backprop.lab.app import PAGES
from backprop.lab.index import PATH, index_html
from backprop.lab.session import Page
from lab_client import new_client


def test_the_path_goes_regression_sandbox_playground_in_a_few_sentences_each() -> None:
    assert [step.page for step in PATH] == ["regression", "sandbox", "playground"]
    for step in PATH:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", step.text) if s]
        assert 2 <= len(sentences) <= 3, step.text
        assert re.fullmatch(r"\d\d-[a-z-]+", step.notebook)
    text = index_html(PAGES)
    found = [text.index(f'data-testid="index-step-{name}"') for name in
             ("regression", "sandbox", "playground")]
    assert found == sorted(found)
    assert "check my answer" in text  # the sandbox's step says what to switch on


def test_without_a_site_the_notebooks_are_named_and_with_one_they_are_linked() -> None:
    plain = index_html(PAGES)
    assert "docs/course/01-gradient-descent.ipynb" in plain and "<a href=\"https" not in plain
    client = new_client(course_url="https://example.org/backprop/")
    page = client.get("/").text
    for step in PATH:
        assert (f'href="https://example.org/backprop/course/{step.notebook}/" '
                f'data-testid="index-notebook-{step.page}"') in page
        assert f'<a href="/{step.page}" data-testid="index-{step.page}">' in page


def test_a_page_off_the_path_is_listed_after_it() -> None:
    class Extra(Page):
        title = "An <extra> page"
        summary = "one more"

    text = index_html({**PAGES, "extra": Extra})
    assert '<h2>More pages</h2>' in text
    assert '<a href="/extra" data-testid="index-extra">An &lt;extra&gt; page</a>' in text
    assert "More pages" not in index_html(PAGES)
    only = index_html({"sandbox": PAGES["sandbox"]})
    assert "index-step-sandbox" in only and "index-step-regression" not in only
