"""Autoescaping: on for .html, .htm, .xml and .jinja; off for other files."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from satchel import HTMLResponse, Request, render
from satchel.templates import get_templates
from satchel.testing import TestClient

from .conftest import Site

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '" onmouseover="alert(1)'
SINGLE = "' onfocus='alert(1)"


@pytest.mark.parametrize(
    "name", ["page.html", "page.htm", "feed.xml", "page.jinja", "p.html.jinja"]
)
def test_escaped_extensions(site: Site, name: str) -> None:
    site.write(f"templates/{name}", "<p title=\"{{ a }}\" data-x='{{ s }}'>{{ body }}</p>")
    app = site.app()

    @app.get("/")
    def page(request: Request, body: str, a: str, s: str) -> HTMLResponse:
        return render(request, name, body=body, a=a, s=s)

    text = TestClient(app).get("/", params={"body": SCRIPT, "a": ATTRIBUTE, "s": SINGLE}).text
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert 'title="&#34; onmouseover=&#34;alert(1)"' in text
    assert "data-x='&#39; onfocus=&#39;alert(1)'" in text


def test_txt_is_not_escaped(site: Site) -> None:
    site.write("templates/mail.txt", "Hi {{ name }}")
    templates = get_templates(site.app())
    assert templates.render_to_string("mail.txt", name="<b>Ada & co</b>") == "Hi <b>Ada & co</b>"


def test_string_templates_are_escaped(site: Site) -> None:
    templates = get_templates(site.app())
    assert templates.env.from_string("{{ x }}").render(x=SCRIPT) == Markup.escape(SCRIPT)


def test_markup_and_safe_filter_pass_through(site: Site) -> None:
    site.write("templates/a.html", "{{ trusted }} {{ raw | safe }} {{ raw }}")
    templates = get_templates(site.app())
    text = templates.render_to_string("a.html", trusted=Markup("<b>ok</b>"), raw="<i>x</i>")
    assert text == "<b>ok</b> <i>x</i> &lt;i&gt;x&lt;/i&gt;"


def test_escaping_survives_include_and_extends(site: Site) -> None:
    site.write("templates/base.html", "<main>{% block body %}{% endblock %}</main>")
    site.write("templates/row.html", "<td>{{ item }}</td>")
    site.write(
        "templates/child.html",
        '{% extends "base.html" %}{% block body %}{% for item in items %}'
        '{% include "row.html" %}{% endfor %}{% endblock %}',
    )
    templates = get_templates(site.app())
    text = templates.render_to_string("child.html", items=[SCRIPT])
    assert text == "<main><td>&lt;script&gt;alert(1)&lt;/script&gt;</td></main>"
