"""The issue's contract end to end: a template with {{ csrf_input() }} {{ form.email }}, CSRF on."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from pydantic import EmailStr, Field

from satchel import App, Request
from satchel.forms import Form
from satchel.testing import TestClient


def _absent(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is None
    except ModuleNotFoundError:  # the parent package is missing too
        return True


_MISSING = [
    name
    for name in ("satchel.security.csrf", "satchel.templates", "satchel.sessions.flash")
    if _absent(name)
]
pytestmark = pytest.mark.skipif(
    bool(_MISSING), reason=f"CSRF/templates/sessions batteries not present yet: {_MISSING}"
)

TEMPLATE = """<!doctype html>
{% for category, message in messages %}<p class="flash {{ category }}">{{ message }}</p>{% endfor %}
<form method="post" enctype="{{ form.enctype }}">
  {{ csrf_input() }}
  {{ form.email }}
  {{ form.message }}
  <button>Send</button>
</form>
"""


class ContactForm(Form):
    email: EmailStr
    message: str = Field(min_length=10)


def _app(root: Path) -> App:
    from satchel import flash, redirect, render

    (root / "templates").mkdir()
    (root / "templates" / "contact.html").write_text(TEMPLATE)
    (root / "templates" / "index.html").write_text(
        "{% for c, m in messages %}<p class='flash {{ c }}'>{{ m }}</p>{% endfor %}"
    )
    app = App(root_path=root, allowed_hosts=["testserver"])

    @app.get("/", name="index")
    async def index(request: Request) -> Any:
        return render(request, "index.html")

    @app.route("/contact", methods=["GET", "POST"])
    async def contact(request: Request) -> Any:
        form = await ContactForm.from_request(request)
        if form.is_valid():
            flash(request, "Thanks!", "success")
            return redirect(app.url_for("index"))
        return render(request, "contact.html", form=form)

    return app


def _token(html: Any, text: str) -> str:
    page = html(text)
    return str(page.control("csrf_token").attrs["value"])


def test_contact_form_with_csrf_token(tmp_path: Path, html: Any) -> None:
    client = TestClient(_app(tmp_path), enforce_csrf_checks=True)
    first = client.get("/contact")
    assert first.status_code == 200
    page = html(first.text)
    assert page.control("email").attrs["type"] == "email"
    token = _token(html, first.text)

    invalid = client.post(
        "/contact", data={"csrf_token": token, "email": "x", "message": "<script>"}
    )
    assert invalid.status_code == 200
    page = html(invalid.text)
    assert page.control("message").attrs["value"] == "<script>"
    assert "script" not in page.tags()
    assert page.control("email").attrs["aria-invalid"] == "true"

    token = _token(html, invalid.text)
    sent = client.post(
        "/contact",
        data={"csrf_token": token, "email": "ann@example.com", "message": "Hello there!"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == "/"
    assert "Thanks!" in client.get("/").text


def test_post_without_the_token_is_refused(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path), enforce_csrf_checks=True)
    client.get("/contact")  # a session exists; the post simply lacks the token
    refused = client.post("/contact", data={"email": "ann@example.com", "message": "Hello!!!!!"})
    assert refused.status_code == 403
