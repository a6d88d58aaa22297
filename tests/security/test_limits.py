"""Request limits come from settings: fields, files, file size, field size, body size."""

from __future__ import annotations

from typing import Any

from satchel import App, Request
from satchel.http.forms import FormLimits
from satchel.testing import TestClient


def _upload_app(**settings: Any) -> App:
    app = App(secret_key="limits-" + "Zx9!" * 12, **settings)

    @app.post("/form")
    async def form(request: Request) -> dict[str, int]:
        data = await request.form()
        return {"items": len(data.multi_items())}

    return app


def test_defaults_match_the_issue() -> None:
    app = _upload_app()
    app.freeze()
    assert app.form_limits == FormLimits(
        max_fields=1000,
        max_files=100,
        max_file_size=100 * 1024 * 1024,
        max_field_size=1024 * 1024,
        max_body_size=1024 * 1024,
    )


def test_field_count_limit() -> None:
    client = TestClient(_upload_app(max_form_fields=5))
    assert client.post("/form", data={f"f{i}": "v" for i in range(5)}).json() == {"items": 5}
    assert client.post("/form", data={f"f{i}": "v" for i in range(6)}).status_code == 413


def test_a_flood_of_fields_is_413() -> None:
    client = TestClient(_upload_app())
    body = b"&".join(b"f%d=v" % i for i in range(100_000))
    response = client.post(
        "/form", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413


def test_file_count_and_size_limits() -> None:
    client = TestClient(_upload_app(max_form_files=2, max_file_size=10))
    two = [("f", ("a.txt", b"x")), ("f", ("b.txt", b"y"))]
    assert client.post("/form", files=two).json() == {"items": 2}
    three = [*two, ("f", ("c.txt", b"z"))]
    assert client.post("/form", files=three).status_code == 413
    assert client.post("/form", files={"f": ("big.txt", b"x" * 11)}).status_code == 413


def test_field_size_limit() -> None:
    client = TestClient(_upload_app(max_field_size=8))
    files = {"f": ("a.txt", b"x")}
    assert client.post("/form", data={"a": "x" * 8}, files=files).status_code == 200
    assert client.post("/form", data={"a": "x" * 9}, files=files).status_code == 413


def test_body_size_limit_bounds_urlencoded_forms() -> None:
    client = TestClient(_upload_app(max_body_size=100))
    assert client.post("/form", data={"a": "x" * 200}).status_code == 413


def test_explicit_form_limits_win_over_settings() -> None:
    app = App(
        secret_key="limits-" + "Zx9!" * 12, max_form_fields=1, form_limits=FormLimits(max_fields=3)
    )

    @app.post("/form")
    async def form(request: Request) -> dict[str, int]:
        return {"fields": len(await request.form())}

    client = TestClient(app)
    assert client.post("/form", data={"a": "1", "b": "2"}).json() == {"fields": 2}
    assert client.post("/form", data={"a": "1", "b": "2", "c": "3", "d": "4"}).status_code == 413
