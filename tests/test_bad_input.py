"""Hostile and malformed requests: always a clear 4xx, bounded time and memory."""

import time

import pytest
from pydantic import BaseModel

from satchel import App, Request
from satchel.testing import TestClient


class Item(BaseModel):
    name: str


@pytest.fixture
def client():
    app = App(max_body_size=1024)

    @app.post("/item")
    async def item(item: Item) -> dict:
        return {"name": item.name}

    @app.post("/body")
    async def body(request: Request) -> dict:
        return {"size": len(await request.body())}

    @app.post("/json")
    async def json_(request: Request) -> dict:
        return {"type": type(await request.json()).__name__}

    @app.get("/q")
    async def q(request: Request) -> dict:
        return dict(request.query)

    @app.get("/cookie")
    async def cookie(request: Request) -> dict:
        return request.cookies

    return TestClient(app, raise_server_exceptions=False)


def test_body_over_limit_is_413_and_stops_reading(client):
    started = time.perf_counter()
    got = client.post("/body", content=b"x" * (5 * 1024 * 1024))
    assert got.status_code == 413
    assert "1024" in got.json()["detail"]
    assert time.perf_counter() - started < 5


def test_streamed_body_without_length_over_limit_is_413(client):
    def chunks():
        for _ in range(100):
            yield b"x" * 1000

    assert client.post("/body", content=chunks()).status_code == 413


def test_lying_content_length_is_400_or_413(client):
    got = client.post("/body", content=b"abc", headers={"content-length": "abc"})
    assert got.status_code in (400, 413)


def test_malformed_json_400_and_wrong_type_415(client):
    bad = client.post("/item", content=b'{"name": ', headers={"content-type": "application/json"})
    assert bad.status_code == 400
    assert (
        client.post(
            "/json", content=b"[1,", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    wrong = client.post(
        "/item", content=b"name=x", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert wrong.status_code == 415


def test_deeply_nested_json_is_bounded(client):
    deep = b"[" * 100_000 + b"]" * 100_000
    got = client.post("/json", content=deep, headers={"content-type": "application/json"})
    assert got.status_code in (400, 413)


def test_malformed_percent_encoding_in_query_is_400(client):
    for qs in ("a=%zz", "a=%", "a=%ff%fe"):
        got = client.get("/q?" + qs)
        assert got.status_code == 400, qs
        assert "percent" in got.json()["detail"].lower() or "utf-8" in got.json()["detail"].lower()


def test_control_characters_in_cookies_are_dropped(client):
    got = client.get("/cookie", headers={"cookie": "a=1; b=x\x01y; c=3"})
    assert got.status_code == 200
    assert got.json() == {"a": "1", "c": "3"}


def test_absurdly_long_path_is_414_or_404(client):
    got = client.get("/" + "a" * 20_000)
    assert got.status_code in (404, 414)
    assert len(got.content) < 2000


def test_no_traceback_on_any_of_them(client):
    for response in (
        client.post("/item", content=b"{", headers={"content-type": "application/json"}),
        client.get("/q?a=%zz"),
        client.post("/body", content=b"x" * 5000),
    ):
        assert "Traceback" not in response.text
        assert 400 <= response.status_code < 500
