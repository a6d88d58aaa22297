"""Hostile input against examples/api: every refusal is one the schema documents,
with the documented body shape; injection attempts go nowhere; huge numbers and
deep nesting are refused quickly."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import pytest
from jsonschema import Draft202012Validator

from satchel import App, Header, Response
from satchel.openapi import generate_openapi
from satchel.testing import TestClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "app.py"


def _load() -> Any:
    name = "satchel_example_api_bad_input"
    spec = importlib.util.spec_from_file_location(name, EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


example = _load()
DOC = generate_openapi(example.app)
client = TestClient(example.app, raise_server_exceptions=False)


def check_documented(path: str, method: str, got: Any) -> None:
    """Assert the status is documented for the operation and the body fits its schema."""
    responses = DOC["paths"][path][method]["responses"]
    status = str(got.status_code)
    assert status in responses, f"{method.upper()} {path} answered undocumented {status}"
    content = responses[status].get("content", {})
    media = got.headers.get("content-type", "").split(";")[0]
    assert media in content, f"{status} sent {media}, documented {list(content)}"
    schema = {**content[media]["schema"], "components": DOC["components"]}
    Draft202012Validator(schema).validate(got.json())


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b'{"name": "x", "price": ', "headers": {"content-type": "application/json"}}, 400),
        ({"content": b"name=x", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415),
        ({"content": b"x" * (1024 * 1024 + 1), "headers": {"content-type": "application/json"}}, 413),
        ({"json": {"name": "", "price": -1}}, 422),
        ({"json": {"name": "x", "price": 1, "tags": ["t"] * 11}}, 422),
        ({"json": ["not", "an", "object"]}, 422),
        ({"json": {"name": "x", "price": "NaN"}}, 422),
    ],
)  # fmt: skip
def test_refusals_are_documented(kwargs: dict[str, Any], status: int) -> None:
    got = client.post("/items", **kwargs)
    assert got.status_code == status
    check_documented("/items", "post", got)


def test_validation_errors_name_each_value() -> None:
    got = client.post("/items", json={"name": "", "price": -1})
    locs = sorted(tuple(e["loc"]) for e in got.json()["errors"])
    assert locs == [("body", "name"), ("body", "price")]


def test_query_refusals_are_documented() -> None:
    for params in ({"page": "0"}, {"page": "x"}, {"per_page": "1000"}, {"tag": "t" * 31}):
        got = client.get("/items", params=params)
        assert got.status_code == 422, params
        check_documented("/items", "get", got)


def test_enormous_integers_are_refused_quickly() -> None:
    start = time.perf_counter()
    got = client.get("/items", params={"page": "9" * 5000})
    assert got.status_code == 422
    check_documented("/items", "get", got)
    assert client.get("/items/" + "9" * 5000).status_code == 404  # the router never converts it
    big_body = b'{"name": "x", "price": 1' + b"0" * 500_000 + b"}"
    got = client.post("/items", content=big_body, headers={"content-type": "application/json"})
    assert got.status_code in (400, 422)
    check_documented("/items", "post", got)
    got = client.post("/items", json={"name": "x", "price": 10**400})
    assert got.status_code in (400, 422)
    assert time.perf_counter() - start < 2


def test_deeply_nested_json_is_refused_quickly() -> None:
    start = time.perf_counter()
    deep = b'{"name": "x", "price": 1, "tags": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    got = client.post("/items", content=deep, headers={"content-type": "application/json"})
    assert got.status_code == 400
    check_documented("/items", "post", got)
    assert time.perf_counter() - start < 2


def test_injection_through_query_stays_in_its_place() -> None:
    got = client.get("/items", params={"tag": "x\r\nSet-Cookie: a=b"})
    assert got.status_code == 200
    assert "set-cookie" not in got.headers
    assert "\r" not in got.headers["link"] and "\n" not in got.headers["link"]
    assert "%0D%0ASet-Cookie" in got.headers["link"]
    got = client.get("/items", params={"tag": "<script>'\"; DROP TABLE x"})
    assert got.status_code == 200 and got.json() == []
    got = client.get("/items?page=1&page=2&page=abc")  # the first value counts
    assert got.status_code == 200
    got = client.get("/items?tag=%00%ff%fe")
    assert got.status_code in (200, 400)


def test_injection_through_headers_goes_nowhere() -> None:
    got = client.get("/reports/summary", headers={"x-currency": "EUR; Set-Cookie: a=b"})
    assert got.status_code == 422
    check_documented("/reports/summary", "get", got)


def test_a_header_reflected_into_a_response_header_cannot_split_it() -> None:
    # httpx refuses to send CR/LF, so go through ASGI with the raw header.
    app = App(csrf_enabled=False)

    @app.get("/echo")
    async def echo(x_note: Annotated[str, Header()]) -> Response:
        return Response(b"ok", headers={"x-note": x_note})

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/echo",
        "query_string": b"",
        "headers": [(b"x-note", b"a\r\nset-cookie: pwned=1")],
    }
    import asyncio

    with pytest.raises(ValueError, match="control character"):
        asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 500
    assert all(name != b"set-cookie" for name, _ in start["headers"])
