"""Hooks, typed middleware, ASGI middleware and error handlers."""

from satchel import App, HTTPException, Module, NotFound, PlainTextResponse, Request, Response
from satchel.testing import TestClient
from satchel.types import Receive, Scope, Send


def test_before_and_after_hooks_order_and_short_circuit():
    app = App()
    order: list[str] = []
    module = Module("m", prefix="/m")

    @app.before_request
    async def app_before(request: Request) -> None:
        order.append("app-before")
        if request.query.get("stop"):
            return "stopped"  # type: ignore[return-value]
        return None

    @module.before_request
    def module_before(request: Request) -> None:
        order.append("module-before")

    @module.after_request
    def module_after(request: Request, response: Response) -> None:
        order.append("module-after")

    @app.after_request
    async def app_after(request: Request, response: Response) -> Response:
        order.append("app-after")
        response.headers["x-after"] = "yes"
        return response

    @module.get("/x")
    async def x() -> str:
        order.append("handler")
        return "x"

    app.include(module)
    client = TestClient(app)
    got = client.get("/m/x")
    assert got.text == "x"
    assert got.headers["x-after"] == "yes"
    assert order == ["app-before", "module-before", "handler", "module-after", "app-after"]
    order.clear()
    assert client.get("/m/x?stop=1").text == "stopped"
    assert order == ["app-before", "module-after", "app-after"]


def test_typed_middleware_wraps_and_sees_error_responses():
    app = App()

    @app.middleware
    async def timing(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers["x-mw"] = str(response.status_code)
        return response

    @app.get("/ok")
    async def ok() -> str:
        return "ok"

    @app.get("/bad")
    async def bad() -> str:
        raise HTTPException(418, "teapot")

    client = TestClient(app)
    assert client.get("/ok").headers["x-mw"] == "200"
    assert client.get("/bad").headers["x-mw"] == "418"
    assert client.get("/nope").headers["x-mw"] == "404"


def test_module_middleware_only_wraps_module_routes():
    app = App()
    module = Module("api", prefix="/api")

    @module.middleware
    async def tag(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers["x-api"] = "1"
        return response

    @module.get("/a")
    async def a() -> str:
        return "a"

    @app.get("/b")
    async def b() -> str:
        return "b"

    app.include(module)
    client = TestClient(app)
    assert client.get("/api/a").headers.get("x-api") == "1"
    assert "x-api" not in client.get("/b").headers


def test_asgi_middleware():
    class AddHeader:
        def __init__(self, app, value: str) -> None:  # type: ignore[no-untyped-def]
            self.app = app
            self.value = value

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def wrapped(message):  # type: ignore[no-untyped-def]
                if message["type"] == "http.response.start":
                    message["headers"] = [*message["headers"], (b"x-asgi", self.value.encode())]
                await send(message)

            await self.app(scope, receive, wrapped)

    app = App()
    app.add_middleware(AddHeader, value="on")

    @app.get("/")
    async def index() -> str:
        return "i"

    assert TestClient(app).get("/").headers["x-asgi"] == "on"


def test_error_handlers_by_class_and_status_and_module_first():
    app = App()
    module = Module("m", prefix="/m")

    class Oops(Exception):
        pass

    @app.error_handler(Oops)
    async def oops(request: Request, exc: Oops) -> tuple:
        return {"handled": "app"}, 409

    @app.error_handler(404)
    def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("custom 404", status_code=404)

    @module.error_handler(Oops)
    async def module_oops(request: Request, exc: Oops) -> tuple:
        return {"handled": "module"}, 409

    @app.get("/a")
    async def a() -> str:
        raise Oops()

    @module.get("/b")
    async def b() -> str:
        raise Oops()

    @app.get("/c")
    async def c() -> str:
        raise NotFound()

    app.include(module)
    client = TestClient(app)
    assert client.get("/a").json() == {"handled": "app"}
    assert client.get("/m/b").json() == {"handled": "module"}
    assert client.get("/c").text == "custom 404"
    assert client.get("/unrouted").text == "custom 404"


def test_failing_error_handler_falls_back_to_500():
    app = App()

    @app.error_handler(ValueError)
    async def broken(request: Request, exc: Exception) -> str:
        raise RuntimeError("handler broke")

    @app.get("/")
    async def index() -> str:
        raise ValueError("x")

    got = TestClient(app, raise_server_exceptions=False).get("/")
    assert got.status_code == 500
