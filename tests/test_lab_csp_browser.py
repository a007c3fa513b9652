"""The lab in headless Chromium under its own Content-Security-Policy.

Every page loads, connects and works with the policy the server sends (its own
scripts, styles and socket only), with no console error and no CSP violation report
(``lab_page`` checks both when each test ends). A lab that asks for its token works
from the printed link and refuses a tab without it; a tab past the session cap
shows why it was refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backprop.lab.app import PAGES
from lab_fixtures import CSP_WATCH, LabServer, start_lab

#: A control each page answers with a new state (the page, the button's data-testid).
ACTIONS = {"regression": "reg-step", "sandbox": "sb-step", "playground": "pg-step"}


@pytest.fixture
def own_lab() -> Iterator[Callable[..., LabServer]]:
    """``own_lab(*options)``: a `backprop lab` of this test's own, stopped at the end."""
    servers: list[LabServer] = []

    def start(*options: str) -> LabServer:
        servers.append(start_lab(*options))
        return servers[-1]

    yield start
    for server in servers:
        assert server.stop() == 0


def watched_tab(chromium: Any, problems: list[str]) -> Any:
    """A fresh tab whose console errors and CSP violations go into ``problems``."""
    page = chromium.new_context().new_page()
    page.add_init_script(CSP_WATCH)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


def test_every_page_works_under_the_policy(lab_page: Callable[..., Any]) -> None:
    index = lab_page("")
    assert index.get_by_test_id("index-playground").count() == 1
    for name in PAGES:
        page = lab_page(name)
        response = page.evaluate("""async () => {
            const r = await fetch(location.href);
            return [r.headers.get("content-security-policy"),
                    r.headers.get("x-content-type-options"), r.headers.get("referrer-policy")];
        }""")
        policy, nosniff, referrer = response
        assert "script-src 'self'" in policy and "unsafe" not in policy
        assert (nosniff, referrer) == ("nosniff", "no-referrer")
        # the page's own modules ran, its styles applied, its socket answers
        assert page.evaluate("() => document.styleSheets.length") >= 1
        before = page.evaluate("() => JSON.stringify(window.backpropLab.state())")
        page.get_by_test_id(ACTIONS[name]).click()
        page.wait_for_function(
            "(before) => JSON.stringify(window.backpropLab.state()) !== before", arg=before,
            timeout=15_000)
        assert page.evaluate("() => window.cspViolations") == []


def test_inline_script_is_blocked_and_reported(lab_server: LabServer, chromium: Any) -> None:
    """The policy is in force: an inline script injected into a page does not run."""
    problems: list[str] = []
    page = watched_tab(chromium, problems)
    page.goto(lab_server.url + "regression")
    page.wait_for_function("() => window.backpropLab.state().type === 'state'", timeout=15_000)
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.injected = true";
        document.body.append(script);
    }""")
    page.wait_for_function("() => window.cspViolations.length > 0", timeout=10_000)
    assert page.evaluate("() => window.injected === undefined")
    assert any("script-src" in v for v in page.evaluate("() => window.cspViolations"))
    assert any("Content Security Policy" in problem for problem in problems)
    page.context.close()


def test_a_lab_that_asks_for_its_token_works_from_the_printed_link(
    own_lab: Callable[..., LabServer], chromium: Any,
) -> None:
    server = own_lab("--require-token")
    assert "?token=" in server.url
    assert any("hand out the whole link" in line for line in server.output)
    problems: list[str] = []
    page = watched_tab(chromium, problems)
    page.goto(server.url)
    page.get_by_test_id("index-playground").click()  # the cookie carries the token on
    page.wait_for_function("() => window.backpropLab && window.backpropLab.state().type"
                           " === 'state'", timeout=15_000)
    page.get_by_test_id("pg-step").click()
    page.wait_for_function("() => window.backpropLab.state().step >= 1", timeout=15_000)
    assert page.evaluate("() => window.cspViolations") == []
    assert problems == []
    page.context.close()

    stranger = watched_tab(chromium, [])
    response = stranger.goto(server.origin + "/playground")
    assert response is not None and response.status == 403
    assert "this lab needs its token" in stranger.locator("body").inner_text()
    stranger.context.close()


def test_a_tab_past_the_cap_shows_why(own_lab: Callable[..., LabServer], chromium: Any) -> None:
    server = own_lab("--max-sessions-per-client", "1")
    problems: list[str] = []
    first = watched_tab(chromium, problems)
    first.goto(server.origin + "/regression")
    first.wait_for_function("() => window.backpropLab.state().type === 'state'", timeout=15_000)
    second = first.context.new_page()
    second.goto(server.origin + "/playground")
    second.wait_for_function("() => window.backpropLab.closed", timeout=15_000)
    status = second.get_by_test_id("pg-status").inner_text()
    assert status == ("the lab closed this session: this address has 1 session open, the most "
                      "allowed: close a lab tab, then reload")
    assert first.evaluate("() => window.backpropLab.closed") is False
    assert problems == []
    first.context.close()
