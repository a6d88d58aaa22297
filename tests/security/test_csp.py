"""The CSP builder and the per-request nonce."""

from __future__ import annotations

import re
from typing import Any

import pytest

from satchel import Request
from satchel.exceptions import ImproperlyConfigured
from satchel.security import ContentSecurityPolicy, csp_nonce


def test_builder_renders_and_parses() -> None:
    policy = ContentSecurityPolicy(
        {"default_src": ["'self'"], "img-src": ["'self'", "data:"], "upgrade-insecure-requests": []}
    )
    text = "default-src 'self'; img-src 'self' data:; upgrade-insecure-requests"
    assert str(policy) == text
    assert ContentSecurityPolicy.parse(text) == policy
    assert policy.without("img-src").has("img-src") is False
    assert str(policy.with_directive("object-src", ["'none'"])).endswith("; object-src 'none'")


@pytest.mark.parametrize(
    "directives",
    [
        {"script-src": ["'self'; img-src *"]},  # a source that smuggles a directive
        {"script-src": ["a b"]},
        {"script src": ["'self'"]},
        {"script-src": ["'self'\n"]},
    ],
)
def test_builder_refuses_injection(directives: dict[str, list[str]]) -> None:
    with pytest.raises(ImproperlyConfigured):
        ContentSecurityPolicy(directives)


def test_nonce_joins_script_and_style_sources() -> None:
    policy = ContentSecurityPolicy.parse("default-src 'self'; script-src 'self' cdn.example")
    assert policy.with_nonce("abc") == (
        "default-src 'self'; script-src 'self' cdn.example 'nonce-abc'; style-src 'self' 'nonce-abc'"
    )
    # 'none' plus a nonce would be ignored by nobody; the nonce replaces it.
    assert ContentSecurityPolicy.parse("script-src 'none'").with_nonce("n") == (
        "script-src 'nonce-n'"
    )


def _nonce_app(make_app: Any, **settings: Any) -> Any:
    app = make_app(**settings)

    @app.get("/page")
    async def page(request: Request) -> str:
        nonce = csp_nonce(request)
        assert csp_nonce(request) == nonce  # the same for the whole request
        return f'<script nonce="{nonce}">go()</script>'

    return app


def test_nonce_is_in_the_page_and_the_header(make_app: Any, client_for: Any) -> None:
    client = client_for(_nonce_app(make_app, content_security_policy="default-src 'self'"))
    first = client.get("/page")
    nonce = re.search(r'nonce="([^"]+)"', first.text)
    assert nonce is not None and len(nonce.group(1)) >= 22
    header = first.headers["content-security-policy"]
    assert f"script-src 'self' 'nonce-{nonce.group(1)}'" in header
    assert "frame-ancestors 'none'" in header
    second = client.get("/page")
    assert second.text != first.text  # a new nonce per request
    assert second.headers["content-security-policy"] != header


def test_pages_without_a_nonce_get_the_static_policy(make_app: Any, client_for: Any) -> None:
    client = client_for(_nonce_app(make_app, content_security_policy="default-src 'self'"))
    assert client.get("/").headers["content-security-policy"] == (
        "default-src 'self'; frame-ancestors 'none'"
    )


def test_nonce_without_a_script_policy_changes_nothing(make_app: Any, client_for: Any) -> None:
    # No policy restricts scripts: adding script-src 'nonce-...' would block every
    # other script on the page, so the header stays as it is.
    client = client_for(_nonce_app(make_app))
    assert client.get("/page").headers["content-security-policy"] == "frame-ancestors 'none'"


def test_nonce_reaches_the_report_only_policy(make_app: Any, client_for: Any) -> None:
    client = client_for(
        _nonce_app(make_app, content_security_policy_report_only="script-src 'self'")
    )
    response = client.get("/page")
    nonce = re.search(r'nonce="([^"]+)"', response.text)
    assert nonce is not None
    assert response.headers["content-security-policy-report-only"] == (
        f"script-src 'self' 'nonce-{nonce.group(1)}'"
    )
