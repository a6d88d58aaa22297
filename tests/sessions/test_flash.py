"""Flash messages: queued in the session, shown once, with categories."""

from __future__ import annotations

from satchel import Request, redirect
from satchel.sessions import FLASH_KEY, flash, get_flashed_messages
from satchel.testing import TestClient


def flash_app(make_app):
    app = make_app()

    @app.get("/flash/{category}/{message}")
    async def add(request: Request, category: str, message: str) -> str:
        flash(request, message, category)
        return "queued"

    @app.get("/messages")
    async def messages(request: Request) -> list:
        return get_flashed_messages(request)

    return app


def test_flash_is_shown_once(make_app):
    client = TestClient(flash_app(make_app))
    client.get("/flash/success/Saved")
    client.get("/flash/error/Oops")
    assert client.get("/messages").json() == [["success", "Saved"], ["error", "Oops"]]
    assert client.get("/messages").json() == []


def test_no_messages_no_cookie(make_app):
    client = TestClient(flash_app(make_app))
    response = client.get("/messages")
    assert response.json() == []
    assert "set-cookie" not in response.headers
    assert response.headers["vary"] == "Cookie"


def test_reading_marks_the_session_modified_only_when_there_were_some(make_app):
    app = flash_app(make_app)
    client = TestClient(app)
    client.get("/set/user/alice")
    assert "set-cookie" not in client.get("/messages").headers
    client.get("/flash/info/hi")
    response = client.get("/messages")
    assert "set-cookie" in response.headers
    assert client.get("/read").json()["data"] == {"user": "alice"}


def test_default_category_and_filters(make_app):
    app = make_app()

    @app.get("/queue")
    async def queue(request: Request) -> str:
        flash(request, "plain")
        flash(request, "bad", "error")
        flash(request, "careful", "warning")
        return "ok"

    @app.get("/show")
    async def show(request: Request) -> dict:
        return {
            "errors": get_flashed_messages(request, category_filter=["error"]),
            "texts": get_flashed_messages(request, with_categories=False),
            "again": get_flashed_messages(request),
        }

    client = TestClient(app)
    client.get("/queue")
    assert client.get("/show").json() == {
        "errors": [["error", "bad"]],
        "texts": ["plain", "bad", "careful"],
        "again": [["info", "plain"], ["error", "bad"], ["warning", "careful"]],
    }
    assert client.get("/show").json() == {"errors": [], "texts": [], "again": []}


def test_redirect_after_post(make_app):
    from satchel.security import csrf_token

    app = make_app()

    @app.get("/new")
    async def new(request: Request) -> dict:
        return {"token": csrf_token(request)}

    @app.post("/items")
    async def create(request: Request):
        flash(request, "Item created", "success")
        return redirect("/items")

    @app.get("/items")
    async def items(request: Request) -> dict:
        return {"messages": get_flashed_messages(request)}

    client = TestClient(app)
    token = client.get("/new").json()["token"]
    response = client.post("/items", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert client.get(response.headers["location"]).json() == {
        "messages": [["success", "Item created"]]
    }
    assert client.get("/items").json() == {"messages": []}


def test_flash_is_exported_from_satchel():
    import satchel

    assert satchel.flash is flash


def test_markup_is_stored_as_plain_text(make_app):
    app = make_app()

    class Markup(str):
        def __html__(self) -> str:
            return str(self)

    @app.get("/markup")
    async def markup(request: Request) -> str:
        flash(request, Markup("<b>bold</b>"))
        return "ok"

    @app.get("/kind")
    async def kind(request: Request) -> dict:
        ((_, message),) = get_flashed_messages(request)
        return {"type": type(message).__name__, "message": message}

    client = TestClient(app)
    client.get("/markup")
    # It comes back as str, so a template escapes it.
    assert client.get("/kind").json() == {"type": "str", "message": "<b>bold</b>"}


def test_junk_under_the_flash_key_is_ignored(make_app):
    app = make_app()

    @app.get("/junk")
    async def junk(request: Request) -> str:
        request.session[FLASH_KEY] = [["ok", "kept"], "bad", ["x"], [1, 2], {"a": 1}]
        return "ok"

    @app.get("/junk-str")
    async def junk_str(request: Request) -> str:
        request.session[FLASH_KEY] = "not a list"
        return "ok"

    @app.get("/messages")
    async def messages(request: Request) -> list:
        return get_flashed_messages(request)

    client = TestClient(app)
    client.get("/junk")
    assert client.get("/messages").json() == [["ok", "kept"]]
    client.get("/junk-str")
    assert client.get("/messages").json() == []
    assert client.get("/read").json()["data"] == {}
