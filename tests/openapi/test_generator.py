"""The OpenAPI document generated from routes: paths, parameters, bodies, responses,
components, tags, security; every document checked by openapi-spec-validator."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, Field

from satchel import (
    App,
    Body,
    Cookie,
    File,
    Form,
    Header,
    HTMLResponse,
    ImproperlyConfigured,
    Module,
    PlainTextResponse,
    Provide,
    Query,
    Request,
    Response,
    UploadFile,
)
from satchel.openapi import (
    Problem,
    bearer_scheme,
    generate_openapi,
    openapi_config,
    register_security_scheme,
    security,
    session_cookie_scheme,
)


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    price: float = Field(gt=0)


class ItemOut(BaseModel):
    id: int
    name: str
    created: datetime.datetime


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Filters(BaseModel):
    color: Color | None = None
    size: int = Field(3, ge=1, le=10, description="Size in cm")
    tags: list[str] = []


class Signup(BaseModel):
    email: str
    age: int = Field(ge=18)


@dataclasses.dataclass
class Point:
    x: int
    y: int


class GlobalUser(BaseModel):
    """A user, as the module sees it."""

    name: str


async def tenant(x_tenant: Annotated[str, Header()]) -> AsyncIterator[str]:
    yield x_tenant


def document(app: App) -> dict[str, Any]:
    doc = generate_openapi(app)
    validate(doc)  # every document the tests look at is valid OpenAPI 3.1
    return doc


def op(doc: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    return doc["paths"][path][method]  # type: ignore[no-any-return]


def params(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]]  # type: ignore[no-any-return]


# -- the document ---------------------------------------------------------------------


def test_document_header_comes_from_settings_and_config() -> None:
    app = App(title="Shop API", version="2.1")
    config = openapi_config(app)
    config.description = "All about *items*."
    config.servers = [{"url": "https://api.example.com"}]
    config.info["license"] = {"name": "MIT", "identifier": "MIT"}

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    doc = document(app)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {
        "title": "Shop API",
        "version": "2.1",
        "description": "All about *items*.",
        "license": {"name": "MIT", "identifier": "MIT"},
    }
    assert doc["servers"] == [{"url": "https://api.example.com"}]


def test_the_issue_example() -> None:
    app = App(title="Shop API", version="1.0")

    @app.get("/items/{id:int}", response_model=ItemOut, responses={404: Problem}, tags=["items"])
    async def get_item(id: int, fields: list[str] | None = None) -> ItemOut:
        """Return one item.

        Longer description shown in the docs.
        """
        raise NotImplementedError

    doc = document(app)
    operation = op(doc, "/items/{id}")
    assert operation["operationId"] == "get_item"
    assert operation["summary"] == "Return one item."
    assert operation["description"] == "Longer description shown in the docs."
    assert operation["tags"] == ["items"]
    found = params(operation)
    assert found["path", "id"] == {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0, "maximum": 10**19 - 1},
    }
    assert found["query", "fields"]["required"] is False
    assert found["query", "fields"]["schema"] == {"type": "array", "items": {"type": "string"}}
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/ItemOut"}
    not_found = operation["responses"]["404"]["content"]["application/problem+json"]
    assert not_found["schema"] == {"$ref": "#/components/schemas/Problem"}
    item_out = doc["components"]["schemas"]["ItemOut"]
    assert item_out["properties"]["created"] == {
        "format": "date-time",
        "title": "Created",
        "type": "string",
    }
    assert doc["tags"] == [{"name": "items"}]


def test_left_out_of_the_schema(tmp_path: Any) -> None:
    (tmp_path / "static").mkdir()
    app = App(root_path=tmp_path)
    app.static("/assets", tmp_path / "static")

    @app.get("/shown")
    async def shown() -> dict[str, int]:
        return {}

    @app.get("/hidden", include_in_schema=False)
    async def hidden() -> dict[str, int]:
        return {}

    @app.websocket("/ws")
    async def ws(websocket: Any) -> None:
        return None

    async def legacy(scope: Any, receive: Any, send: Any) -> None:
        return None

    app.mount("/legacy", legacy)
    assert list(document(app)["paths"]) == ["/shown"]


def test_modules_are_included_and_tagged_with_their_name() -> None:
    app = App()
    blog = Module("blog", prefix="/blog")
    admin = Module("admin", prefix="/admin")

    @blog.get("/{slug:slug}")
    async def post(slug: str) -> str:
        return slug

    @admin.get("/stats", tags=["ops"])
    async def stats() -> dict[str, int]:
        return {}

    blog.include(admin)
    app.include(blog)
    doc = document(app)
    operation = op(doc, "/blog/{slug}")
    assert operation["operationId"] == "blog.post"
    assert operation["tags"] == ["blog"]
    assert params(operation)["path", "slug"]["schema"] == {
        "type": "string",
        "pattern": "^[-a-zA-Z0-9_]+$",
    }
    assert op(doc, "/blog/admin/stats")["tags"] == ["ops"]
    assert op(doc, "/blog/admin/stats")["operationId"] == "blog.admin.stats"
    assert [t["name"] for t in doc["tags"]] == ["blog", "ops"]


def test_operation_ids_are_stable_and_unique() -> None:
    app = App()

    @app.route("/things", ["GET", "POST"])
    async def things() -> dict[str, int]:
        return {}

    @app.get("/other", name="things_get")
    async def clash() -> dict[str, int]:
        return {}

    @app.get("/named", operation_id="listNamed")
    async def named() -> dict[str, int]:
        return {}

    doc = document(app)
    assert op(doc, "/things")["operationId"] == "things_get"
    assert op(doc, "/things", "post")["operationId"] == "things_post"
    assert op(doc, "/other")["operationId"] == "things_get_2"
    assert op(doc, "/named")["operationId"] == "listNamed"
    assert document(app) == doc  # generated again: the same ids


def test_options_override_the_docstring_and_mark_deprecated() -> None:
    app = App()

    @app.get("/old", summary="Old way", description="Use /new.", deprecated=True)
    async def old() -> dict[str, int]:
        """Docstring summary."""
        return {}

    operation = op(document(app), "/old")
    assert operation["summary"] == "Old way"
    assert operation["description"] == "Use /new."
    assert operation["deprecated"] is True


# -- parameters -----------------------------------------------------------------------


def test_path_parameters_from_converters_and_annotations() -> None:
    app = App()

    @app.get("/a/{uid:uuid}/{rest:path}")
    async def a(uid: uuid.UUID, rest: str) -> dict[str, int]:
        return {}

    @app.get("/b/{code}/{price:float}")
    async def b(code: int, price: float) -> dict[str, int]:
        return {}

    doc = document(app)
    found = params(op(doc, "/a/{uid}/{rest}"))
    assert found["path", "uid"]["schema"] == {"type": "string", "format": "uuid"}
    assert found["path", "rest"]["schema"] == {"type": "string"}
    found = params(op(doc, "/b/{code}/{price}"))
    assert found["path", "code"]["schema"] == {"type": "integer"}  # converted from text
    assert found["path", "price"]["schema"] == {"type": "number", "minimum": 0}


def test_query_parameter_types_formats_defaults_and_constraints() -> None:
    app = App()

    @app.get("/search")
    async def search(
        q: Annotated[str, Query(min_length=2, max_length=40, description="Words to find")],
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        since: datetime.date | None = None,
        color: Color = Color.RED,
        mode: Literal["fast", "exact"] = "fast",
        active: bool = True,
        ids: Annotated[list[int] | None, Query(alias="id")] = None,
        ref: uuid.UUID | None = None,
        old: Annotated[str | None, Query(deprecated=True, examples=["x"])] = None,
    ) -> dict[str, int]:
        return {}

    doc = document(app)
    found = params(op(doc, "/search"))
    assert found["query", "q"] == {
        "name": "q",
        "in": "query",
        "required": True,
        "schema": {"type": "string", "minLength": 2, "maxLength": 40},
        "description": "Words to find",
    }
    assert found["query", "limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 20,
    }
    assert found["query", "limit"]["required"] is False
    assert found["query", "since"]["schema"] == {"type": "string", "format": "date"}
    assert found["query", "color"]["schema"] == {
        "$ref": "#/components/schemas/Color",
        "default": "red",
    }
    assert doc["components"]["schemas"]["Color"]["enum"] == ["red", "blue"]
    assert found["query", "mode"]["schema"] == {
        "type": "string",
        "enum": ["fast", "exact"],
        "default": "fast",
    }
    assert found["query", "active"]["schema"] == {"type": "boolean", "default": True}
    assert found["query", "id"]["schema"] == {"type": "array", "items": {"type": "integer"}}
    assert found["query", "ref"]["schema"] == {"type": "string", "format": "uuid"}
    assert found["query", "old"]["deprecated"] is True
    assert found["query", "old"]["examples"] == {"example1": {"value": "x"}}


def test_header_and_cookie_parameters() -> None:
    app = App()

    @app.get("/h")
    async def h(
        x_request_id: Annotated[str, Header()],
        token: Annotated[str | None, Header(alias="X-Api-Token")] = None,
        accept: Annotated[str | None, Header()] = None,
        theme: Annotated[Literal["dark", "light"], Cookie()] = "light",
    ) -> dict[str, int]:
        return {}

    found = params(op(document(app), "/h"))
    assert set(found) == {
        ("header", "x-request-id"),
        ("header", "x-api-token"),
        ("cookie", "theme"),
    }
    assert found["header", "x-request-id"]["required"] is True
    assert found["cookie", "theme"]["schema"]["enum"] == ["dark", "light"]


def test_model_of_query_parameters_is_spread_out() -> None:
    app = App()

    @app.get("/filter")
    async def filter_items(filters: Annotated[Filters, Query()]) -> dict[str, int]:
        return {}

    found = params(op(document(app), "/filter"))
    assert set(found) == {("query", "color"), ("query", "size"), ("query", "tags")}
    assert found["query", "size"] == {
        "name": "size",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
        "description": "Size in cm",
    }
    assert found["query", "tags"]["schema"] == {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
    }


def test_parameters_a_provider_reads_belong_to_the_operation() -> None:
    app = App()

    @app.get("/scoped")
    async def scoped(t: Annotated[str, Provide(tenant)], page: int = 1) -> dict[str, int]:
        return {}

    found = params(op(document(app), "/scoped"))
    assert set(found) == {("header", "x-tenant"), ("query", "page")}


# -- request bodies -------------------------------------------------------------------


def test_json_bodies() -> None:
    app = App()

    @app.post("/items")
    async def create(item: ItemIn) -> dict[str, int]:
        return {}

    @app.post("/maybe")
    async def maybe(item: ItemIn | None = None) -> dict[str, int]:
        return {}

    @app.post("/pair")
    async def pair(a: Point, note: Annotated[str, Body(max_length=10)]) -> dict[str, int]:
        return {}

    @app.post("/raw")
    async def raw(data: Annotated[Any, Body()]) -> dict[str, int]:
        return {}

    doc = document(app)
    body = op(doc, "/items", "post")["requestBody"]
    assert body == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemIn"}}},
    }
    assert resolve(doc, body["content"]["application/json"]["schema"])["required"] == [
        "name",
        "price",
    ]
    assert op(doc, "/maybe", "post")["requestBody"]["required"] is False
    pair_schema = op(doc, "/pair", "post")["requestBody"]["content"]["application/json"]["schema"]
    assert pair_schema == {
        "type": "object",
        "properties": {
            "a": {"$ref": "#/components/schemas/Point"},
            "note": {"type": "string", "maxLength": 10},
        },
        "required": ["a", "note"],
    }
    assert op(doc, "/raw", "post")["requestBody"]["content"]["application/json"]["schema"] == {}


def test_form_and_multipart_bodies() -> None:
    app = App()

    @app.post("/login")
    async def login(
        username: Annotated[str, Form()], remember: Annotated[bool, Form()] = False
    ) -> dict[str, int]:
        return {}

    @app.post("/signup")
    async def signup(data: Annotated[Signup, Form()]) -> dict[str, int]:
        return {}

    @app.post("/upload")
    async def upload(
        files: list[UploadFile],
        cover: Annotated[UploadFile | None, File()] = None,
        title: Annotated[str, Form()] = "",
    ) -> dict[str, int]:
        return {}

    doc = document(app)
    login_body = op(doc, "/login", "post")["requestBody"]
    assert set(login_body["content"]) == {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    schema = login_body["content"]["application/x-www-form-urlencoded"]["schema"]
    assert schema["properties"]["remember"] == {"type": "boolean"}
    assert schema["required"] == ["username"]
    signup_body = op(doc, "/signup", "post")["requestBody"]
    assert signup_body["content"]["multipart/form-data"]["schema"] == {
        "$ref": "#/components/schemas/Signup"
    }
    upload_body = op(doc, "/upload", "post")["requestBody"]
    assert list(upload_body["content"]) == ["multipart/form-data"]
    schema = upload_body["content"]["multipart/form-data"]["schema"]
    binary = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}
    assert schema["properties"]["files"] == {"type": "array", "items": binary}
    assert schema["properties"]["cover"] == binary
    assert schema["required"] == ["files"]


# -- responses ------------------------------------------------------------------------


def test_success_responses_from_annotations() -> None:
    app = App(csrf_enabled=False)

    @app.get("/model")
    async def model() -> ItemOut:
        raise NotImplementedError

    @app.get("/many")
    async def many() -> list[ItemOut]:
        return []

    @app.get("/mapping")
    async def mapping() -> dict[str, int]:
        return {}

    @app.get("/page")
    async def page() -> str:
        return ""

    @app.get("/bytes")
    async def data() -> bytes:
        return b""

    @app.get("/text")
    async def text() -> PlainTextResponse:
        return PlainTextResponse("")

    @app.get("/html")
    async def html() -> HTMLResponse:
        return HTMLResponse("")

    @app.delete("/gone")
    async def gone() -> None:
        return None

    @app.post("/made", status_code=201)
    async def made() -> Point:
        return Point(1, 2)

    @app.post("/accepted", status_code=202)
    async def accepted() -> None:
        return None

    @app.get("/unknown")
    async def unknown():  # type: ignore[no-untyped-def]
        return {}

    @app.get("/response")
    async def response() -> Response:
        return Response(b"")

    doc = document(app)

    def content(path: str, method: str = "get", status: str = "200") -> Any:
        return op(doc, path, method)["responses"][status].get("content")

    assert content("/model") == {
        "application/json": {"schema": {"$ref": "#/components/schemas/ItemOut"}}
    }
    assert content("/many")["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/ItemOut"},
    }
    assert content("/mapping")["application/json"]["schema"] == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }
    assert content("/page") == {"text/html": {"schema": {"type": "string"}}}
    assert list(content("/bytes")) == ["application/octet-stream"]
    assert list(content("/text")) == ["text/plain"]
    assert list(content("/html")) == ["text/html"]
    assert op(doc, "/gone", "delete")["responses"] == {"204": {"description": "No Content"}}
    assert content("/made", "post", "201")["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Point"
    }
    assert op(doc, "/accepted", "post")["responses"]["202"] == {"description": "Accepted"}
    assert content("/unknown") is None
    assert content("/response") is None


def test_response_model_option_wins_over_the_annotation() -> None:
    app = App()

    @app.get("/a", response_model=ItemOut)
    async def a() -> dict[str, Any]:
        return {}

    @app.get("/b", response_model=None)
    async def b() -> ItemOut:
        raise NotImplementedError

    doc = document(app)
    assert op(doc, "/a")["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemOut"
    }
    # response_model=None turns validation off; the annotation still documents the shape.
    assert op(doc, "/b")["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemOut"
    }


def test_declared_extra_responses() -> None:
    app = App()

    @app.put(
        "/items/{id:int}",
        csrf_exempt=True,
        responses={
            404: Problem,
            409: "Name already taken",
            304: None,
            202: {"description": "Queued", "model": Point},
            418: {"description": "Teapot", "content": {"text/plain": {"schema": {}}}},
            "default": {"description": "Anything else", "model": Problem},
        },
    )
    async def put(id: int, item: ItemIn) -> ItemOut:
        raise NotImplementedError

    responses = op(document(app), "/items/{id}", "put")["responses"]
    assert list(responses) == [
        "200", "202", "304", "400", "404", "409", "413", "415", "418", "422", "default"
    ]  # fmt: skip
    assert responses["404"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert responses["409"]["description"] == "Name already taken"
    assert "application/problem+json" in responses["409"]["content"]
    assert responses["304"] == {"description": "Not Modified"}
    assert responses["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Point"
    }
    assert responses["418"]["content"] == {"text/plain": {"schema": {}}}
    assert "application/problem+json" in responses["default"]["content"]


def test_error_responses_satchel_can_send_are_documented() -> None:
    app = App(csrf_enabled=False)

    @app.get("/plain")
    async def plain() -> dict[str, int]:
        return {}

    @app.get("/item/{id:int}")
    async def item(id: int) -> dict[str, int]:
        return {}

    @app.get("/query")
    async def query(q: str) -> dict[str, int]:
        return {}

    @app.post("/json")
    async def json_body(item: ItemIn) -> dict[str, int]:
        return {}

    @app.post("/form")
    async def form(name: Annotated[str, Form()]) -> dict[str, int]:
        return {}

    @app.get("/csv", produces=["text/csv", "application/json"])
    async def csv() -> dict[str, int]:
        return {}

    doc = document(app)

    def statuses(path: str, method: str = "get") -> list[str]:
        return list(op(doc, path, method)["responses"])

    assert statuses("/plain") == ["200"]
    assert statuses("/item/{id}") == ["200"]  # the router answers 404 for a non-int
    assert statuses("/query") == ["200", "422"]
    assert statuses("/json", "post") == ["200", "400", "413", "415", "422"]
    assert statuses("/form", "post") == ["200", "400", "413", "415", "422"]
    assert statuses("/csv") == ["200", "406"]
    problem = doc["components"]["schemas"]["ValidationProblem"]
    assert problem["required"] == ["title", "status", "errors"]
    error_item = resolve(doc, problem["properties"]["errors"]["items"])
    assert error_item["properties"]["loc"]["items"] == {
        "anyOf": [{"type": "string"}, {"type": "integer"}]
    }


def test_csrf_refusals_are_documented_on_unsafe_methods() -> None:
    app = App(csrf_enabled=True)
    api = Module("api", prefix="/api")
    api.csrf_exempt = True

    @app.post("/form")
    async def form() -> dict[str, int]:
        return {}

    @app.post("/hook", csrf_exempt=True)
    async def hook() -> dict[str, int]:
        return {}

    @api.post("/call")
    async def call() -> dict[str, int]:
        return {}

    app.include(api)
    doc = document(app)
    assert "403" in op(doc, "/form", "post")["responses"]
    assert "403" not in op(doc, "/hook", "post")["responses"]
    assert "403" not in op(doc, "/api/call", "post")["responses"]


def test_produces_lists_each_media_type() -> None:
    app = App()

    @app.get("/report", produces=["application/json", "text/csv"], response_model=ItemOut)
    async def report() -> Response:
        return Response(b"")

    content = op(document(app), "/report")["responses"]["200"]["content"]
    assert content == {
        "application/json": {"schema": {"$ref": "#/components/schemas/ItemOut"}},
        "text/csv": {"schema": {"type": "string"}},
    }


# -- components -----------------------------------------------------------------------


def test_components_are_shared_and_named_stably() -> None:
    app = App()

    @app.post("/a")
    async def a(item: ItemIn) -> ItemOut:
        raise NotImplementedError

    @app.put("/b")
    async def b(item: ItemIn) -> ItemOut:
        raise NotImplementedError

    @app.get("/users", response_model=list[GlobalUser])
    async def users() -> list[Any]:
        return []

    class User(BaseModel):
        id: int

    @app.get("/other-users", response_model=list[User])
    async def other_users() -> list[Any]:
        return []

    doc = document(app)
    schemas = doc["components"]["schemas"]
    users_ref = op(doc, "/users")["responses"]["200"]["content"]["application/json"]
    other_ref = op(doc, "/other-users")["responses"]["200"]["content"]["application/json"]
    assert users_ref != other_ref  # two classes called User, two components
    names = [users_ref["schema"]["items"]["$ref"], other_ref["schema"]["items"]["$ref"]]
    assert all(name.rsplit("/", 1)[1] in schemas for name in names)
    assert list(schemas) == sorted(schemas)
    assert sum(1 for name in schemas if name.startswith("ItemIn")) == 1
    assert sum(1 for name in schemas if name.startswith("ItemOut")) == 1
    assert document(app)["components"] == doc["components"]


def test_the_schema_is_generated_once_and_cached() -> None:
    from satchel.openapi import openapi_schema

    app = App()

    @app.get("/x")
    async def x() -> dict[str, int]:
        return {}

    first = openapi_schema(app)
    assert openapi_schema(app) is first


# -- security -------------------------------------------------------------------------


def test_security_schemes_and_requirements() -> None:
    app = App()
    register_security_scheme(app, "bearer", bearer_scheme("JWT"))
    register_security_scheme(app, "session", session_cookie_scheme("sid"))

    @security("bearer", "session")
    async def current_user(request: Request) -> str:
        return "someone"

    app.provider(current_user, name="user")

    @app.get("/me")
    async def me(user: Annotated[str, Provide(name="user")]) -> dict[str, str]:
        return {"user": user}

    @app.get("/open")
    async def open_route() -> dict[str, str]:
        return {}

    @app.get("/scoped", security=[{"bearer": ["admin"]}])
    async def scoped() -> dict[str, str]:
        return {}

    doc = document(app)
    assert doc["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "session": {"type": "apiKey", "in": "cookie", "name": "sid"},
    }
    assert op(doc, "/me")["security"] == [{"bearer": []}, {"session": []}]
    assert "security" not in op(doc, "/open")
    assert op(doc, "/scoped")["security"] == [{"bearer": ["admin"]}]


def test_default_security_and_public_routes() -> None:
    app = App()
    register_security_scheme(app, "bearer", bearer_scheme())
    openapi_config(app).default_security = [{"bearer": []}]

    @app.get("/private")
    async def private() -> dict[str, str]:
        return {}

    @app.get("/public", security=[])
    async def public() -> dict[str, str]:
        return {}

    doc = document(app)
    assert op(doc, "/private")["security"] == [{"bearer": []}]
    assert op(doc, "/public")["security"] == []


def test_unknown_security_scheme_is_a_clear_error() -> None:
    app = App()

    @app.get("/x", security=[{"oauth": []}])
    async def x() -> dict[str, str]:
        return {}

    with pytest.raises(ImproperlyConfigured, match="register_security_scheme"):
        generate_openapi(app)


def test_bad_security_scheme_registration_is_refused() -> None:
    app = App()
    with pytest.raises(ImproperlyConfigured, match="type"):
        register_security_scheme(app, "x", {"scheme": "bearer"})
    with pytest.raises(ImproperlyConfigured, match="name"):
        register_security_scheme(app, "bad name", bearer_scheme())


def test_openapi_extra_is_merged_into_the_operation() -> None:
    app = App()

    @app.get("/x", openapi_extra={"x-rate-limit": 10, "externalDocs": {"url": "https://e.x"}})
    async def x() -> dict[str, str]:
        return {}

    operation = op(document(app), "/x")
    assert operation["x-rate-limit"] == 10
    assert operation["externalDocs"] == {"url": "https://e.x"}
