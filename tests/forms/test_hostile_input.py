"""Hostile posts: oversized values, floods, bad encodings, odd shapes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import EmailStr, Field

from satchel.forms import Form, LongText
from satchel.http.datastructures import MultiDict
from satchel.testing import TestClient

URLENCODED = {"content-type": "application/x-www-form-urlencoded"}


class Comment(Form):
    author: str = Field(max_length=50)
    email: EmailStr
    body: Annotated[str, LongText] = Field(min_length=1, max_length=2000)
    mood: Literal["happy", "sad"] = "happy"


def _client(form_app: Any) -> TestClient:
    return TestClient(form_app(Comment))


def test_value_over_the_form_limit_is_a_field_error(form_app: Any) -> None:
    response = _client(form_app).post(
        "/form", data={"author": "A" * 5000, "email": "a@example.com", "body": "hi"}
    )
    assert response.status_code == 422
    assert "at most 50 characters" in response.text


def test_body_over_the_request_limit_is_413(form_app: Any) -> None:
    huge = b"body=" + b"x" * (2 * 1024 * 1024)
    response = _client(form_app).post("/form", content=huge, headers=URLENCODED)
    assert response.status_code == 413


def test_a_flood_of_fields_is_413(form_app: Any) -> None:
    body = "&".join(f"f{i}=1" for i in range(100_000)).encode()
    response = _client(form_app).post("/form", content=body, headers=URLENCODED)
    assert response.status_code == 413


@pytest.mark.parametrize("body", [b"author=%E9t%E9", b"author=\xe9t\xe9", b"author=%ZZ"])
def test_non_utf8_or_malformed_urlencoded_is_400(form_app: Any, body: bytes) -> None:
    response = _client(form_app).post("/form", content=body, headers=URLENCODED)
    assert response.status_code == 400


def test_non_utf8_multipart_field_is_400(form_app: Any) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="author"\r\n\r\n\xff\xfe\r\n--b--\r\n'
    response = _client(form_app).post(
        "/form", content=body, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 400


def test_json_body_is_not_a_form(form_app: Any) -> None:
    response = _client(form_app).post("/form", json={"author": "A"})
    assert response.status_code == 415


def test_utf8_text_and_control_characters_round_trip(html: Any) -> None:
    text = "Zo\u00eb \u2603 \U0001f600 \x00\x07 tab\there"
    form = Comment.bind({"author": text[:50], "email": "z@example.com", "body": text})
    assert form.is_valid()
    assert form.data.body == text
    page = html(form.render())
    assert page.control("body").text == "\n" + text


def test_mixed_shapes_in_a_plain_mapping() -> None:
    # A list for a single field takes the first item; None is absent.
    form = Comment.bind({"author": ["Ann", "Bob"], "email": "a@example.com", "body": None})
    assert form.errors == {"body": ["This field is required."]}
    assert form["author"].value == "Ann"


def test_attribute_named_fields_stay_reachable_by_key() -> None:
    class Odd(Form):
        errors: str = ""
        data: str = ""

    form = Odd.bind({"errors": "e", "data": "d"})
    assert form["errors"].value == "e"
    assert form.data.data == "d"
    assert form.errors == {}


def test_repeated_select_value_first_wins() -> None:
    form = Comment.bind(
        MultiDict(
            [
                ("author", "A"),
                ("email", "a@example.com"),
                ("body", "b"),
                ("mood", "sad"),
                ("mood", "evil"),
            ]
        )
    )
    assert form.data.mood == "sad"


def test_bind_refuses_data_it_cannot_read() -> None:
    with pytest.raises(TypeError, match="pass a mapping"):
        Comment.bind(["author", "A"])
