"""Modules: prefixes, names, nesting, static folders, mounts."""

import pytest

from satchel import App, Module
from satchel.exceptions import ImproperlyConfigured
from satchel.testing import TestClient


def test_module_routes_prefix_and_names():
    app = App()
    blog = Module("blog", prefix="/blog")
    admin = Module("admin", prefix="/admin")

    @blog.get("/")
    async def index() -> str:
        return "blog index"

    @blog.get("/{slug:slug}")
    async def post(slug: str) -> str:
        return slug

    @admin.get("/stats")
    async def stats() -> str:
        return "stats"

    blog.include(admin)
    app.include(blog)
    client = TestClient(app)
    assert client.get("/blog/").text == "blog index"
    assert client.get("/blog/hello").text == "hello"
    assert client.get("/blog/admin/stats").text == "stats"
    assert app.url_for("blog.post", slug="hi") == "/blog/hi"
    assert app.url_for("blog.admin.stats") == "/blog/admin/stats"
    assert app.url_for("blog.index") == "/blog/"


def test_include_with_prefix_override_and_twice_refused():
    app = App()
    mod = Module("m", prefix="/m")

    @mod.get("/x")
    async def x() -> str:
        return "x"

    app.include(mod, prefix="/v2")
    assert TestClient(app).get("/v2/x").text == "x"
    with pytest.raises(ImproperlyConfigured):
        app.include(mod)


def test_bad_module_config():
    with pytest.raises(ImproperlyConfigured):
        Module("bad name")
    with pytest.raises(ImproperlyConfigured):
        Module("m", prefix="no-slash")


def test_module_static_folder(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "site.css").write_text("body{}")
    app = App()
    mod = Module("shop", prefix="/shop", root_path=tmp_path)
    app.include(mod)
    app.static("/assets", tmp_path / "static", name="assets")
    client = TestClient(app)
    got = client.get("/shop/static/site.css")
    assert got.status_code == 200
    assert got.text == "body{}"
    assert got.headers["content-type"].startswith("text/css")
    assert "etag" in got.headers
    assert client.get("/assets/site.css").text == "body{}"
    assert app.url_for("shop.static", path="site.css") == "/shop/static/site.css"
    assert app.url_for("assets", path="site.css") == "/assets/site.css"
    assert client.get("/assets/../test_module.py").status_code in (400, 404)


def test_mount_any_asgi_app():
    async def other(scope, receive, send):  # type: ignore[no-untyped-def]
        body = f"{scope['root_path']}|{scope['path']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    app = App()
    app.mount("/legacy", other, name="legacy")

    @app.get("/")
    async def index() -> str:
        return "root"

    client = TestClient(app)
    assert client.get("/legacy/a/b").text == "/legacy|/a/b"
    assert client.get("/legacy").text == "/legacy|/"
    assert client.get("/").text == "root"
    assert app.url_for("legacy", path="x/y") == "/legacy/x/y"
