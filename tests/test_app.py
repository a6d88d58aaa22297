"""The public contract from the core issue, end to end through the TestClient."""

import dataclasses

import pytest
from pydantic import BaseModel

from satchel import App, HTMLResponse, JSONResponse, NotFound, PlainTextResponse, Response
from satchel.exceptions import ImproperlyConfigured
from satchel.testing import TestClient


class ItemIn(BaseModel):
    name: str
    price: float


@dataclasses.dataclass
class Point:
    x: int
    y: int


def make_app() -> App:
    app = App()

    @app.get("/")
    def index() -> str:
        return "<h1>Hello</h1>"

    @app.get("/users/{id:int}")
    async def user(id: int) -> dict:
        return {"id": id}

    @app.post("/items", status_code=201)
    async def create(item: ItemIn) -> ItemIn:
        return item

    @app.get("/point")
    async def point() -> Point:
        return Point(1, 2)

    @app.get("/list")
    async def listing() -> list:
        return [1, 2, 3]

    @app.get("/none")
    async def nothing() -> None:
        return None

    @app.get("/tuple")
    async def tup() -> tuple:
        return "made", 202

    @app.get("/tuple3")
    async def tup3() -> tuple:
        return {"ok": True}, 200, {"X-Extra": "1"}

    @app.get("/bytes")
    async def raw() -> bytes:
        return b"\x00\x01"

    @app.get("/text")
    async def text() -> PlainTextResponse:
        return PlainTextResponse("plain")

    @app.get("/missing")
    async def missing() -> str:
        raise NotFound("No such thing")

    @app.route("/multi", methods=["GET", "POST"])
    async def multi(request: __import__("satchel").Request) -> str:
        return request.method

    return app


@pytest.fixture
def client():
    return TestClient(make_app())


def test_str_is_html(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<h1>Hello</h1>"
    assert response.headers["content-length"] == "14"


def test_dict_is_json_and_path_int(client):
    response = client.get("/users/3")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"id": 3}


def test_model_body_validated(client):
    response = client.post("/items", json={"name": "pen", "price": "1.5"})
    assert response.status_code == 201
    assert response.json() == {"name": "pen", "price": 1.5}
    bad = client.post("/items", json={"name": "pen"})
    assert bad.status_code == 422
    body = bad.json()
    assert body["errors"] == [
        {"loc": ["body", "price"], "msg": "Field required", "type": "missing"}
    ]


def test_other_return_types(client):
    assert client.get("/point").json() == {"x": 1, "y": 2}
    assert client.get("/list").json() == [1, 2, 3]
    none = client.get("/none")
    assert none.status_code == 204
    assert none.content == b""
    made = client.get("/tuple")
    assert (made.status_code, made.text) == (202, "made")
    three = client.get("/tuple3")
    assert three.headers["x-extra"] == "1"
    assert three.json() == {"ok": True}
    raw = client.get("/bytes")
    assert raw.headers["content-type"] == "application/octet-stream"
    assert raw.content == b"\x00\x01"
    assert client.get("/text").headers["content-type"] == "text/plain; charset=utf-8"


def test_url_for():
    app = make_app()
    assert app.url_for("user", id=3) == "/users/3"
    assert app.url_for("user", id=3, q="a b") == "/users/3?q=a+b"
    with pytest.raises(ImproperlyConfigured):
        app.url_for("nope")


def test_not_found_and_http_exceptions(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
    missing = client.get("/missing")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No such thing"
    page = client.get("/missing", headers={"accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "No such thing" in page.text


def test_method_not_allowed_head_options(client):
    response = client.delete("/users/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    head = client.head("/users/1")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == "8"
    options = client.options("/multi")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert client.post("/multi").text == "POST"


def test_trailing_slash_redirect(client):
    response = client.get("/users/1/?a=1", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/users/1?a=1"
    assert client.get("/users/1/").json() == {"id": 1}


def test_trailing_slash_redirect_can_be_off():
    app = App(redirect_slashes=False)

    @app.get("/a")
    async def a() -> str:
        return "a"

    assert TestClient(app).get("/a/", follow_redirects=False).status_code == 404


def test_response_classes_pass_through():
    app = App()

    @app.get("/r")
    async def r() -> Response:
        response = HTMLResponse("<p>x</p>", status_code=203, headers={"X-A": "b"})
        response.set_cookie("k", "v")
        return response

    @app.get("/j")
    async def j() -> JSONResponse:
        return JSONResponse({"a": [1]}, status_code=400)

    client = TestClient(app)
    got = client.get("/r")
    assert got.status_code == 203
    assert got.headers["x-a"] == "b"
    assert "HttpOnly" in got.headers["set-cookie"]
    assert "SameSite=Lax" in got.headers["set-cookie"]
    assert "Secure" not in got.headers["set-cookie"]
    assert client.cookies["k"] == "v"
    assert client.get("/j").status_code == 400


def test_cookie_is_secure_under_https():
    app = App()

    @app.get("/c")
    async def c() -> Response:
        response = Response("x")
        response.set_cookie("k", "v")
        return response

    got = TestClient(app, base_url="https://testserver").get("/c")
    assert "Secure" in got.headers["set-cookie"]


def test_unsupported_return_type_is_500_with_clear_log(caplog):
    app = App()

    @app.get("/weird")
    async def weird() -> object:
        return object()

    response = TestClient(app, raise_server_exceptions=False).get("/weird")
    assert response.status_code == 500
    assert "object" not in response.text  # no details leak in production
    assert "returned object" in caplog.text or "returned object" in str(caplog.records)


def test_debug_page_shows_traceback():
    app = App(debug=True)

    @app.get("/boom")
    async def boom() -> str:
        raise RuntimeError("kaboom")

    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/boom", headers={"accept": "text/html"})
    assert page.status_code == 500
    assert "kaboom" in page.text
    assert "Traceback" in page.text


def test_production_500_hides_details():
    app = App(debug=False)

    @app.get("/boom")
    async def boom() -> str:
        raise RuntimeError("secret-detail")

    client = TestClient(app, raise_server_exceptions=False)
    for accept in ("text/html", "application/json"):
        page = client.get("/boom", headers={"accept": accept})
        assert page.status_code == 500
        assert "secret-detail" not in page.text
        assert "Traceback" not in page.text


def test_raise_server_exceptions_reraises():
    app = App()

    @app.get("/boom")
    async def boom() -> str:
        raise RuntimeError("up")

    with pytest.raises(RuntimeError, match="up"):
        TestClient(app).get("/boom")


def test_sync_handlers_run_in_threads():
    import threading

    app = App()
    main = threading.get_ident()

    @app.get("/sync")
    def sync_handler() -> dict:
        return {"other_thread": threading.get_ident() != main}

    assert TestClient(app).get("/sync").json() == {"other_thread": True}


def test_conflicting_routes_named_at_startup():
    app = App()

    @app.get("/a/{x}")
    async def first(x: str) -> str:
        return x

    @app.get("/a/{y}")
    async def second(y: str) -> str:
        return y

    with pytest.raises(ImproperlyConfigured) as info:
        app.freeze()
    assert "first" in str(info.value) and "second" in str(info.value)


def test_custom_converter_on_app():
    from satchel import Converter

    class Upper(Converter):
        regex = "[A-Z]+"

        def convert(self, value: str) -> str:
            if not value.isupper():
                raise ValueError(value)
            return value

    app = App()
    app.register_converter("upper", Upper())

    @app.get("/code/{c:upper}")
    async def code(c: str) -> str:
        return c

    client = TestClient(app)
    assert client.get("/code/ABC").text == "ABC"
    assert client.get("/code/abc").status_code == 404
    assert app.url_for("code", c="XY") == "/code/XY"


def test_registering_after_freeze_is_an_error():
    app = App()

    @app.get("/")
    async def index() -> str:
        return "i"

    app.freeze()
    with pytest.raises(ImproperlyConfigured, match="after the app has started"):

        @app.get("/late")
        async def late() -> str:
            return "late"

    with pytest.raises(ImproperlyConfigured, match="after the app has started"):
        app.before_request(lambda request: None)


def test_none_with_status_has_no_content_type():
    app = App()

    @app.post("/made", status_code=201)
    async def made() -> None:
        return None

    got = TestClient(app).post("/made")
    assert got.status_code == 201
    assert "content-type" not in got.headers


def test_samesite_none_without_secure_fails_where_it_is_set():
    response = Response("x")
    with pytest.raises(ValueError, match="Secure"):
        response.set_cookie("k", "v", secure=False, samesite="none")
    response.set_cookie("k", "v", samesite="none")  # secure resolved to True: fine


def test_sync_websocket_handler_is_refused():
    app = App()
    with pytest.raises(ImproperlyConfigured, match="async"):

        @app.websocket("/ws")
        def ws(websocket) -> None:  # type: ignore[no-untyped-def]
            return None


def test_slash_redirect_only_when_the_other_path_takes_the_method():
    app = App()

    @app.get("/a")
    async def a() -> str:
        return "a"

    client = TestClient(app)
    assert client.post("/a/", follow_redirects=False).status_code == 404
    assert client.get("/a/", follow_redirects=False).status_code == 308
