"""Security headers: each default, each setting, handler-set headers kept, HSTS only on https."""

from __future__ import annotations

from typing import Any

import pytest

from satchel import App, Response
from satchel.exceptions import ImproperlyConfigured
from satchel.testing import TestClient

DEFAULTS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def test_every_default_header_is_on_a_plain_response(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    for name, value in DEFAULTS.items():
        assert response.headers[name] == value
    assert "strict-transport-security" not in response.headers


def test_error_pages_and_404s_carry_the_headers_too(client: TestClient) -> None:
    for response in (
        client.get("/nowhere"),
        client.delete("/"),
        client.get("/", headers={"host": "evil.example"}),
    ):
        assert response.status_code in (400, 404, 405)
        for name, value in DEFAULTS.items():
            assert response.headers[name] == value, (response.status_code, name)


@pytest.mark.parametrize(
    ("setting", "value", "header", "expected"),
    [
        ("content_type_nosniff", False, "x-content-type-options", None),
        ("frame_options", "SAMEORIGIN", "x-frame-options", "SAMEORIGIN"),
        ("frame_options", None, "x-frame-options", None),
        (
            "referrer_policy",
            "strict-origin-when-cross-origin",
            "referrer-policy",
            "strict-origin-when-cross-origin",
        ),
        ("referrer_policy", None, "referrer-policy", None),
        (
            "cross_origin_opener_policy",
            "same-origin-allow-popups",
            "cross-origin-opener-policy",
            "same-origin-allow-popups",
        ),
        ("cross_origin_opener_policy", None, "cross-origin-opener-policy", None),
    ],
)
def test_each_header_follows_its_setting(
    make_app: Any, client_for: Any, setting: str, value: Any, header: str, expected: str | None
) -> None:
    response = client_for(make_app(**{setting: value})).get("/")
    assert response.headers.get(header) == expected
    # The others keep their defaults.
    for name, default in DEFAULTS.items():
        if name != header and name != "content-security-policy":
            assert response.headers[name] == default


def test_frame_ancestors_follows_frame_options(make_app: Any, client_for: Any) -> None:
    same = client_for(make_app(frame_options="SAMEORIGIN")).get("/")
    assert same.headers["content-security-policy"] == "frame-ancestors 'self'"
    off = client_for(make_app(frame_options=None)).get("/")
    assert "content-security-policy" not in off.headers


def test_configured_csp_gets_frame_ancestors_unless_it_has_its_own(
    make_app: Any, client_for: Any
) -> None:
    plain = client_for(make_app(content_security_policy="default-src 'self'")).get("/")
    assert plain.headers["content-security-policy"] == (
        "default-src 'self'; frame-ancestors 'none'"
    )
    own = client_for(
        make_app(content_security_policy="default-src 'self'; frame-ancestors https://a.example")
    ).get("/")
    assert own.headers["content-security-policy"] == (
        "default-src 'self'; frame-ancestors https://a.example"
    )


def test_report_only_policy_is_its_own_header(make_app: Any, client_for: Any) -> None:
    response = client_for(
        make_app(content_security_policy_report_only="script-src 'self'; report-uri /csp")
    ).get("/")
    assert response.headers["content-security-policy-report-only"] == (
        "script-src 'self'; report-uri /csp"
    )
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"


def test_headers_the_handler_set_are_not_overridden(make_app: Any, client_for: Any) -> None:
    app = make_app(content_security_policy="default-src 'self'")

    @app.get("/embeddable")
    async def embeddable() -> Response:
        return Response(
            "ok",
            headers={
                "X-Frame-Options": "SAMEORIGIN",
                "Referrer-Policy": "no-referrer",
                "Cross-Origin-Opener-Policy": "unsafe-none",
            },
        )

    @app.get("/own-csp")
    async def own_csp() -> Response:
        return Response("ok", headers={"Content-Security-Policy": "default-src 'none'"})

    client = client_for(app)
    response = client.get("/embeddable")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers.get_list("referrer-policy") == ["no-referrer"]
    assert response.headers.get_list("cross-origin-opener-policy") == ["unsafe-none"]
    assert response.headers["x-content-type-options"] == "nosniff"
    # The handler allowed framing: our frame-ancestors would overrule it in browsers.
    assert response.headers["content-security-policy"] == "default-src 'self'"

    own = client.get("/own-csp")
    assert own.headers.get_list("content-security-policy") == ["default-src 'none'"]
    assert own.headers["x-frame-options"] == "DENY"


def test_a_reused_response_object_does_not_grow(make_app: Any, client_for: Any) -> None:
    app = make_app()
    shared = Response("same object every time")

    @app.get("/shared")
    async def shared_response() -> Response:
        return shared

    client = client_for(app)
    first = client.get("/shared").headers.multi_items()
    second = client.get("/shared").headers.multi_items()
    assert first == second
    assert [k for k, _ in second].count("x-frame-options") == 1


def test_hsts_only_on_https_responses(make_app: Any, client_for: Any) -> None:
    app = make_app(hsts_seconds=3600, allowed_hosts=["example.com"])
    assert "strict-transport-security" not in client_for(app, "http://example.com").get("/").headers
    secure = client_for(app, "https://example.com").get("/")
    assert secure.headers["strict-transport-security"] == "max-age=3600"


def test_hsts_options(make_app: Any, client_for: Any) -> None:
    app = make_app(
        hsts_seconds=31536000,
        hsts_include_subdomains=True,
        hsts_preload=True,
        allowed_hosts=["example.com"],
    )
    response = client_for(app, "https://example.com").get("/")
    assert response.headers["strict-transport-security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )


def test_hsts_off_by_default_even_on_https(make_app: Any, client_for: Any) -> None:
    app = make_app(allowed_hosts=["example.com"])
    assert (
        "strict-transport-security" not in client_for(app, "https://example.com").get("/").headers
    )


def test_handler_hsts_is_kept(make_app: Any, client_for: Any) -> None:
    app = make_app(hsts_seconds=60, allowed_hosts=["example.com"])

    @app.get("/long")
    async def long_hsts() -> Response:
        return Response("x", headers={"Strict-Transport-Security": "max-age=99"})

    response = client_for(app, "https://example.com").get("/long")
    assert response.headers.get_list("strict-transport-security") == ["max-age=99"]


def test_header_values_with_newlines_are_refused_at_startup() -> None:
    app = App(referrer_policy="same-origin\r\nSet-Cookie: x=1")
    with pytest.raises(ImproperlyConfigured, match="control character"):
        app.freeze()


def test_streaming_responses_get_the_headers(make_app: Any, client_for: Any) -> None:
    from satchel import StreamingResponse  # type: ignore[attr-defined]

    app = make_app()

    @app.get("/stream")
    async def stream() -> Any:
        async def chunks() -> Any:
            yield b"a"
            yield b"b"

        return StreamingResponse(chunks())

    response = client_for(app).get("/stream")
    assert response.content == b"ab"
    assert response.headers["x-frame-options"] == "DENY"
