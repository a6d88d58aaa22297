"""CORS: strict allowlist, preflights, credentials, and the null origin."""

from __future__ import annotations

from typing import Any

import pytest

from satchel.exceptions import ImproperlyConfigured

APP_ORIGIN = "https://app.example.com"


def _cors_client(make_app: Any, client_for: Any, **settings: Any) -> Any:
    settings.setdefault("cors_allow_origins", [APP_ORIGIN])
    return client_for(make_app(**settings))


def _preflight(client: Any, origin: str, method: str = "POST", headers: str = "") -> Any:
    asked = {"origin": origin, "access-control-request-method": method}
    if headers:
        asked["access-control-request-headers"] = headers
    return client.options("/submit", headers=asked)


def test_cors_is_off_by_default(client: Any) -> None:
    response = client.get("/", headers={"origin": APP_ORIGIN})
    assert "access-control-allow-origin" not in response.headers
    assert "origin" not in response.headers.get("vary", "").lower()


def test_allowed_origin_gets_its_own_origin_back(make_app: Any, client_for: Any) -> None:
    client = _cors_client(make_app, client_for)
    response = client.get("/", headers={"origin": APP_ORIGIN})
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "Origin" in response.headers["vary"]
    assert "access-control-allow-credentials" not in response.headers


def test_other_origins_get_nothing(make_app: Any, client_for: Any) -> None:
    client = _cors_client(make_app, client_for)
    for origin in (
        "https://evil.example",
        "http://app.example.com",
        "https://app.example.com.evil",
        "null",
        "https://APP.example.com.evil.example",
        "",
    ):
        response = client.get("/", headers={"origin": origin})
        assert "access-control-allow-origin" not in response.headers, origin
        assert "Origin" in response.headers["vary"]  # caches must not mix origins


def test_reply_is_the_configured_spelling_not_the_request_bytes(
    make_app: Any, client_for: Any
) -> None:
    client = _cors_client(make_app, client_for)
    response = client.get("/", headers={"origin": "https://APP.example.com:443"})
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


def test_preflight_allowed(make_app: Any, client_for: Any) -> None:
    client = _cors_client(
        make_app, client_for, cors_allow_headers=["X-Requested-With"], cors_max_age=123
    )
    response = _preflight(client, APP_ORIGIN, "PUT", "x-requested-with, content-type")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert response.headers["access-control-allow-methods"] == "DELETE, GET, PATCH, POST, PUT"
    assert response.headers["access-control-allow-headers"] == "x-requested-with, content-type"
    assert response.headers["access-control-max-age"] == "123"
    assert "Origin" in response.headers["vary"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_preflight_for_a_path_without_routes_is_answered(make_app: Any, client_for: Any) -> None:
    client = _cors_client(make_app, client_for)
    response = client.options(
        "/anything", headers={"origin": APP_ORIGIN, "access-control-request-method": "GET"}
    )
    assert response.status_code == 204


@pytest.mark.parametrize(
    ("origin", "method", "headers"),
    [
        ("https://evil.example", "POST", ""),
        ("null", "POST", ""),
        (APP_ORIGIN, "TRACE", ""),
        (APP_ORIGIN, "POST", "x-secret-header"),
    ],
)
def test_preflight_refused(
    make_app: Any, client_for: Any, origin: str, method: str, headers: str
) -> None:
    client = _cors_client(make_app, client_for)
    response = _preflight(client, origin, method, headers)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


def test_refusal_reason_only_in_debug(make_app: Any, client_for: Any) -> None:
    debug = _cors_client(make_app, client_for, debug=True)
    assert "not in cors_allow_origins" in _preflight(debug, "https://evil.example").text
    quiet = _cors_client(make_app, client_for)
    assert "cors_allow_origins" not in _preflight(quiet, "https://evil.example").text


def test_plain_options_is_not_a_preflight(make_app: Any, client_for: Any) -> None:
    client = _cors_client(make_app, client_for)
    response = client.options("/", headers={"origin": "https://evil.example"})
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_credentials_with_explicit_origins(make_app: Any, client_for: Any) -> None:
    client = _cors_client(
        make_app, client_for, cors_allow_credentials=True, cors_expose_headers=["X-Total"]
    )
    response = client.get("/", headers={"origin": APP_ORIGIN})
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "X-Total"
    preflight = _preflight(client, APP_ORIGIN)
    assert preflight.headers["access-control-allow-credentials"] == "true"
    refused = client.get("/", headers={"origin": "https://evil.example"})
    assert "access-control-allow-credentials" not in refused.headers


def test_wildcard_without_credentials(make_app: Any, client_for: Any) -> None:
    client = _cors_client(make_app, client_for, cors_allow_origins=["*"])
    response = client.get("/", headers={"origin": "https://anyone.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    null = client.get("/", headers={"origin": "null"})
    assert "access-control-allow-origin" not in null.headers


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cors_allow_origins": ["*"], "cors_allow_credentials": True}, "cannot be used with"),
        ({"cors_allow_origins": ["null"]}, "may not list 'null'"),
        ({"cors_allow_origins": ["app.example.com"]}, "must be an origin"),
        ({"cors_allow_origins": ["https://app.example.com/path"]}, "must be an origin"),
        ({"cors_allow_origins": [APP_ORIGIN], "cors_max_age": -1}, "cors_max_age"),
    ],
)
def test_unsafe_configurations_are_refused_at_startup(
    make_app: Any, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        make_app(**settings).freeze()


def test_handler_set_allow_origin_is_kept(make_app: Any, client_for: Any) -> None:
    from satchel import Response

    app = make_app(cors_allow_origins=[APP_ORIGIN])

    @app.get("/public")
    async def public() -> Response:
        return Response("x", headers={"Access-Control-Allow-Origin": "*"})

    response = client_for(app).get("/public", headers={"origin": APP_ORIGIN})
    assert response.headers.get_list("access-control-allow-origin") == ["*"]


def test_cross_origin_post_still_needs_csrf(make_app: Any, client_for: Any) -> None:
    # CORS lets the other site read answers; it does not make its posts trusted.
    client = _cors_client(make_app, client_for, cors_allow_credentials=True)
    client.get("/token")
    response = client.post("/submit", data={"a": "1"}, headers={"origin": APP_ORIGIN})
    assert response.status_code == 403
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
