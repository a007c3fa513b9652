"""Who the lab answers: its own origins, a token beyond loopback, the security headers.

In-process (Starlette's TestClient, whose host is ``testserver``); nothing binds
beyond 127.0.0.1: the decision to ask for a token beyond loopback is tested as a function.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")
from starlette.testclient import WebSocketDenialResponse

from backprop.errors import OptionError
from backprop.lab.access import Access, is_loopback, parse_origin, token_required
from backprop.lab.app import PAGES, STATIC
from lab_client import HOST, ORIGIN, TestClient, new_client

TOKEN = "s3cret-token"
FOREIGN = "http://evil.example"


def refused_upgrade(client: TestClient, url: str, **kwargs: object) -> WebSocketDenialResponse:
    """The 403 answer to an upgrade that must be refused before any session starts."""
    with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect(url, **kwargs):
        pass
    assert refused.value.status_code == 403
    return refused.value


def admitted(client: TestClient, url: str, **kwargs: object) -> dict[str, object]:
    """The first state of an upgrade that must be admitted."""
    with client.websocket_connect(url, **kwargs) as ws:
        first: dict[str, object] = ws.receive_json()
    assert first["type"] == "state"
    return first


def no_session_started(client: TestClient) -> bool:
    return bool(client.app.state.capacity.open_sessions() == 0)


# -- origins -----------------------------------------------------------------------------------
@pytest.mark.parametrize("origin", [
    FOREIGN,
    "http://testserver.evil.example",
    "https://testserver",  # another scheme is another origin
    "null",  # a sandboxed frame, a file:// page
    "testserver",
])
def test_a_socket_from_another_origin_is_refused_before_any_session(origin: str) -> None:
    client = new_client(origin=origin)
    denial = refused_upgrade(client, "/ws/playground")
    assert "may not use this lab" in denial.text and "--allow-origin" in denial.text
    assert no_session_started(client)


def test_a_socket_without_origin_is_refused() -> None:
    client = new_client(origin=None)  # not a browser page: scripts send the lab's own origin
    denial = refused_upgrade(client, "/ws/regression")
    assert denial.text.startswith("no Origin header")
    assert no_session_started(client)


def test_a_socket_from_the_labs_own_origin_is_admitted() -> None:
    client = new_client(origin=ORIGIN)
    for name in PAGES:
        admitted(client, f"/ws/{name}")


def test_allow_origin_admits_one_more_origin_and_lets_it_frame_the_lab() -> None:
    course = "https://course.example.org"
    client = new_client(origin=course, access=Access(hosts=frozenset({HOST}),
                                                     origins=frozenset({course})))
    admitted(client, "/ws/sandbox")
    policy = client.get("/").headers["content-security-policy"]
    assert f"frame-ancestors 'self' {course}" in policy
    refused_upgrade(client, "/ws/sandbox", headers={"origin": FOREIGN})


def test_on_loopback_every_loopback_name_of_the_port_is_the_labs_own() -> None:
    access = Access.for_bind("127.0.0.1", 8765)
    for name in ("localhost:8765", "127.0.0.1:8765", "[::1]:8765"):
        assert access.origin_allowed(f"http://{name}", "127.0.0.1:8765")
        assert access.refusal(upgrade=True, method="GET", host=name,
                              origin=f"http://{name}", token=None) is None
    for origin in ("http://localhost:8766", "http://localhost", "localhost:8765", FOREIGN, None):
        assert not access.origin_allowed(origin, "127.0.0.1:8765")


def test_on_loopback_another_host_name_is_refused_whatever_it_asks() -> None:
    """A page on a name that resolves to 127.0.0.1 (DNS rebinding) gets nothing."""
    access = Access.for_bind("127.0.0.1", 8765)
    client = new_client(access=access, origin="http://evil.example:8765")
    response = client.get("/playground", headers={"host": "evil.example:8765"})
    assert response.status_code == 403
    assert "answers only at" in response.text and "evil.example" in response.text
    refused_upgrade(client, "/ws/playground", headers={"host": "evil.example:8765"})
    assert client.get("/playground", headers={"host": "localhost:8765"}).status_code == 200


def test_beyond_loopback_the_own_origin_is_the_address_the_request_was_sent_to() -> None:
    access = Access.for_bind("0.0.0.0", 8765)
    assert access.hosts is None and access.token is not None
    assert access.origin_allowed("http://10.1.2.3:8765", "10.1.2.3:8765")
    assert access.origin_allowed("http://lab.school.example:8765", "lab.school.example:8765")
    assert not access.origin_allowed("http://evil.example", "10.1.2.3:8765")
    assert not access.origin_allowed(None, "10.1.2.3:8765")


def test_requests_that_could_change_something_need_an_admitted_origin() -> None:
    client = new_client(origin=FOREIGN)
    response = client.post("/playground", content=b"x")
    assert response.status_code == 403 and "may not use this lab" in response.text
    assert new_client(origin=None).post("/playground").status_code == 403
    # the lab's own origin passes the door (and there is nothing to post to)
    assert new_client(origin=ORIGIN).post("/playground").status_code == 405
    # reading needs no origin: a link followed, a page reloaded
    assert new_client(origin=None).get("/playground").status_code == 200
    assert new_client(origin=FOREIGN).get("/playground").status_code == 200


# -- the token ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("host", "require", "asked"), [
    ("127.0.0.1", False, False),
    ("localhost", False, False),
    ("::1", False, False),
    ("127.0.0.2", False, False),
    ("127.0.0.1", True, True),
    ("0.0.0.0", False, True),
    ("::", False, True),
    ("192.168.1.20", False, True),
    ("lab.school.example", False, True),
])
def test_a_bind_beyond_loopback_turns_the_token_on(host: str, require: bool, asked: bool) -> None:
    assert token_required(host, require) is asked
    assert is_loopback(host) is (not asked or require)
    access = Access.for_bind(host, 8765, require_token=require)
    assert (access.token is not None) is asked
    if asked:
        assert access.token is not None and len(access.token) >= 32
        assert access.link("http://x:8765/") == f"http://x:8765/?token={access.token}"
    else:
        assert access.link("http://x:8765/") == "http://x:8765/"


def test_each_launch_makes_a_new_token() -> None:
    tokens = {Access.for_bind("0.0.0.0", 8765).token for _ in range(5)}
    assert len(tokens) == 5


def token_client(origin: str | None = ORIGIN) -> TestClient:
    """A client of a lab that asks for :data:`TOKEN`."""
    return new_client(access=Access(hosts=frozenset({HOST}), token=TOKEN,
                                    cookie="backprop_lab_token_test"), origin=origin)


@pytest.mark.parametrize("path", ["/", "/playground", "/regression", "/sandbox",
                                  "/static/common.js", "/static/style.css"])
def test_with_the_token_on_pages_without_it_or_with_a_wrong_one_get_403(path: str) -> None:
    client = token_client()
    for query in ("", "?token=wrong", f"?token={TOKEN}x", "?token="):
        response = client.get(path + query)
        assert response.status_code == 403, (path, query)
        assert response.headers["content-type"].startswith("text/html")
        assert "this lab needs its token" in response.text
        assert "printed" in response.text and "?token=" in response.text
        assert response.text.count("\n") == 1  # one line
        assert TOKEN not in response.text


def test_with_the_right_token_pages_are_served_and_a_cookie_keeps_it() -> None:
    client = token_client()
    response = client.get(f"/playground?token={TOKEN}")
    assert response.status_code == 200 and 'data-page="playground"' in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"backprop_lab_token_test={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # the page's later requests carry the cookie, not the token
    assert client.get("/static/common.js").status_code == 200
    assert "set-cookie" not in client.get("/static/common.js").headers
    admitted(client, "/ws/playground")


def test_with_the_token_on_sockets_need_it() -> None:
    client = token_client()
    for url in ("/ws/playground", "/ws/playground?token=wrong"):
        denial = refused_upgrade(client, url)
        assert "this lab needs its token" in denial.text
    assert no_session_started(client)
    admitted(client, f"/ws/playground?token={TOKEN}")
    admitted(token_client(), "/ws/regression",
             headers={"cookie": f"backprop_lab_token_test={TOKEN}"})
    # the token does not stand in for the origin
    denial = refused_upgrade(token_client(origin=FOREIGN), f"/ws/playground?token={TOKEN}")
    assert "may not use this lab" in denial.text


# -- headers -----------------------------------------------------------------------------------
def policy_of(response: object) -> dict[str, list[str]]:
    text = response.headers["content-security-policy"]  # type: ignore[attr-defined]
    return {name: rest for name, *rest in (part.split() for part in text.split(";"))}


PATHS = ["/", *(f"/{name}" for name in PAGES), "/static/common.js", "/static/style.css",
         "/static/playground/playground.js", "/static/sandbox/sandbox.css", "/no-such-page",
         "/static/no-such-file.js"]


@pytest.mark.parametrize("path", PATHS)
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = policy_of(response)
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'", f"ws://{HOST}"]
    assert policy["frame-ancestors"] == ["'self'"]
    assert not any("unsafe" in source or source == "*" for sources in policy.values()
                   for source in sources)


def test_refusals_carry_the_security_headers_too() -> None:
    response = token_client().get("/")
    assert response.status_code == 403
    assert policy_of(response)["script-src"] == ["'self'"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_strange_host_is_not_written_into_the_policy() -> None:
    client = new_client(access=Access(hosts=None), origin=None)
    response = client.get("/", headers={"host": "x; script-src *"})
    assert policy_of(response)["connect-src"] == ["'self'"]
    assert policy_of(response)["script-src"] == ["'self'"]


class InlineCode(HTMLParser):
    """What a strict CSP would block in a page: inline scripts, handlers, style attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.found += [f"<{tag} {name}>" for name in names
                       if name.startswith("on") or name == "style"]
        if tag == "script":
            if "src" not in names:
                self.found.append("<script> without src")
            self.in_script = True
        if tag == "style":
            self.found.append("<style>")
        if any((value or "").strip().lower().startswith("javascript:") for value in names.values()):
            self.found.append(f"<{tag}> with a javascript: URL")

    def handle_endtag(self, tag: str) -> None:
        self.in_script = self.in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.found.append("an inline script body")


@pytest.mark.parametrize("path", ["/", *(f"/{name}" for name in PAGES)])
def test_no_page_holds_inline_script_or_style(client: TestClient, path: str) -> None:
    parser = InlineCode()
    parser.feed(client.get(path).text)
    assert parser.found == []


def test_page_scripts_build_no_inline_style_or_code() -> None:
    """The scripts may set element.style (CSSOM, allowed); not style attributes, not eval."""
    scripts = [*STATIC.glob("*.js"), *(p for page in PAGES.values()
                                       for p in page.static.glob("*.js"))]
    assert len(scripts) >= 4
    banned = re.compile(r"setAttribute\(\s*[\"']style|\beval\(|new Function\(|innerHTML|"
                        r"insertAdjacentHTML|setTimeout\(\s*[\"'`]")
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        assert not banned.search(text), f"{script.name}: {banned.search(text)}"


# -- --allow-origin --------------------------------------------------------------------------
@pytest.mark.parametrize(("given", "origin"), [
    ("https://course.example.org", "https://course.example.org"),
    ("https://Course.Example.org/", "https://course.example.org"),
    ("https://course.example.org:443", "https://course.example.org"),
    ("http://10.0.0.2:8000", "http://10.0.0.2:8000"),
    ("http://[::1]:9000", "http://[::1]:9000"),
])
def test_allow_origin_takes_origins_as_browsers_send_them(given: str, origin: str) -> None:
    assert parse_origin(given) == origin


@pytest.mark.parametrize("given", ["course.example.org", "ftp://x.org", "https://x.org/lab",
                                   "https://x.org?a=1", "https://", "https://x.org:99999", "*"])
def test_allow_origin_refuses_what_is_not_an_origin(given: str) -> None:
    with pytest.raises(OptionError, match="--allow-origin needs an origin") as error:
        parse_origin(given)
    assert "\n" not in str(error.value)


def test_messages_still_flow_once_admitted(client: TestClient) -> None:
    with client.websocket_connect("/ws/regression") as ws:
        first = ws.receive_json()
        ws.send_text(json.dumps({"type": "ping"}))
        assert ws.receive_json() == first
