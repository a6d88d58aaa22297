"""File fields: real multipart posts, size and content-type limits, empty inputs."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from satchel import App, Request
from satchel.forms import FileField, Form
from satchel.http.datastructures import UploadFile
from satchel.http.forms import FormLimits
from satchel.testing import TestClient

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class AvatarForm(Form):
    name: str
    avatar: Annotated[
        UploadFile, FileField(max_size=1000, content_types=["image/png", "image/jpeg"])
    ]


class OptionalFileForm(Form):
    attachment: Annotated[UploadFile | None, FileField(max_size=100)] = None


class GalleryForm(Form):
    photos: Annotated[list[UploadFile], FileField(content_types=["image/*"])] = []


def test_upload_is_validated_and_readable() -> None:
    app = App(csrf_enabled=False)

    @app.post("/avatar")
    async def upload(request: Request) -> Any:
        form = await AvatarForm.from_request(request)
        if not form.is_valid():
            return {"errors": form.errors}
        content = await form.data.avatar.read()
        return {"name": form.data.name, "file": form.data.avatar.filename, "bytes": len(content)}

    client = TestClient(app)
    response = client.post(
        "/avatar", data={"name": "Ann"}, files={"avatar": ("me.png", PNG, "image/png")}
    )
    assert response.json() == {"name": "Ann", "file": "me.png", "bytes": len(PNG)}


def test_too_large_file_is_a_field_error(form_app: Any) -> None:
    client = TestClient(form_app(AvatarForm))
    response = client.post(
        "/form", data={"name": "Ann"}, files={"avatar": ("big.png", b"x" * 1001, "image/png")}
    )
    assert response.status_code == 422
    assert "larger than 1.0 KB" in response.text


def test_disallowed_content_type_is_a_field_error_and_not_sniffed(form_app: Any, html: Any) -> None:
    client = TestClient(form_app(AvatarForm))
    # PNG bytes declared as HTML: the declared type decides.
    response = client.post(
        "/form", data={"name": "Ann"}, files={"avatar": ("x.html", PNG, "text/html")}
    )
    assert response.status_code == 422
    page = html(response.text)
    error = page.find("ul", id="id_avatar_error")
    assert "'text/html' are not allowed" in error.text
    assert page.control("avatar").attrs["aria-invalid"] == "true"
    # And a declared PNG passes whatever its bytes are.
    ok = client.post(
        "/form", data={"name": "Ann"}, files={"avatar": ("x.png", b"<html>", "image/png")}
    )
    assert ok.json()["data"]["avatar"] == {"filename": "x.png", "type": "image/png", "size": 6}


def test_content_type_parameters_and_case_are_ignored(form_app: Any) -> None:
    client = TestClient(form_app(AvatarForm))
    response = client.post(
        "/form",
        data={"name": "Ann"},
        files={"avatar": ("x.jpg", b"jpg", "IMAGE/JPEG; charset=binary")},
    )
    assert response.status_code == 200


def test_missing_required_file(form_app: Any) -> None:
    client = TestClient(form_app(AvatarForm))
    response = client.post("/form", data={"name": "Ann"}, files={"other": ("a", b"a", "a/b")})
    assert response.status_code == 422
    assert "This field is required." in response.text


def _raw_multipart(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
    boundary = "formtestboundary"
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_file_input_left_empty_counts_as_no_file(form_app: Any) -> None:
    # What a browser sends for <input type=file> with nothing chosen.
    body, content_type = _raw_multipart([("attachment", "", b"")])
    client = TestClient(form_app(OptionalFileForm))
    response = client.post("/form", content=body, headers={"content-type": content_type})
    assert response.json() == {"ok": True, "data": {"attachment": None}}
    required = TestClient(form_app(AvatarForm))
    body, content_type = _raw_multipart([("name", None, b"Ann"), ("avatar", "", b"")])
    refused = required.post("/form", content=body, headers={"content-type": content_type})
    assert refused.status_code == 422
    assert "This field is required." in refused.text


def test_urlencoded_post_to_a_file_field_says_to_use_multipart(form_app: Any) -> None:
    client = TestClient(form_app(AvatarForm))
    response = client.post("/form", data={"name": "Ann", "avatar": "C:\\fakepath\\me.png"})
    assert response.status_code == 422
    assert "multipart/form-data" in response.text


def test_file_posted_to_a_text_field_is_an_error(form_app: Any) -> None:
    client = TestClient(form_app(AvatarForm))
    response = client.post(
        "/form",
        files={"name": ("n.txt", b"Ann", "text/plain"), "avatar": ("a.png", PNG, "image/png")},
    )
    assert response.status_code == 422
    assert "Expected text, not a file." in response.text


def test_several_files_in_one_field(form_app: Any) -> None:
    client = TestClient(form_app(GalleryForm))
    files = [
        ("photos", ("a.png", PNG, "image/png")),
        ("photos", ("b.gif", b"GIF89a", "image/gif")),
    ]
    response = client.post("/form", files=files)
    assert [f["filename"] for f in response.json()["data"]["photos"]] == ["a.png", "b.gif"]
    bad = client.post(
        "/form", files=[("photos", ("a.png", PNG, "image/png")), ("photos", ("c.sh", b"", "x/y"))]
    )
    assert bad.status_code == 422


def test_request_limits_still_apply_first() -> None:
    # The app-wide limit refuses the body with 413 before the form sees it.
    app = App(csrf_enabled=False, form_limits=FormLimits(max_file_size=500))

    @app.post("/avatar")
    async def upload(request: Request) -> Any:
        form = await AvatarForm.from_request(request)
        return {"valid": form.is_valid()}

    client = TestClient(app)
    response = client.post(
        "/avatar", data={"name": "A"}, files={"avatar": ("a.png", b"x" * 600, "image/png")}
    )
    assert response.status_code == 413


def test_file_field_rejects_a_negative_size() -> None:
    with pytest.raises(ValueError, match="max_size"):
        FileField(max_size=-1)


def test_wildcard_content_types() -> None:
    limits = FileField(content_types=["image/*"])
    assert limits.allows("image/webp")
    assert not limits.allows("imagex/png")
    assert not limits.allows("text/plain")
    assert FileField().allows("anything/at-all")
