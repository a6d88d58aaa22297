"""The redirect helper and is_safe_url: off-site targets refused in every disguise."""

from __future__ import annotations

from typing import Any

import pytest

from satchel import Request
from satchel.security import UnsafeRedirect, is_safe_url, redirect

HOSTILE = [
    "//evil.example",
    "///evil.example",
    "////evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "https:evil.example",
    "http:/evil.example",
    "https:///evil.example",
    "https://evil.example",
    "http://evil.example:80/",
    "HTTPS://EVIL.EXAMPLE",
    "https://good.example@evil.example",
    "https://good.example:pass@evil.example/",
    "https://good.example.evil.example",
    "https://evil.example\\@good.example",
    "https://evil.example#@good.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "javascript://%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    " //evil.example",
    "\t//evil.example",
    "\n/evil",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\x00//evil.example",
    "/\x7f/evil",
    "/\x85/evil",
    "\u3000//evil.example",
    "／／evil.example",  # fullwidth solidus: NFKC folds it to //
    "https://evil。example",  # ideographic full stop
    "https://ｅｖｉｌ.example",  # fullwidth letters
    "//good.example%2f@evil.example",
    "https://good.example:99999",
    "https://[::1",
    "",
    "evil.example:80",
]

SAFE = [
    "/",
    "/account",
    "/account?next=//evil.example",
    "/search?q=a%20b#results",
    "page2",
    "?page=2",
    "#top",
    "/café",
    "https://good.example/path",
    "http://good.example",
    "//good.example/x",
    "https://GOOD.example./x",
    "https://good.example:443/",
    "https://api.good.example:8443/v1",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_targets_are_refused(url: str) -> None:
    assert not is_safe_url(url, ["good.example", "api.good.example:8443"])
    with pytest.raises(UnsafeRedirect):
        redirect(url, allowed_hosts=["good.example"])


@pytest.mark.parametrize("url", SAFE)
def test_safe_targets_are_allowed(url: str) -> None:
    assert is_safe_url(url, ["good.example", "api.good.example:8443"])


def test_absolute_urls_need_an_allowed_host() -> None:
    assert not is_safe_url("https://good.example/")
    assert not is_safe_url("https://good.example:8443/", ["good.example"])
    assert is_safe_url("https://good.example:8443/", ["good.example:8443"])
    assert is_safe_url("https://[::1]:8000/", ["[::1]:8000"])


def test_require_https() -> None:
    assert is_safe_url("https://good.example/", ["good.example"], require_https=True)
    assert not is_safe_url("http://good.example/", ["good.example"], require_https=True)
    assert not is_safe_url("//good.example/", ["good.example"], require_https=True)
    assert is_safe_url("/local", ["good.example"], require_https=True)


def test_non_strings_are_unsafe() -> None:
    assert not is_safe_url(None)
    assert not is_safe_url(b"/x")  # type: ignore[arg-type]


def test_redirect_defaults_to_303(client_for: Any, make_app: Any) -> None:
    app = make_app()

    @app.get("/go")
    async def go(request: Request) -> Any:
        return redirect(request.query.get("next") or "/")

    @app.get("/away")
    async def away() -> Any:
        return redirect("https://partner.example/welcome", 302, allowed_hosts=["partner.example"])

    client = client_for(
        app,
        follow_redirects=False,
    )
    ok = client.get("/go", params={"next": "/account"})
    assert (ok.status_code, ok.headers["location"]) == (303, "/account")
    refused = client.get("/go", params={"next": "//evil.example"})
    assert refused.status_code == 400
    assert "location" not in refused.headers
    partner = client.get("/away")
    assert (partner.status_code, partner.headers["location"]) == (
        302,
        "https://partner.example/welcome",
    )


def test_redirect_is_exported_from_satchel() -> None:
    import satchel

    assert satchel.redirect is redirect
