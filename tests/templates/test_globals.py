"""Template globals: url_for, static, request, messages, csrf, csp_nonce, current_user."""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest
from jinja2 import TemplateError

from satchel import HTMLResponse, RedirectResponse, Request, flash, render
from satchel.exceptions import ImproperlyConfigured
from satchel.templates import get_templates
from satchel.testing import TestClient

from .conftest import Site


def page_app(site: Site, source: str, **settings: Any) -> Any:
    """Return an app whose ``/page`` renders ``source`` (extra query params become context)."""
    site.write("templates/page.html", source)
    app = site.app(**settings)

    @app.get("/page")
    def page(request: Request) -> HTMLResponse:
        return render(request, "page.html", **dict(request.query.items()))

    return app


# -- url_for -------------------------------------------------------------------------


def test_url_for_builds_paths_and_query(site: Site) -> None:
    app = page_app(site, "{{ url_for('item', id=7) }} {{ url_for('item', id=8, tab='a b') }}")

    @app.get("/items/{id:int}")
    def item(id: int) -> str:
        return ""

    assert TestClient(app).get("/page").text == "/items/7 /items/8?tab=a+b"


def test_url_for_adds_mount_root_path(site: Site) -> None:
    app = page_app(site, "{{ url_for('page') }}")
    assert TestClient(app, root_path="/shop").get("/page").text == "/shop/page"


def test_url_for_unknown_name_fails_loudly(site: Site) -> None:
    app = page_app(site, "{{ url_for('nope') }}")
    with pytest.raises(ImproperlyConfigured, match="no route named 'nope'"):
        TestClient(app).get("/page")


# -- static --------------------------------------------------------------------------


def test_static_without_manifest(site: Site) -> None:
    app = page_app(site, "{{ static('css/site.css') }} {{ static('/img/a b.png') }}")
    assert TestClient(app).get("/page").text == "/static/css/site.css /static/img/a%20b.png"


def test_static_url_setting(site: Site) -> None:
    app = page_app(site, "{{ static('app.js') }}", static_url="/assets/")
    assert TestClient(app).get("/page").text == "/assets/app.js"


# -- request -------------------------------------------------------------------------


def test_request_in_context(site: Site) -> None:
    app = page_app(site, "{{ request.method }} {{ request.path }} {{ request.query['q'] }}")
    text = TestClient(app).get("/page", params={"q": "<x>"}).text
    assert text == "GET /page &lt;x&gt;"


# -- messages ------------------------------------------------------------------------

MESSAGES = "{% for category, message in messages %}[{{ category }}:{{ message }}]{% endfor %}"


def flash_app(site: Site) -> Any:
    site.write("templates/show.html", f"show {MESSAGES}")
    site.write("templates/quiet.html", "quiet")
    site.write("templates/layout.html", f'{MESSAGES}|{{% include "show.html" %}}')
    app = site.app()

    @app.post("/save")
    def save(request: Request) -> RedirectResponse:
        flash(request, "Saved <b>it</b>", "success")
        flash(request, "Check", "warning")
        return RedirectResponse("/show", 303)

    for name in ("show", "quiet", "layout"):

        def view(request: Request, _name: str = name) -> HTMLResponse:
            return render(request, f"{_name}.html")

        app.add_route(f"/{name}", view, ["GET"], name=name)
    return app


def test_messages_shown_once_and_escaped(site: Site) -> None:
    client = TestClient(flash_app(site))
    response = client.post("/save")
    assert response.text == "show [success:Saved &lt;b&gt;it&lt;/b&gt;][warning:Check]"
    assert client.get("/show").text == "show "


def test_messages_kept_when_template_does_not_use_them(site: Site) -> None:
    client = TestClient(flash_app(site), follow_redirects=False)
    client.post("/save")
    assert client.get("/quiet").text == "quiet"
    assert client.get("/show").text.startswith("show [success:")


def test_messages_same_in_layout_and_include(site: Site) -> None:
    client = TestClient(flash_app(site), follow_redirects=False)
    client.post("/save")
    text = client.get("/layout").text
    first, second = text.split("|")
    assert first == "[success:Saved &lt;b&gt;it&lt;/b&gt;][warning:Check]"
    assert second == "show " + first


# -- CSRF ----------------------------------------------------------------------------


def csrf_app(site: Site) -> Any:
    site.write(
        "templates/form.html",
        '<form method="post">{{ csrf_input() }}</form><meta name="csrf" content="{{ csrf_token() }}">',
    )
    app = site.app()

    @app.get("/form")
    def form(request: Request) -> HTMLResponse:
        return render(request, "form.html")

    @app.post("/form")
    def submit() -> str:
        return "accepted"

    return app


def test_csrf_input_round_trip(site: Site) -> None:
    client = TestClient(csrf_app(site), enforce_csrf_checks=True)
    text = client.get("/form").text
    match = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)">', text)
    assert match is not None, text
    assert client.post("/form", data={"csrf_token": match.group(1)}).text == "accepted"
    assert client.post("/form", data={"csrf_token": "forged"}).status_code == 403


def test_csrf_token_in_header(site: Site) -> None:
    client = TestClient(csrf_app(site), enforce_csrf_checks=True)
    text = client.get("/form").text
    token = re.search(r'<meta name="csrf" content="([^"]+)">', text)
    assert token is not None
    response = client.post("/form", headers={"x-csrf-token": token.group(1)})
    assert response.text == "accepted"


def test_csrf_needs_a_request(site: Site) -> None:
    site.write("templates/a.html", "{{ csrf_token() }}")
    with pytest.raises(ImproperlyConfigured, match=r"render\(request"):
        get_templates(site.app()).render_to_string("a.html")


def test_missing_battery_is_a_clear_error(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    app = page_app(site, "{{ csrf_input() }}")
    monkeypatch.setitem(sys.modules, "satchel.security.csrf", None)
    with pytest.raises(ImproperlyConfigured, match=r"satchel\.security\.csrf\.csrf_input"):
        TestClient(app).get("/page")


def test_unused_globals_need_no_battery(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    app = page_app(site, "plain")
    monkeypatch.setitem(sys.modules, "satchel.sessions.flash", None)
    monkeypatch.setitem(sys.modules, "satchel.security.csrf", None)
    assert TestClient(app).get("/page").text == "plain"


# -- CSP nonce -----------------------------------------------------------------------


def test_csp_nonce_matches_header(site: Site) -> None:
    app = page_app(
        site,
        '<script nonce="{{ csp_nonce() }}"></script><style nonce="{{ csp_nonce() }}"></style>',
        content_security_policy="default-src 'self'",
    )
    response = TestClient(app).get("/page")
    nonces = re.findall(r'nonce="([^"]+)"', response.text)
    assert len(nonces) == 2
    assert nonces[0] == nonces[1]
    assert f"'nonce-{nonces[0]}'" in response.headers["content-security-policy"]


# -- current_user --------------------------------------------------------------------


class StubAuth:
    """Stands in for the accounts battery: counts user loads."""

    def __init__(self) -> None:
        self.loads = 0

    def load_user(self, request: Request) -> str:
        self.loads += 1
        return "ada"


def test_current_user_none_without_accounts(site: Site) -> None:
    app = page_app(site, "{{ current_user is none }}")
    assert TestClient(app).get("/page").text == "True"


def test_current_user_loaded_only_when_used(site: Site) -> None:
    site.write("templates/who.html", "{{ current_user }}")
    app = page_app(site, "no user here")
    auth = app.extensions["auth"] = StubAuth()

    @app.get("/who")
    def who(request: Request) -> HTMLResponse:
        return render(request, "who.html")

    client = TestClient(app)
    assert client.get("/page").text == "no user here"
    assert auth.loads == 0
    assert client.get("/who").text == "ada"
    assert auth.loads == 1


def test_context_value_named_like_a_global_wins(site: Site) -> None:
    app = page_app(site, "{{ messages }}")

    @app.get("/own")
    def own(request: Request) -> HTMLResponse:
        return render(request, "page.html", messages="mine")

    assert TestClient(app).get("/own").text == "mine"


def test_template_errors_are_jinja_errors(site: Site) -> None:
    app = page_app(site, "{% for %}")
    with pytest.raises(TemplateError):
        TestClient(app).get("/page")
