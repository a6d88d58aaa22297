"""Typed handler parameters: where each value comes from and how it is validated."""

import enum
import uuid
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from satchel import App, Body, Cookie, Header, Query, Request
from satchel.exceptions import ImproperlyConfigured
from satchel.testing import TestClient


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Filters(BaseModel):
    limit: int = 10
    tags: list[str] = []


class Item(BaseModel):
    name: str


@pytest.fixture
def client():
    app = App()

    @app.get("/scalars")
    async def scalars(
        a: int,
        b: float = 1.0,
        c: bool = False,
        d: str | None = None,
        u: uuid.UUID | None = None,
        color: Color = Color.RED,
        mode: Literal["fast", "slow"] = "fast",
    ) -> dict:
        return {"a": a, "b": b, "c": c, "d": d, "u": str(u), "color": color.value, "mode": mode}

    @app.get("/lists")
    async def lists(tag: list[str], n: list[int] = []) -> dict:  # noqa: B006
        return {"tag": tag, "n": n}

    @app.get("/constrained")
    async def constrained(q: Annotated[str, Query(alias="search", max_length=5)]) -> dict:
        return {"q": q}

    @app.get("/group")
    async def group(f: Annotated[Filters, Query()]) -> dict:
        return f.model_dump()

    @app.get("/headers")
    async def headers(
        user_agent: Annotated[str, Header()],
        token: Annotated[str | None, Header(alias="X-Token")] = None,
        tags: Annotated[list[str], Header(alias="X-Tag")] = [],  # noqa: B006
    ) -> dict:
        return {"ua": user_agent, "token": token, "tags": tags}

    @app.get("/cookies")
    async def cookies(session_id: Annotated[str, Cookie()]) -> dict:
        return {"sid": session_id}

    @app.get("/path/{x}")
    async def typed_path(x: int) -> dict:
        return {"x": x}

    @app.post("/embed")
    async def embed(
        item: Annotated[Item, Body(embed=True)], count: Annotated[int, Body(embed=True)] = 1
    ) -> dict:
        return {"name": item.name, "count": count}

    @app.post("/raw")
    async def raw(data: Annotated[dict, Body()]) -> dict:
        return {"keys": sorted(data)}

    @app.post("/optional-body")
    async def optional_body(item: Item | None = None) -> dict:
        return {"item": item.name if item else None}

    @app.get("/req")
    async def req(request: Request, x: int = 0) -> dict:
        return {"path": request.url.path, "x": x}

    return TestClient(app)


def test_scalars(client):
    uid = uuid.uuid4()
    got = client.get(
        "/scalars",
        params={"a": 1, "b": "2.5", "c": "yes", "d": "x", "u": str(uid), "color": "blue"},
    )
    assert got.json() == {
        "a": 1,
        "b": 2.5,
        "c": True,
        "d": "x",
        "u": str(uid),
        "color": "blue",
        "mode": "fast",
    }


def test_scalar_errors_list_each_problem(client):
    got = client.get("/scalars", params={"b": "x", "c": "maybe", "color": "green", "mode": "x"})
    assert got.status_code == 422
    errors = {tuple(e["loc"]): e["type"] for e in got.json()["errors"]}
    assert errors == {
        ("query", "a"): "missing",
        ("query", "b"): "float_parsing",
        ("query", "c"): "bool_parsing",
        ("query", "color"): "enum",
        ("query", "mode"): "literal_error",
    }


def test_huge_and_odd_numbers_are_422(client):
    for value in ["9" * 5000, "1e999", "nan", "0x10", "١"]:
        got = client.get("/scalars", params={"a": value})
        assert got.status_code == 422, value


def test_lists(client):
    got = client.get("/lists?tag=a&tag=b&n=1&n=2")
    assert got.json() == {"tag": ["a", "b"], "n": [1, 2]}
    assert client.get("/lists").status_code == 422
    bad = client.get("/lists?tag=a&n=1&n=x")
    assert bad.json()["errors"][0]["loc"] == ["query", "n", 1]


def test_constraints_and_alias(client):
    assert client.get("/constrained?search=abc").json() == {"q": "abc"}
    too_long = client.get("/constrained?search=abcdefgh")
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["loc"] == ["query", "search"]


def test_query_model_group(client):
    got = client.get("/group?limit=3&tags=a&tags=b")
    assert got.json() == {"limit": 3, "tags": ["a", "b"]}
    assert client.get("/group?limit=x").status_code == 422


def test_headers(client):
    got = client.get(
        "/headers",
        headers=[("User-Agent", "t"), ("X-Token", "abc"), ("X-Tag", "1"), ("X-Tag", "2")],
    )
    assert got.json() == {"ua": "t", "token": "abc", "tags": ["1", "2"]}


def test_cookies(client):
    missing = client.get("/cookies")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["cookie", "session_id"]
    client.cookies.set("session_id", "s1")
    assert client.get("/cookies").json() == {"sid": "s1"}


def test_path_param_converted_by_annotation(client):
    assert client.get("/path/5").json() == {"x": 5}
    bad = client.get("/path/abc")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["path", "x"]


def test_embedded_bodies(client):
    got = client.post("/embed", json={"item": {"name": "n"}, "count": 3})
    assert got.json() == {"name": "n", "count": 3}
    assert client.post("/embed", json={"item": {}}).status_code == 422
    assert client.post("/embed", json=[1]).status_code == 422


def test_raw_json_body_and_errors(client):
    assert client.post("/raw", json={"b": 1, "a": 2}).json() == {"keys": ["a", "b"]}
    malformed = client.post("/raw", content=b"{nope", headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert "Malformed JSON" in malformed.json()["detail"]
    wrong_type = client.post("/raw", content=b"a=1", headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415


def test_optional_body(client):
    assert client.post("/optional-body").json() == {"item": None}
    assert client.post("/optional-body", json={"name": "x"}).json() == {"item": "x"}


def test_request_parameter(client):
    assert client.get("/req?x=2").json() == {"path": "/req", "x": 2}


def test_unknown_parameter_source_is_a_startup_error():
    app = App()

    class Thing:
        pass

    @app.get("/")
    async def handler(thing: Thing) -> str:
        return ""

    with pytest.raises(ImproperlyConfigured, match="cannot tell where parameter 'thing'"):
        app.freeze()


def test_path_param_with_default_is_an_error():
    app = App()

    @app.get("/{x}")
    async def handler(x: str = "a") -> str:
        return x

    with pytest.raises(ImproperlyConfigured, match="cannot have a default"):
        app.freeze()


def test_constrained_field():
    app = App()

    @app.get("/n")
    async def n(k: Annotated[int, Query(ge=1, le=10)]) -> int:
        return {"k": k}  # type: ignore[return-value]

    client = TestClient(app)
    assert client.get("/n?k=5").json() == {"k": 5}
    assert client.get("/n?k=11").status_code == 422
    _ = Field


def test_header_model_group_maps_underscores_to_hyphens():
    class Meta(BaseModel):
        user_agent: str
        x_trace: list[str] = []

    app = App()

    @app.get("/")
    async def handler(meta: Annotated[Meta, Header()]) -> dict:
        return meta.model_dump()

    client = TestClient(app)
    got = client.get("/", headers=[("User-Agent", "ua"), ("X-Trace", "1"), ("X-Trace", "2")])
    assert got.json() == {"user_agent": "ua", "x_trace": ["1", "2"]}


def test_handler_taking_some_path_params_only():
    app = App()

    @app.get("/users/{user}/posts/{post_id:int}")
    async def show(post_id: int) -> dict:
        return {"post": post_id}

    assert TestClient(app).get("/users/a/posts/2").json() == {"post": 2}
