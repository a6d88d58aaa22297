"""Compile once in production, reload on change in debug; template errors in the debug page."""

from __future__ import annotations

import html
from typing import Any

import pytest

from satchel import HTMLResponse, Request, render
from satchel.templates import Templates, get_templates
from satchel.testing import TestClient

from .conftest import Site

HTML = {"accept": "text/html"}


def served(site: Site, **settings: Any) -> tuple[Any, TestClient]:
    app = site.app(**settings)

    @app.get("/{name}")
    def page(request: Request, name: str) -> HTMLResponse:
        return render(request, f"{name}.html")

    return app, TestClient(app, raise_server_exceptions=False)


def test_production_compiles_once(site: Site) -> None:
    path = site.write("templates/a.html", "v1")
    app, client = served(site)
    assert client.get("/a").text == "v1"
    path.write_text("v2")
    site.touch_later(path)
    assert client.get("/a").text == "v1"
    assert get_templates(app).env.auto_reload is False


def test_compiled_template_object_is_reused(site: Site) -> None:
    site.write("templates/a.html", "a")
    templates = get_templates(site.app())
    assert templates.get_template("a.html") is templates.get_template("a.html")


def test_debug_reloads_on_change(site: Site) -> None:
    path = site.write("templates/a.html", "v1")
    app, client = served(site, debug=True)
    assert client.get("/a").text == "v1"
    path.write_text("v2")
    site.touch_later(path)
    assert client.get("/a").text == "v2"
    assert get_templates(app).env.auto_reload is True


def test_debug_reload_sees_an_included_template_change(site: Site) -> None:
    site.write("templates/a.html", '<{% include "part.html" %}>')
    part = site.write("templates/part.html", "v1")
    _, client = served(site, debug=True)
    assert client.get("/a").text == "<v1>"
    part.write_text("v2")
    site.touch_later(part)
    assert client.get("/a").text == "<v2>"


@pytest.mark.parametrize(
    ("debug", "setting", "expected"), [(False, True, True), (True, False, False)]
)
def test_auto_reload_setting_wins_over_debug(
    site: Site, debug: bool, setting: bool, expected: bool
) -> None:
    app = site.app(debug=debug, templates_auto_reload=setting)
    assert get_templates(app).env.auto_reload is expected


def test_auto_reload_argument_wins(site: Site) -> None:
    app = site.app(debug=False, templates_auto_reload=False)
    assert Templates(app, auto_reload=True).env.auto_reload is True


BROKEN = """\
<h1>{{ title }}</h1>
<p>fine</p>
<p>{{ items.missing.deeper }}</p>
"""


def test_debug_page_shows_template_file_and_line(site: Site) -> None:
    path = site.write("templates/broken.html", BROKEN)
    _, client = served(site, debug=True)
    response = client.get("/broken", headers=HTML)
    assert response.status_code == 500
    assert html.escape(f'File "{path}", line 3, in top-level template code') in response.text
    assert "{{ items.missing.deeper }}" in response.text  # the source line itself


def test_debug_page_shows_syntax_error_line(site: Site) -> None:
    path = site.write("templates/syntax.html", "a\nb\n{% if %}\n")
    _, client = served(site, debug=True)
    response = client.get("/syntax", headers=HTML)
    assert response.status_code == 500
    assert "TemplateSyntaxError" in response.text
    assert html.escape(f'File "{path}", line 3') in response.text


def test_production_page_reveals_nothing(site: Site) -> None:
    site.write("templates/broken.html", BROKEN)
    _, client = served(site)
    response = client.get("/broken", headers=HTML)
    assert response.status_code == 500
    assert "broken.html" not in response.text
    assert "missing" not in response.text
