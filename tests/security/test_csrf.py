"""CSRF: tokens tied to the session, masking, where tokens come from, origin checks, exemptions."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import pytest

from satchel import App, Module, Request
from satchel.security import CSRFError, csrf_exempt, csrf_input, csrf_token, rotate_csrf_token
from satchel.security.csrf import token_matches
from satchel.testing import TestClient

Client = TestClient


def _form_post(client: Client, token: str | None, **kwargs: Any) -> Any:
    data = {"name": "x"} if token is None else {"name": "x", "csrf_token": token}
    return client.post("/submit", data=data, **kwargs)


# -- tokens --------------------------------------------------------------------------


def test_valid_token_in_form_field_is_accepted(client: Client, fetch_token: Any) -> None:
    token = fetch_token(client)
    response = _form_post(client, token)
    assert (response.status_code, response.text) == (200, "accepted POST")


def test_valid_token_in_multipart_form_is_accepted(client: Client, fetch_token: Any) -> None:
    token = fetch_token(client)
    response = client.post(
        "/submit", data={"csrf_token": token}, files={"f": ("a.txt", b"data", "text/plain")}
    )
    assert response.status_code == 200


def test_valid_token_in_header_is_accepted_for_every_unsafe_method(
    client: Client, fetch_token: Any
) -> None:
    token = fetch_token(client)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.request(
            method,
            "/submit",
            content=b"{}",
            headers={"x-csrf-token": token, "content-type": "application/json"},
        )
        assert (response.status_code, response.text) == (200, f"accepted {method}")


def test_missing_token_is_403(client: Client, fetch_token: Any) -> None:
    fetch_token(client)
    assert _form_post(client, None).status_code == 403
    assert (
        client.post("/submit", content=b"raw", headers={"content-type": "text/plain"}).status_code
        == 403
    )


def test_no_session_is_403(client: Client) -> None:
    # A cross-site form post under SameSite=Lax arrives with no session cookie at all.
    token = csrf_token_for_someone_else()
    assert _form_post(client, token).status_code == 403


def csrf_token_for_someone_else() -> str:
    mask, secret = secrets.token_bytes(32), secrets.token_bytes(32)
    masked = bytes(a ^ b for a, b in zip(mask, secret, strict=True))
    return base64.urlsafe_b64encode(mask + masked).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "token",
    [
        "wrong",
        "",
        " ",
        "A" * 86,
        "A" * 85 + "=",
        "é" * 86,
        "\x00" * 86,
        csrf_token_for_someone_else(),
    ],
)
def test_wrong_tokens_are_403_never_500(client: Client, fetch_token: Any, token: str) -> None:
    fetch_token(client)
    assert _form_post(client, token).status_code == 403


def test_token_of_another_session_is_403(app: App, client_for: Any, fetch_token: Any) -> None:
    alice, mallory = client_for(app), client_for(app)
    fetch_token(alice)
    mallorys_token = fetch_token(mallory)
    assert _form_post(alice, mallorys_token).status_code == 403
    assert _form_post(mallory, mallorys_token).status_code == 200


def test_masked_tokens_differ_per_call_but_all_verify(
    make_app: Any, client_for: Any, fetch_token: Any
) -> None:
    app = make_app()

    @app.get("/two")
    async def two(request: Request) -> dict[str, str]:
        return {"a": csrf_token(request), "b": csrf_token(request)}

    client = client_for(app)
    pair = client.get("/two").json()
    third = fetch_token(client)
    assert len({pair["a"], pair["b"], third}) == 3
    for token in (pair["a"], pair["b"], third):
        assert _form_post(client, token).status_code == 200


def test_token_matches_is_the_xor_of_mask_and_secret() -> None:
    secret = secrets.token_bytes(32)
    mask = secrets.token_bytes(32)
    token = (
        base64.urlsafe_b64encode(mask + bytes(a ^ b for a, b in zip(mask, secret, strict=True)))
        .rstrip(b"=")
        .decode()
    )
    assert token_matches(token, secret)
    assert not token_matches(token, secrets.token_bytes(32))
    # Change a character whose bits all count (the last one is partly padding).
    assert not token_matches(token[:-5] + ("A" if token[-5] != "A" else "Q") + token[-4:], secret)


def test_rotating_the_secret_kills_old_tokens(make_app: Any, client_for: Any) -> None:
    app = make_app()

    @app.get("/rotate")
    async def rotate(request: Request) -> str:
        rotate_csrf_token(request)
        return "rotated"

    client = client_for(app)
    old = client.get("/token").json()["token"]
    client.get("/rotate")
    assert _form_post(client, old).status_code == 403
    assert _form_post(client, client.get("/token").json()["token"]).status_code == 200


def test_csrf_input_is_a_hidden_field_marked_safe(make_app: Any, client_for: Any) -> None:
    app = make_app(csrf_field_name="_csrf")

    @app.get("/form")
    async def form(request: Request) -> str:
        field = csrf_input(request)
        assert field.__html__() == str(field)
        return f"<form method=post action=/submit>{field}</form>"

    client = client_for(app)
    page = client.get("/form").text
    assert page.startswith(
        '<form method=post action=/submit><input type="hidden" name="_csrf" value="'
    )
    token = page.split('value="')[1].split('"')[0]
    assert client.post("/submit", data={"_csrf": token}).status_code == 200
    assert client.post("/submit", data={"csrf_token": token}).status_code == 403


def test_custom_header_name(make_app: Any, client_for: Any, fetch_token: Any) -> None:
    client = client_for(make_app(csrf_header_name="X-XSRF"))
    token = fetch_token(client)
    assert client.post("/submit", headers={"x-xsrf": token}).status_code == 200
    assert client.post("/submit", headers={"x-csrf-token": token}).status_code == 403


# -- safe methods, 404s, the switch, the test client --------------------------------


def test_safe_methods_need_no_token(client: Client) -> None:
    assert client.get("/").status_code == 200
    assert client.head("/").status_code == 200
    assert client.options("/").status_code == 204


def test_unrouted_requests_are_404_or_405_not_403(client: Client) -> None:
    assert client.post("/nowhere").status_code == 404
    assert client.post("/").status_code == 405


def test_csrf_can_be_turned_off(make_app: Any, client_for: Any) -> None:
    assert _form_post(client_for(make_app(csrf_enabled=False)), None).status_code == 200


def test_test_clients_skip_the_check_unless_asked(app: App) -> None:
    assert _form_post(TestClient(app), None).status_code == 200
    assert _form_post(TestClient(app, enforce_csrf_checks=True), None).status_code == 403


# -- where a request cannot carry the visitor's authority ---------------------------


def test_bearer_requests_are_exempt(client: Client, fetch_token: Any) -> None:
    fetch_token(client)  # cookies are present, and still no token is needed
    response = client.post("/submit", data={"a": "1"}, headers={"authorization": "Bearer abc.def"})
    assert response.status_code == 200
    basic = client.post("/submit", data={"a": "1"}, headers={"authorization": "Basic YTpi"})
    assert basic.status_code == 403  # browsers resend Basic credentials by themselves


def test_cookieless_json_is_exempt(app: App, client_for: Any, fetch_token: Any) -> None:
    fresh = client_for(app)
    assert fresh.post("/submit", json={"a": 1}).status_code == 200
    assert (
        fresh.post(
            "/submit", content=b"{}", headers={"content-type": "application/vnd.api+json"}
        ).status_code
        == 200
    )
    # Not JSON: a cross-site form can send these without a preflight.
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = fresh.post("/submit", content=b"{}", headers={"content-type": content_type})
        assert response.status_code == 403, content_type
    # With cookies, JSON needs the token like anything else.
    withcookie = client_for(app)
    fetch_token(withcookie)
    assert withcookie.post("/submit", json={"a": 1}).status_code == 403


# -- origin and referer --------------------------------------------------------------


def test_cross_origin_post_is_403_even_with_a_token(client: Client, fetch_token: Any) -> None:
    token = fetch_token(client)
    evil = _form_post(client, token, headers={"origin": "https://evil.example"})
    assert evil.status_code == 403
    null = _form_post(client, token, headers={"origin": "null"})
    assert null.status_code == 403
    same = _form_post(client, token, headers={"origin": "http://testserver"})
    assert same.status_code == 200


def test_origin_mismatch_under_https(make_app: Any, client_for: Any, fetch_token: Any) -> None:
    app = make_app(allowed_hosts=["example.com"])
    client = client_for(app, "https://example.com")
    token = fetch_token(client)
    headers = {"referer": "https://example.com/form"}
    assert (
        _form_post(client, token, headers={"origin": "https://example.com", **headers}).status_code
        == 200
    )
    assert (
        _form_post(client, token, headers={"origin": "https://example.com:443"}).status_code == 200
    )
    for origin in (
        "http://example.com",
        "https://example.com:8443",
        "https://sub.example.com",
        "https://example.com.evil.example",
        "null",
        "garbage",
    ):
        assert _form_post(client, token, headers={"origin": origin}).status_code == 403, origin


def test_https_without_origin_needs_a_same_site_referer(
    make_app: Any, client_for: Any, fetch_token: Any
) -> None:
    client = client_for(make_app(allowed_hosts=["example.com"]), "https://example.com")
    token = fetch_token(client)
    assert _form_post(client, token).status_code == 403  # no Origin, no Referer
    ok = _form_post(client, token, headers={"referer": "https://example.com/page?x=1"})
    assert ok.status_code == 200
    for referer in ("https://evil.example/", "http://example.com/page", "not a url"):
        assert _form_post(client, token, headers={"referer": referer}).status_code == 403


def test_trusted_origins(make_app: Any, client_for: Any, fetch_token: Any) -> None:
    app = make_app(
        allowed_hosts=["example.com"],
        csrf_trusted_origins=["https://admin.example.net", "https://*.example.org"],
    )
    client = client_for(app, "https://example.com")
    token = fetch_token(client)
    for origin, status in (
        ("https://admin.example.net", 200),
        ("https://shop.example.org", 200),
        ("https://a.b.example.org", 200),
        ("https://example.org", 403),
        ("http://shop.example.org", 403),
        ("https://evilexample.org", 403),
    ):
        assert _form_post(client, token, headers={"origin": origin}).status_code == status, origin
    referred = _form_post(client, token, headers={"referer": "https://admin.example.net/x"})
    assert referred.status_code == 200


@pytest.mark.parametrize("entry", ["admin.example.net", "ftp://x.example", "https://x.example/p"])
def test_bad_trusted_origins_are_refused_at_startup(make_app: Any, entry: str) -> None:
    from satchel.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="csrf_trusted_origins"):
        make_app(csrf_trusted_origins=[entry]).freeze()


# -- exemptions ----------------------------------------------------------------------


def test_csrf_exempt_route_decorator_and_option(make_app: Any, client_for: Any) -> None:
    app = make_app()

    @csrf_exempt
    @app.post("/hook")
    async def hook() -> str:
        return "hooked"

    @app.post("/hook2")
    @csrf_exempt
    async def hook2() -> str:
        return "hooked2"

    @app.post("/hook3", csrf_exempt=True)
    async def hook3() -> str:
        return "hooked3"

    client = client_for(app)
    assert client.post("/hook", content=b"x").text == "hooked"
    assert client.post("/hook2", content=b"x").text == "hooked2"
    assert client.post("/hook3", content=b"x").text == "hooked3"
    assert client.post("/submit", content=b"x").status_code == 403


def test_csrf_exempt_module_covers_its_children_only(make_app: Any, client_for: Any) -> None:
    app = make_app()
    api = csrf_exempt(Module("api", prefix="/api"))
    v1 = Module("v1", prefix="/v1")
    web = Module("web", prefix="/web")
    for module in (api, v1, web):

        @module.post("/do")
        async def do() -> str:
            return "done"

    api.include(v1)
    app.include(api)
    app.include(web)
    client = client_for(app)
    assert client.post("/api/do", content=b"x").status_code == 200
    assert client.post("/api/v1/do", content=b"x").status_code == 200
    assert client.post("/web/do", content=b"x").status_code == 403

    attr = Module("attr", prefix="/attr")
    attr.csrf_exempt = True

    @attr.post("/do")
    async def attr_do() -> str:
        return "done"

    app2 = make_app()
    app2.include(attr)
    assert client_for(app2).post("/attr/do", content=b"x").status_code == 200


# -- the failure page ----------------------------------------------------------------


def test_failure_says_why_in_debug_only(make_app: Any, client_for: Any, fetch_token: Any) -> None:
    debug = client_for(make_app(debug=True))
    fetch_token(debug)
    page = debug.post("/submit", data={"a": "1"}, headers={"accept": "text/html"})
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "CSRF token missing" in page.text
    assert "csrf_input()" in page.text

    production = client_for(make_app())
    fetch_token(production)
    generic = production.post("/submit", data={"a": "1"}, headers={"accept": "text/html"})
    assert generic.status_code == 403
    assert "CSRF verification failed" in generic.text
    assert "csrf_input" not in generic.text


def test_failure_is_logged(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    client.post("/submit", data={"a": "1"})
    assert "CSRF check failed for POST /submit" in caplog.text


def test_app_error_handler_renders_the_failure(make_app: Any, client_for: Any) -> None:
    app = make_app()

    @app.error_handler(CSRFError)
    async def csrf_page(request: Request, exc: CSRFError) -> tuple[str, int]:
        return f"<h1>Please reload the form</h1><!-- {exc.reason[:20]} -->", 403

    response = client_for(app).post("/submit", data={"a": "1"})
    assert response.status_code == 403
    assert "Please reload the form" in response.text
    assert response.headers["x-frame-options"] == "DENY"


def test_unreadable_form_is_400_or_413_not_403(
    make_app: Any, client_for: Any, fetch_token: Any
) -> None:
    client = client_for(make_app(max_form_fields=3))
    fetch_token(client)
    many = client.post("/submit", data={f"f{i}": "v" for i in range(10)})
    assert many.status_code == 413
    broken = client.post(
        "/submit", content=b"--x\r\n", headers={"content-type": "multipart/form-data"}
    )
    assert broken.status_code == 400


def test_handler_can_read_the_form_after_the_check(
    make_app: Any, client_for: Any, fetch_token: Any
) -> None:
    app = make_app()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        form = await request.form()
        return {"name": form.get("name")}

    client = client_for(app)
    token = fetch_token(client)
    assert client.post("/echo", data={"name": "Ada", "csrf_token": token}).json() == {"name": "Ada"}


def test_without_sessions_tokens_cannot_be_checked(make_app: Any, client_for: Any) -> None:
    client = client_for(make_app(sessions_enabled=False, debug=True))
    refused = client.post("/submit", data={"a": "1"})
    assert refused.status_code == 403
    assert "sessions are off" in refused.json()["detail"]
    # Requests that need no token still pass.
    assert client.post("/submit", json={"a": 1}).status_code == 200
    assert (
        client.post("/submit", data={"a": 1}, headers={"authorization": "Bearer t"}).status_code
        == 200
    )
