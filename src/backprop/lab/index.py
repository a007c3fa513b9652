"""The lab's index: where to begin, and a path through the pages with the course beside them.

The path is one table (:data:`PATH`): each step names a page, says in two or three
sentences what to do there, and names the course notebook that works through the same
idea. With a course URL (``backprop lab --course-url URL``, the documentation site's
address) each step links to its notebook's page, ``URL/course/NAME/``; without one it
names the notebook's file. Registered pages not on the path are listed after it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from backprop.lab.session import Page

#: The index page's template: the path and the other pages go where its slots are.
TEMPLATE = Path(__file__).resolve().parent / "static" / "index.html"
PATH_SLOT = "<!-- path -->"
OTHERS_SLOT = "<!-- other pages -->"


@dataclass(frozen=True)
class Step:
    """One step of the path: a page, what to do there, and the matching notebook."""

    page: str
    heading: str
    text: str
    notebook: str  # the notebook's name in the course: docs/course/NAME.ipynb
    notebook_title: str


PATH: tuple[Step, ...] = (
    Step("regression", "Start with one weight and one bias",
         "Press play and watch w and b walk down the bowl of the "
         "loss. Raise the learning rate past 2/λ_max and the path zig-zags, then blows up; "
         "standardize x and the narrow valley becomes a round one.",
         "01-gradient-descent", "Gradient descent on a line"),
    Step("sandbox", "Then check your own backward pass",
         "A 2-3-1 network, every number on the page: z, a, δ and ∂L/∂w of one step. Work a "
         "step out on paper, switch on “check my answer” and type your numbers in: each one "
         "is marked right or wrong, with the equation to look at again.",
         "02-one-step-by-hand", "One training step by hand"),
    Step("playground", "Then let a network learn",
         "A small network learning 2-D data live, forward and backward. Try a bad "
         "initialization or a learning rate that diverges, read the histograms and the "
         "gradient norms, and click any weight to see the arithmetic of its next update.",
         "05-why-training-fails", "Why training fails"),
)


def notebook_link(step: Step, course_url: str | None) -> str:
    """The notebook's link (on the documentation site), or its file name without a site."""
    title = html.escape(step.notebook_title)
    if course_url:
        href = html.escape(f"{course_url.rstrip('/')}/course/{step.notebook}/", quote=True)
        return (f'<a href="{href}" data-testid="index-notebook-{step.page}">'
                f"notebook: {title}</a>")
    return (f'<span data-testid="index-notebook-{step.page}">notebook: {title} '
            f"(docs/course/{html.escape(step.notebook)}.ipynb)</span>")


def index_html(pages: Mapping[str, type[Page]], course_url: str | None = None) -> str:
    """static/index.html with the path (the steps whose page is registered) and a link to
    every other registered page."""
    steps = [step for step in PATH if step.page in pages]
    path = "\n".join(
        f'    <li data-testid="index-step-{step.page}">\n'
        f'      <h2><a href="/{step.page}" data-testid="index-{step.page}">'
        f"{html.escape(pages[step.page].title)}</a>: {html.escape(step.heading)}</h2>\n"
        f"      <p>{html.escape(step.text)}</p>\n"
        f'      <p class="notebook">{notebook_link(step, course_url)}</p>\n'
        f"    </li>"
        for step in steps)
    on_path = {step.page for step in steps}
    others = "\n".join(
        f'    <li><a href="/{name}" data-testid="index-{name}">{html.escape(page.title)}</a>'
        f" — {html.escape(page.summary)}</li>"
        for name, page in pages.items() if name not in on_path)
    if others:
        others = f'  <h2>More pages</h2>\n  <ul class="pages">\n{others}\n  </ul>'
    return (TEMPLATE.read_text(encoding="utf-8").replace(PATH_SLOT, path)
            .replace(OTHERS_SLOT, others))
