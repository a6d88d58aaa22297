"""Startup and shutdown: hooks and a lifespan context manager."""

import contextlib

from satchel import App, Request
from satchel.testing import TestClient


def test_hooks_and_lifespan_run_in_order():
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App):  # type: ignore[no-untyped-def]
        events.append("enter")
        yield {"pool": "ready"}
        events.append("exit")

    app = App(lifespan=lifespan)

    @app.on_startup
    async def start() -> None:
        events.append("startup")

    @app.on_shutdown
    def stop() -> None:
        events.append("shutdown")

    @app.get("/")
    async def index(request: Request) -> dict:
        return {"pool": request.app.state["pool"]}

    with TestClient(app) as client:
        assert events == ["enter", "startup"]
        assert client.get("/").json() == {"pool": "ready"}
    assert events == ["enter", "startup", "shutdown", "exit"]


async def test_running_context_manager():
    events: list[str] = []
    app = App()
    app.on_startup(lambda: events.append("up"))
    app.on_shutdown(lambda: events.append("down"))
    async with app.running():
        assert events == ["up"]
    assert events == ["up", "down"]
