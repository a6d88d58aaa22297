"""Response models shape what a handler sends (nothing undeclared leaks out), a
mismatch is a clear 500, and ``produces=[...]`` answers 406 when nothing fits."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from satchel import App, ImproperlyConfigured, JSONResponse, NotFound, Request, Response
from satchel.http.negotiation import accepted_media_type
from satchel.testing import TestClient

SECRET = "response-model-tests-secret-key-0123456789abcdef"


class Address(BaseModel):
    city: str


class UserOut(BaseModel):
    id: int
    name: str
    address: Address | None = None


class UserWithSecret(UserOut):
    password_hash: str


class Aliased(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    user_id: int = Field(alias="userId")


@dataclasses.dataclass
class UserRow:
    id: int
    name: str
    password_hash: str


class OrmUser:
    """An object with attributes, as an ORM returns."""

    def __init__(self) -> None:
        self.id = 7
        self.name = "orm"
        self.password_hash = "secret"
        self.address = None


def client(app: App) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def test_undeclared_fields_never_leak() -> None:
    app = App(debug=True)

    @app.get("/dict")
    async def from_dict() -> UserOut:
        return {"id": 1, "name": "a", "password_hash": "x", "address": {"city": "c", "zip": 1}}  # type: ignore[return-value]

    @app.get("/subclass")
    async def from_subclass() -> UserOut:
        return UserWithSecret(id=2, name="b", password_hash="x")

    @app.get("/dataclass", response_model=UserOut)
    async def from_dataclass() -> UserRow:
        return UserRow(3, "c", "x")

    @app.get("/orm", response_model=UserOut)
    async def from_orm() -> Any:
        return OrmUser()

    @app.get("/list")
    async def many() -> list[UserOut]:
        return [UserWithSecret(id=4, name="d", password_hash="x"), {"id": 5, "name": "e", "x": 1}]  # type: ignore[list-item]

    c = client(app)
    assert c.get("/dict").json() == {"id": 1, "name": "a", "address": {"city": "c"}}
    assert c.get("/subclass").json() == {"id": 2, "name": "b", "address": None}
    assert c.get("/dataclass").json() == {"id": 3, "name": "c", "address": None}
    assert c.get("/orm").json() == {"id": 7, "name": "orm", "address": None}
    assert c.get("/list").json() == [
        {"id": 4, "name": "d", "address": None},
        {"id": 5, "name": "e", "address": None},
    ]
    for path in ("/dict", "/subclass", "/dataclass", "/orm", "/list"):
        assert b"password_hash" not in c.get(path).content
        assert c.get(path).headers["content-type"] == "application/json"


def test_exact_model_instances_are_serialised_by_the_model() -> None:
    app = App()

    @app.get("/alias")
    async def alias() -> Aliased:
        return Aliased(user_id=3)

    assert client(app).get("/alias").json() == {"userId": 3}


def test_response_model_none_turns_shaping_off() -> None:
    app = App()

    @app.get("/raw", response_model=None)
    async def raw() -> UserOut:
        return {"id": 1, "name": "a", "extra": True}  # type: ignore[return-value]

    assert client(app).get("/raw").json() == {"id": 1, "name": "a", "extra": True}


def test_plain_annotations_are_not_response_models() -> None:
    app = App()

    @app.get("/d")
    async def d() -> dict[str, int]:
        return {"a": 1, "b": 2}

    assert client(app).get("/d").json() == {"a": 1, "b": 2}


def test_status_codes_tuples_and_responses() -> None:
    app = App()

    @app.post("/made", status_code=201, csrf_exempt=True)
    async def made() -> UserOut:
        return UserWithSecret(id=1, name="n", password_hash="x")

    @app.get("/tuple")
    async def as_tuple() -> UserOut:
        return {"id": 1, "name": "t", "secret": 1}, 202, {"x-extra": "1"}  # type: ignore[return-value]

    @app.get("/problem")
    async def problem() -> UserOut:
        return {"error": "nope"}, 404  # type: ignore[return-value]

    @app.get("/response")
    async def response() -> UserOut:
        return JSONResponse({"anything": True}, 418)  # type: ignore[return-value]

    @app.get("/raises")
    async def raises() -> UserOut:
        raise NotFound("no user")

    c = client(app)
    got = c.post("/made")
    assert (got.status_code, got.json()) == (201, {"id": 1, "name": "n", "address": None})
    got = c.get("/tuple")
    assert got.status_code == 202
    assert got.json() == {"id": 1, "name": "t", "address": None}
    assert got.headers["x-extra"] == "1"
    got = c.get("/problem")
    assert (got.status_code, got.json()) == (404, {"error": "nope"})
    got = c.get("/response")
    assert (got.status_code, got.json()) == (418, {"anything": True})
    assert c.get("/raises").status_code == 404


def test_mismatch_in_debug_is_a_500_that_explains() -> None:
    app = App(debug=True)

    @app.get("/bad")
    async def bad() -> UserOut:
        return {"id": "not a number"}  # type: ignore[return-value]

    got = client(app).get("/bad")
    assert got.status_code == 500
    detail = got.json()["detail"]
    assert "ResponseValidationError" in detail
    assert "does not match its response model UserOut" in detail
    assert "id: Input should be a valid integer" in detail
    assert "name: Field required" in detail
    assert {"loc": ["name"], "msg": "Field required", "type": "missing"} in got.json()["errors"]
    page = client(app).get("/bad", headers={"accept": "text/html"}).text
    assert "<code>name</code>: Field required" in page


def test_mismatch_in_production_is_generic_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = App(secret_key=SECRET)

    @app.get("/bad")
    async def bad() -> UserOut:
        return {"id": "not a number", "name": "secret-value"}  # type: ignore[return-value]

    with caplog.at_level(logging.ERROR, logger="satchel.error"):
        got = client(app).get("/bad")
    assert got.status_code == 500
    assert got.json()["detail"] == "The server hit an error and could not answer."
    assert "secret-value" not in got.text and "UserOut" not in got.text
    logged = "\n".join(r.getMessage() + str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    assert "does not match its response model UserOut" in logged


def test_sync_handlers_and_providers_get_models_too() -> None:
    app = App()

    @app.provider
    def suffix() -> str:
        return "!"

    @app.get("/sync/{id:int}")
    def sync_user(id: int, suffix: str) -> UserOut:
        return {"id": id, "name": "s" + suffix, "hidden": 1}  # type: ignore[return-value]

    assert client(app).get("/sync/4").json() == {"id": 4, "name": "s!", "address": None}


# -- produces and 406 -----------------------------------------------------------------


def negotiating_app() -> App:
    app = App()

    @app.get("/report", produces=["application/json", "text/csv"])
    async def report(request: Request) -> Response:
        kind = accepted_media_type(request)
        if kind == "text/csv":
            return Response("a,b\n1,2\n", media_type="text/csv")
        return JSONResponse({"a": 1, "b": 2})

    @app.get("/plain")
    async def plain(request: Request) -> dict[str, Any]:
        return {"chosen": accepted_media_type(request, "none")}

    return app


@pytest.mark.parametrize(
    ("accept", "status", "content_type"),
    [
        (None, 200, "application/json"),
        ("*/*", 200, "application/json"),
        ("text/csv", 200, "text/csv"),
        ("text/*", 200, "text/csv"),
        ("application/json;q=0.5, text/csv", 200, "text/csv"),
        ("text/csv;q=0.2, application/json;q=0.9", 200, "application/json"),
        ("text/csv;q=0, */*;q=0.1", 200, "application/json"),
        ("application/xml", 406, "application/problem+json"),
        ("text/csv;q=0, application/json;q=0", 406, "application/problem+json"),
        ("garbage, ;;;, /", 200, "application/json"),  # nothing valid: as if no Accept
    ],
)
def test_produces_negotiates(accept: str | None, status: int, content_type: str) -> None:
    headers = {"accept": accept} if accept is not None else {}
    got = client(negotiating_app()).get("/report", headers=headers)
    assert got.status_code == status
    assert got.headers["content-type"].startswith(content_type)
    if status == 406:
        assert "application/json, text/csv" in got.json()["detail"]


def test_406_for_a_browser_is_an_html_page() -> None:
    got = client(negotiating_app()).get("/report", headers={"accept": "text/html"})
    assert got.status_code == 406
    assert got.headers["content-type"].startswith("text/html")


def test_routes_without_produces_do_not_negotiate() -> None:
    got = client(negotiating_app()).get("/plain", headers={"accept": "image/png"})
    assert got.status_code == 200
    assert got.json() == {"chosen": "none"}


@pytest.mark.parametrize("bad", ["json", "*/*", "text/*", "a/b, c/d", ""])
def test_malformed_produces_is_refused_at_startup(bad: str) -> None:
    app = App()

    @app.get("/x", produces=[bad])
    async def x() -> dict[str, int]:
        return {}

    with pytest.raises(ImproperlyConfigured, match="produces"):
        app.freeze()
