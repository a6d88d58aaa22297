"""render(): the response, the context, context processors and configuration."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import pytest
from jinja2 import Environment, StrictUndefined, TemplateNotFound, UndefinedError

from satchel import HTMLResponse, Request, render
from satchel.exceptions import ImproperlyConfigured
from satchel.templates import Templates, get_templates
from satchel.testing import TestClient

from .conftest import Site


def test_render_returns_html_response(site: Site) -> None:
    site.write("templates/index.html", "<h1>{{ title }}</h1>")
    app = site.app()

    @app.get("/")
    def index(request: Request) -> HTMLResponse:
        return render(request, "index.html", title="Hi")

    response = TestClient(app).get("/")
    assert response.status_code == 200
    assert response.text == "<h1>Hi</h1>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_status_headers_and_media_type(site: Site) -> None:
    site.write("templates/missing.html", "gone")
    site.write("templates/robots.txt", "User-agent: *")
    app = site.app()

    @app.get("/missing")
    def missing(request: Request) -> HTMLResponse:
        return render(request, "missing.html", status_code=404, headers={"x-page": "1"})

    @app.get("/robots.txt")
    def robots(request: Request) -> HTMLResponse:
        return render(request, "robots.txt", media_type="text/plain")

    client = TestClient(app)
    response = client.get("/missing")
    assert (response.status_code, response.headers["x-page"], response.text) == (404, "1", "gone")
    response = client.get("/robots.txt")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "User-agent: *"


def test_context_names_may_be_name_or_request_free(site: Site) -> None:
    # ``request`` and ``name`` are positional-only, so a context value may be called ``name``.
    site.write("templates/hello.html", "{{ name }} {{ request.path }}")
    app = site.app()

    @app.get("/hello")
    def hello(request: Request) -> HTMLResponse:
        return render(request, "hello.html", name="Ada")

    assert TestClient(app).get("/hello").text == "Ada /hello"


def test_environment_created_lazily_on_first_render(site: Site) -> None:
    site.write("templates/a.html", "a")
    app = site.app()

    @app.get("/")
    def index(request: Request) -> HTMLResponse:
        return render(request, "a.html")

    assert "templates" not in app.extensions
    TestClient(app).get("/")
    templates = app.extensions["templates"]
    assert isinstance(templates, Templates)
    assert get_templates(app) is templates


def test_async_handler_renders(site: Site) -> None:
    site.write("templates/a.html", "{{ n * 2 }}")
    app = site.app()

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return render(request, "a.html", n=21)

    assert TestClient(app).get("/").text == "42"


def test_context_processor_values_and_precedence(site: Site) -> None:
    site.write("templates/a.html", "{{ site_name }}|{{ who }}|{{ path }}")
    app = site.app()
    templates = Templates(app)

    @templates.context_processor
    def defaults(request: Request) -> dict[str, str]:
        return {"site_name": "Shop", "who": "processor", "path": request.path}

    @app.get("/p")
    def page(request: Request) -> HTMLResponse:
        return render(request, "a.html", who="handler")

    assert TestClient(app).get("/p").text == "Shop|handler|/p"


def test_async_context_processor_refused(site: Site) -> None:
    templates = Templates(site.app())

    async def processor(request: Request) -> dict[str, str]:
        return {}

    with pytest.raises(ImproperlyConfigured, match="plain function"):
        templates.context_processor(processor)


def test_env_filters_and_globals(site: Site) -> None:
    site.write("templates/a.html", "{{ 'x' | shout }} {{ version }}")
    app = site.app()
    templates = Templates(app)
    templates.env.filters["shout"] = lambda value: value.upper() + "!"
    templates.env.globals["version"] = "1.2"

    @app.get("/")
    def index(request: Request) -> HTMLResponse:
        return render(request, "a.html")

    assert TestClient(app).get("/").text == "X! 1.2"


def test_explicit_directory_and_environment_options(site: Site) -> None:
    site.write("views/a.html", "{{ missing }}")
    site.write("templates/a.html", "default folder")
    app = site.app()
    templates = Templates(app, directory="views", undefined=StrictUndefined)
    assert templates.search_path == [str(site.root / "views")]
    with pytest.raises(UndefinedError):
        templates.render_to_string("a.html")


def test_several_directories_first_wins(site: Site) -> None:
    site.write("one/a.html", "one")
    site.write("two/a.html", "two")
    site.write("two/b.html", "b from two")
    templates = Templates(site.app(), directory=["one", site.root / "two"])
    assert templates.render_to_string("a.html") == "one"
    assert templates.render_to_string("b.html") == "b from two"


def test_templates_twice_refused(site: Site) -> None:
    app = site.app()
    Templates(app)
    with pytest.raises(ImproperlyConfigured, match="get_templates"):
        Templates(app)


def test_async_environment_refused(site: Site) -> None:
    with pytest.raises(ImproperlyConfigured, match="synchronous"):
        Templates(site.app(), enable_async=True)


def test_render_to_string_with_and_without_request(site: Site) -> None:
    site.write(
        "templates/mail.txt", "Hello {{ name }}{% if request %} via {{ request.path }}{% endif %}"
    )
    app = site.app()
    templates = get_templates(app)
    assert templates.render_to_string("mail.txt", name="<Ada>") == "Hello <Ada>"
    request = Request({"type": "http", "path": "/x", "headers": []})
    request.app = app
    assert templates.render_to_string("mail.txt", request, name="Ada") == "Hello Ada via /x"


def test_missing_template_names_the_search_path(site: Site) -> None:
    site.write("templates/a.html", "a")
    templates = get_templates(site.app())
    with pytest.raises(TemplateNotFound, match="templates"):
        templates.get_template("nope.html")


def test_no_templates_folder_says_how_to_fix(site: Site) -> None:
    templates = get_templates(site.app())
    with pytest.raises(TemplateNotFound, match="create 'templates/'"):
        templates.get_template("a.html")


def test_render_needs_app_on_request() -> None:
    request = Request({"type": "http", "path": "/", "headers": []})
    with pytest.raises(ImproperlyConfigured, match=r"request\.app"):
        render(request, "a.html")


def test_default_root_is_beside_the_app_file(tmp_path: Path) -> None:
    # App() without root_path looks for templates/ beside the file that creates it.
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "a.html").write_text("beside")
    source = "from satchel import App\napp = App(debug=False)\n"
    namespace: dict[str, object] = {}
    exec(compile(source, str(tmp_path / "main.py"), "exec"), namespace)
    templates = get_templates(namespace["app"])
    assert templates.render_to_string("a.html") == "beside"


def test_dict_attribute_lookup_matches_jinja(site: Site) -> None:
    # The fast path for ``row.key`` on dicts must give what plain Jinja gives.
    source = (
        "{{ d.name }}|{{ d.missing is undefined }}|{{ d.items is callable }}|"
        "{{ d['items'] }}|{{ o.name }}|{{ o.missing is undefined }}"
    )
    values = {
        "d": {"name": "<ada>", "items": "key"},
        "o": OrderedDict(name="bob"),
    }
    ours = get_templates(site.app()).env.from_string(source).render(values)
    plain = Environment(autoescape=True).from_string(source).render(values)
    assert ours == plain == "&lt;ada&gt;|True|True|key|bob|True"
