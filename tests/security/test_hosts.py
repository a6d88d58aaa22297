"""Allowed hosts, trusted proxies and the https redirect."""

from __future__ import annotations

from typing import Any

import pytest

from satchel import App, Request
from satchel.exceptions import ImproperlyConfigured
from satchel.security.hosts import AllowedHosts, TrustedProxies, split_host


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("example.com", True),
        ("EXAMPLE.com", True),
        ("example.com.", True),
        ("example.com:8443", True),
        ("www.example.com", False),
        ("shop.example.org", True),
        ("example.org", True),
        ("a.b.example.org", True),
        ("badexample.org", False),
        ("example.org.evil.com", False),
        ("[::1]", True),
        ("[::1]:8000", True),
        ("evil.com", False),
        ("example.com@evil.com", False),
        ("example.com/evil", False),
        ("example.com evil.com", False),
        ("exämple.com", False),
        ("example.com:port", False),
        ("", False),
        (":80", False),
    ],
)
def test_allowed_hosts_patterns(host: str, allowed: bool) -> None:
    hosts = AllowedHosts(["example.com", ".example.org", "[::1]"])
    assert (host in hosts) is allowed
    assert (host in hosts) is allowed  # the cache answers the same


def test_star_allows_any_well_formed_host() -> None:
    hosts = AllowedHosts(["*"])
    assert "anything.example" in hosts
    assert "bad host" not in hosts


@pytest.mark.parametrize(
    "entry",
    [
        "https://example.com",
        "example.com/path",
        "*.example.com",
        "example.com:8000",
        "exa mple.com",
    ],
)
def test_bad_entries_are_refused_with_a_hint(entry: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="allowed_hosts entry"):
        AllowedHosts([entry])


def test_split_host() -> None:
    assert split_host("Example.COM.:80") == ("example.com", "80")
    assert split_host("[2001:db8::1]:443") == ("[2001:db8::1]", "443")
    assert split_host("a b") is None


def test_production_default_accepts_only_local_names(make_app: Any, client_for: Any) -> None:
    client = client_for(make_app())
    for host in ("localhost", "localhost:8000", "127.0.0.1:8000", "[::1]", "testserver"):
        assert client.get("/", headers={"host": host}).status_code == 200, host
    for host in ("example.com", "sub.localhost", "127.0.0.2"):
        assert client.get("/", headers={"host": host}).status_code == 400, host


def test_debug_default_accepts_localhost_subdomains(make_app: Any, client_for: Any) -> None:
    client = client_for(make_app(debug=True))
    assert client.get("/", headers={"host": "api.localhost:8000"}).status_code == 200
    assert client.get("/", headers={"host": "example.com"}).status_code == 400


def test_disallowed_host_message_is_clear_in_debug_only(
    make_app: Any, client_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"host": "evil.example:8000", "accept": "text/html"}
    debug = client_for(make_app(debug=True)).get("/", headers=headers)
    assert debug.status_code == 400
    assert "add &#x27;evil.example&#x27; to allowed_hosts" in debug.text
    production = client_for(make_app()).get("/", headers=headers)
    assert production.status_code == 400
    assert "evil.example" not in production.text
    assert "unknown host" in production.text
    assert "disallowed host 'evil.example:8000'" in caplog.text


def test_configured_hosts_replace_the_defaults(make_app: Any, client_for: Any) -> None:
    client = client_for(make_app(allowed_hosts=[".example.com"]))
    assert client.get("/", headers={"host": "www.example.com"}).status_code == 200
    assert client.get("/", headers={"host": "testserver"}).status_code == 400


def test_missing_host_is_not_refused(make_app: Any) -> None:
    # HTTP/1.0 and some HTTP/2 stacks send none; nothing attacker-chosen reaches the app.
    import asyncio

    app = make_app()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "scheme": "http"}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200


# -- trusted proxies -----------------------------------------------------------------


def _proxy_app(make_app: Any, **settings: Any) -> App:
    app: App = make_app(**settings)

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, Any]:
        client = request.client
        forwarded = getattr(request.state, "forwarded_client", None)
        return {
            "scheme": request.scheme,
            "host": request.host,
            "url": str(request.url),
            "client": client.host if client else None,
            "forwarded_client": forwarded[0] if forwarded else None,
        }

    return app


FORWARDED = {
    "x-forwarded-proto": "https",
    "x-forwarded-host": "shop.example.com",
    "x-forwarded-for": "203.0.113.9, 10.0.0.7",
}


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    make_app: Any, client_for: Any
) -> None:
    app = _proxy_app(
        make_app, allowed_hosts=["shop.example.com", "testserver"], trusted_proxies=["10.0.0.0/8"]
    )
    client = client_for(app, client=("198.51.100.1", 5000))
    body = client.get("/whoami", headers=FORWARDED).json()
    assert body["scheme"] == "http"
    assert body["host"] == "testserver"
    assert body["client"] == "198.51.100.1"
    assert body["forwarded_client"] is None


def test_forwarded_headers_from_a_trusted_proxy_are_applied(make_app: Any, client_for: Any) -> None:
    app = _proxy_app(make_app, allowed_hosts=["shop.example.com"], trusted_proxies=["10.0.0.0/8"])
    client = client_for(app, client=("10.1.2.3", 5000))
    body = client.get("/whoami", headers=FORWARDED).json()
    assert body["scheme"] == "https"
    assert body["host"] == "shop.example.com"
    assert body["url"] == "https://shop.example.com/whoami"
    # 10.0.0.7 is a trusted hop; the client is the first address that is not.
    client_seen = body["client"] if body["forwarded_client"] is None else body["forwarded_client"]
    assert client_seen == "203.0.113.9"


def test_request_client_reflects_x_forwarded_for(make_app: Any, client_for: Any) -> None:
    app = _proxy_app(make_app, allowed_hosts=["shop.example.com"], trusted_proxies=["10.0.0.0/8"])
    client = client_for(app, client=("10.0.0.1", 5000))
    assert client.get("/whoami", headers=FORWARDED).json()["client"] == "203.0.113.9"


def test_forwarded_host_is_still_checked(make_app: Any, client_for: Any) -> None:
    app = _proxy_app(make_app, allowed_hosts=["shop.example.com"], trusted_proxies=["10.0.0.1"])
    client = client_for(app, client=("10.0.0.1", 5000))
    refused = client.get("/whoami", headers={**FORWARDED, "x-forwarded-host": "evil.example"})
    assert refused.status_code == 400


def test_the_nearest_proxy_wins_in_comma_lists(make_app: Any, client_for: Any) -> None:
    # A client can send its own X-Forwarded-* headers; a proxy appends, so the last
    # item is the one a trusted proxy wrote.
    app = _proxy_app(make_app, allowed_hosts=["shop.example.com"], trusted_proxies=["10.0.0.1"])
    client = client_for(app, client=("10.0.0.1", 5000))
    body = client.get(
        "/whoami",
        headers={
            "x-forwarded-proto": "https, http",
            "x-forwarded-host": "evil.example, shop.example.com",
            "x-forwarded-for": "10.0.0.1, 198.51.100.77",
        },
    ).json()
    assert body["scheme"] == "http"
    assert body["host"] == "shop.example.com"
    client_seen = body["client"] if body["forwarded_client"] is None else body["forwarded_client"]
    assert client_seen == "198.51.100.77"  # a forged "10.0.0.1" on the left is ignored


def test_garbage_forwarded_values_are_ignored() -> None:
    proxies = TrustedProxies(["10.0.0.1"])
    assert proxies.is_trusted("10.0.0.1")
    assert not proxies.is_trusted("not-an-ip")
    assert not proxies.is_trusted("10.0.0.2")
    assert TrustedProxies(["*"]).is_trusted("192.0.2.1")
    assert not TrustedProxies([])


def test_bad_proxy_entries_are_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"trusted_proxies entry 'proxy\.local'"):
        TrustedProxies(["proxy.local"])


def test_unknown_forwarded_proto_is_ignored(make_app: Any, client_for: Any) -> None:
    app = _proxy_app(make_app, allowed_hosts=["testserver"], trusted_proxies=["10.0.0.1"])
    client = client_for(app, client=("10.0.0.1", 5000))
    body = client.get("/whoami", headers={"x-forwarded-proto": "javascript"}).json()
    assert body["scheme"] == "http"


# -- https redirect ------------------------------------------------------------------


def test_https_redirect_is_a_308_to_the_same_url(make_app: Any, client_for: Any) -> None:
    app = make_app(https_redirect=True, allowed_hosts=["example.com"])
    client = client_for(app, "http://example.com", follow_redirects=False)
    response = client.post("/submit?x=1")
    assert response.status_code == 308
    assert response.headers["location"] == "https://example.com/submit?x=1"
    assert response.headers["x-frame-options"] == "DENY"
    secure = client_for(app, "https://example.com").get("/")
    assert secure.status_code == 200


def test_https_redirect_trusts_the_proxys_scheme(make_app: Any, client_for: Any) -> None:
    app = make_app(https_redirect=True, allowed_hosts=["example.com"], trusted_proxies=["10.0.0.1"])
    behind = client_for(app, "http://example.com", client=("10.0.0.1", 1), follow_redirects=False)
    assert behind.get("/", headers={"x-forwarded-proto": "https"}).status_code == 200
    spoofed = client_for(app, "http://example.com", client=("192.0.2.1", 1), follow_redirects=False)
    assert spoofed.get("/", headers={"x-forwarded-proto": "https"}).status_code == 308


def test_disallowed_host_is_refused_before_the_redirect(make_app: Any, client_for: Any) -> None:
    app = make_app(https_redirect=True, allowed_hosts=["example.com"])
    client = client_for(app, "http://evil.example", follow_redirects=False)
    assert client.get("/").status_code == 400  # never a redirect to the attacker's host
