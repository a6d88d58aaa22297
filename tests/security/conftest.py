"""Fixtures for the security tests: apps with a strong key, clients that enforce CSRF.

Test clients skip the CSRF check unless built with ``enforce_csrf_checks=True``;
every client here enforces it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from satchel import App, Request
from satchel.security import csrf_token
from satchel.testing import TestClient

KEY = "security-tests-" + "Q7v#" * 12  # strong: 63 characters, many distinct

MakeApp = Callable[..., App]
ClientFor = Callable[..., TestClient]
FetchToken = Callable[[TestClient], str]


def _make_app(**settings: Any) -> App:
    """Return an app with a strong key, a page that hands out a CSRF token, and a form."""
    settings.setdefault("secret_key", KEY)
    app = App(**settings)

    @app.get("/")
    async def index() -> str:
        return "home"

    @app.get("/token")
    async def token(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request)}

    @app.route("/submit", methods=["POST", "PUT", "PATCH", "DELETE"])
    async def submit(request: Request) -> str:
        return f"accepted {request.method}"

    return app


def _client_for(app: App, base_url: str = "http://testserver", **kwargs: Any) -> TestClient:
    return TestClient(app, base_url=base_url, enforce_csrf_checks=True, **kwargs)


def _fetch_token(client: TestClient) -> str:
    response = client.get("/token")
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


@pytest.fixture
def make_app() -> MakeApp:
    """``make_app(**settings)``: an app with /, /token (a CSRF token) and /submit."""
    return _make_app


@pytest.fixture
def client_for() -> ClientFor:
    """``client_for(app, base_url=...)``: a test client that enforces CSRF."""
    return _client_for


@pytest.fixture
def fetch_token() -> FetchToken:
    """``fetch_token(client)``: GET /token (the secret goes into the session); the token."""
    return _fetch_token


@pytest.fixture
def app() -> App:
    return _make_app()


@pytest.fixture
def client(app: App) -> TestClient:
    return _client_for(app)
