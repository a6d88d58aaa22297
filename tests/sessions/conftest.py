"""Shared helpers for the session tests: apps with a few session routes, server URLs."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from satchel import App, Request
from satchel.sessions import SessionStore

KEY = "k" * 24 + "-current-secret-key-for-tests"
OLD_KEY = "o" * 24 + "-previous-secret-key-for-tests"


def _session_app(**settings: Any) -> App:
    """Return an app whose routes read, write, cycle and clear the session."""
    settings.setdefault("secret_key", KEY)
    app = App(**settings)

    @app.get("/untouched")
    async def untouched() -> str:
        return "nothing"

    @app.get("/read")
    async def read(request: Request) -> dict[str, Any]:
        return {"data": dict(request.session), "is_new": request.session.is_new}

    @app.get("/set/{name}/{value}")
    async def set_value(request: Request, name: str, value: str) -> dict[str, Any]:
        request.session[name] = value
        return dict(request.session)

    @app.get("/count")
    async def count(request: Request) -> dict[str, int]:
        request.session["count"] = request.session.get("count", 0) + 1
        return {"count": request.session["count"]}

    @app.get("/login/{user}")
    async def login(request: Request, user: str) -> str:
        request.session.cycle_key()
        request.session["user"] = user
        return "ok"

    @app.get("/logout")
    async def logout(request: Request) -> str:
        request.session.invalidate()
        return "bye"

    @app.get("/clear")
    async def clear(request: Request) -> str:
        request.session.clear()
        return "cleared"

    return app


def _store_of(app: App) -> SessionStore:
    """Return the app's session store (freezes the app)."""
    app.freeze()
    store = app.extensions["sessions"]
    assert isinstance(store, SessionStore)
    return store


def _set_cookies(response: Any) -> list[str]:
    """Return the response's Set-Cookie header values."""
    return list(response.headers.get_list("set-cookie"))


def _server_url(env: str, reachable: Callable[[str], None]) -> str:
    """Return the test server URL from ``env``; skip if unset or down, fail when CI=true."""
    url = os.environ.get(env)
    if not url:
        pytest.skip(f"{env} is not set")
    try:
        reachable(url)
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{env}={url} is unreachable under CI: {exc}")
        pytest.skip(f"{env}={url} is unreachable: {exc}")
    return url


@pytest.fixture
def make_app() -> Callable[..., App]:
    """Return the factory of apps with session routes (settings as keywords)."""
    return _session_app


@pytest.fixture
def store_of() -> Callable[[App], SessionStore]:
    """Return the function giving an app's session store."""
    return _store_of


@pytest.fixture
def set_cookies() -> Callable[[Any], list[str]]:
    """Return the function listing a response's Set-Cookie values."""
    return _set_cookies


@pytest.fixture
def server_url() -> Callable[[str, Callable[[str], None]], str]:
    """Return the function reading a test server's URL (skip, or fail under CI)."""
    return _server_url
