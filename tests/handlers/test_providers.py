"""Providers: values supplied by type or name for one request, with cleanup."""

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import pytest

from satchel import App, HTTPException, Module, Provide, Request
from satchel.exceptions import ImproperlyConfigured
from satchel.testing import TestClient


class Session:
    def __init__(self) -> None:
        self.events: list[str] = []


def test_async_generator_provider_commits_or_rolls_back():
    app = App()
    log: list[str] = []

    @app.provider
    async def session() -> AsyncIterator[Session]:
        s = Session()
        try:
            yield s
        except Exception as exc:
            log.append(f"rollback:{type(exc).__name__}")
            raise
        else:
            log.append("commit")
        finally:
            log.append("close")

    @app.get("/ok")
    async def ok(s: Session) -> str:
        return "ok"

    @app.get("/fail")
    async def fail(s: Session) -> str:
        raise HTTPException(409, "conflict")

    client = TestClient(app)
    assert client.get("/ok").text == "ok"
    assert log == ["commit", "close"]
    log.clear()
    assert client.get("/fail").status_code == 409
    assert log == ["rollback:HTTPException", "close"]


def test_sync_generator_provider_runs_cleanup():
    app = App()
    log: list[str] = []

    @app.provider
    def resource() -> Iterator[Session]:
        yield Session()
        log.append("cleaned")

    @app.get("/")
    def handler(r: Session) -> str:
        return type(r).__name__

    assert TestClient(app).get("/").text == "Session"
    assert log == ["cleaned"]


def test_provider_by_name_and_nested_providers_are_cached_per_request():
    app = App()
    calls: list[str] = []

    @app.provider(name="settings")
    def settings() -> dict:
        calls.append("settings")
        return {"greeting": "hi"}

    @app.provider(name="greeter")
    async def greeter(settings: dict, request: Request) -> str:
        calls.append("greeter")
        return f"{settings['greeting']} {request.query.get('who', 'you')}"

    @app.get("/")
    async def handler(greeter: str, settings: dict) -> dict:
        return {"text": greeter, "same": settings["greeting"]}

    client = TestClient(app)
    assert client.get("/?who=bob").json() == {"text": "hi bob", "same": "hi"}
    assert calls == ["settings", "greeter"]
    client.get("/")
    assert calls.count("settings") == 2  # once per request, not cached across requests


def test_explicit_provide_marker():
    app = App()

    async def current_user(request: Request) -> str:
        return request.headers.get("x-user", "anonymous")

    CurrentUser = Annotated[str, Provide(current_user)]

    @app.get("/me")
    async def me(user: CurrentUser) -> dict:
        return {"user": user}

    client = TestClient(app)
    assert client.get("/me", headers={"x-user": "ann"}).json() == {"user": "ann"}
    assert client.get("/me").json() == {"user": "anonymous"}


def test_provider_can_raise_http_errors():
    app = App()

    @app.provider(name="token")
    async def token(request: Request) -> str:
        value = request.headers.get("authorization")
        if value is None:
            raise HTTPException(401, "Log in first")
        return value

    @app.get("/")
    async def handler(token: str) -> str:
        return token

    client = TestClient(app)
    assert client.get("/").status_code == 401
    assert client.get("/", headers={"authorization": "t"}).text == "t"


def test_module_providers_override_app_ones():
    app = App()
    module = Module("mod", prefix="/mod")

    @app.provider(name="who")
    def app_who() -> str:
        return "app"

    @module.provider(name="who")
    def module_who() -> str:
        return "module"

    @app.get("/")
    async def root(who: str) -> str:
        return who

    @module.get("/")
    async def inner(who: str) -> str:
        return who

    app.include(module)
    client = TestClient(app)
    assert client.get("/").text == "app"
    assert client.get("/mod/").text == "module"


def test_provider_loop_is_a_startup_error():
    app = App()

    @app.provider(name="a")
    def a(b: str) -> str:
        return b

    @app.provider(name="b")
    def b(a: str) -> str:
        return a

    @app.get("/")
    async def handler(a: str) -> str:
        return a

    with pytest.raises(ImproperlyConfigured, match="loop"):
        app.freeze()


def test_provider_without_type_or_name_is_refused():
    app = App()
    with pytest.raises(ImproperlyConfigured, match="no return annotation"):

        @app.provider
        def nothing():  # type: ignore[no-untyped-def]
            return 1


def test_provider_dependencies_resolve_in_each_routes_scope():
    app = App()
    module = Module("mod", prefix="/mod")

    @app.provider(name="db")
    def app_db() -> str:
        return "app-db"

    @module.provider(name="db")
    def module_db() -> str:
        return "module-db"

    @app.provider(name="repo")
    def repo(db: str) -> str:
        return f"repo({db})"

    @module.get("/")
    async def inner(repo: str) -> str:
        return repo

    @app.get("/")
    async def outer(repo: str) -> str:
        return repo

    app.include(module)
    client = TestClient(app)
    assert client.get("/mod/").text == "repo(module-db)"
    assert client.get("/").text == "repo(app-db)"


def test_unregistered_provide_function_runs_once_per_request():
    app = App()
    calls: list[int] = []

    async def counter() -> int:
        calls.append(1)
        return len(calls)

    Counted = Annotated[int, Provide(counter)]

    @app.provider(name="doubled")
    async def doubled(n: Counted) -> int:
        return n * 2

    @app.get("/")
    async def handler(n: Counted, doubled: int) -> dict:
        return {"n": n, "doubled": doubled}

    assert TestClient(app).get("/").json() == {"n": 1, "doubled": 2}
    assert calls == [1]
