"""Where templates come from: the app first, then modules in include order; no escaping."""

from __future__ import annotations

import pytest
from jinja2 import TemplateNotFound

from satchel import HTMLResponse, Request, render
from satchel.templates import Templates, get_templates
from satchel.templates.loader import check_template_name
from satchel.testing import TestClient

from .conftest import Site


def test_app_template_overrides_module(site: Site) -> None:
    site.write("templates/blog/post.html", "project's post")
    site.write("blog/templates/blog/post.html", "module's post")
    site.write("blog/templates/blog/list.html", "module's list")
    app = site.app()
    blog = site.module("blog", prefix="/blog")

    @blog.get("/")
    def listing(request: Request) -> HTMLResponse:
        return render(request, "blog/list.html")

    @blog.get("/post")
    def post(request: Request) -> HTMLResponse:
        return render(request, "blog/post.html")

    app.include(blog)
    client = TestClient(app)
    assert client.get("/blog/post").text == "project's post"
    assert client.get("/blog/").text == "module's list"


def test_modules_in_include_order_depth_first(site: Site) -> None:
    site.write("first/templates/a.html", "first")
    site.write("inner/templates/a.html", "inner")
    site.write("inner/templates/b.html", "inner b")
    site.write("second/templates/a.html", "second")
    site.write("second/templates/b.html", "second b")
    site.write("second/templates/c.html", "second c")
    app = site.app()
    first, inner, second = site.module("first"), site.module("inner"), site.module("second")
    first.include(inner)
    app.include(first)
    app.include(second)
    templates = get_templates(app)
    assert templates.search_path == [
        str(site.root / "first" / "templates"),
        str(site.root / "inner" / "templates"),
        str(site.root / "second" / "templates"),
    ]
    assert templates.render_to_string("a.html") == "first"
    assert templates.render_to_string("b.html") == "inner b"
    assert templates.render_to_string("c.html") == "second c"


def test_module_included_after_templates_created(site: Site) -> None:
    site.write("late/templates/late.html", "late")
    app = site.app()
    templates = Templates(app)
    app.include(site.module("late"))
    assert templates.render_to_string("late.html") == "late"


def test_modules_can_be_left_out(site: Site) -> None:
    site.write("blog/templates/a.html", "module")
    app = site.app()
    app.include(site.module("blog"))
    templates = Templates(app, modules=False)
    with pytest.raises(TemplateNotFound):
        templates.get_template("a.html")


def test_module_without_templates_folder_is_skipped(site: Site) -> None:
    site.write("templates/a.html", "a")
    app = site.app()
    app.include(site.module("bare", templates_folder=None))
    app.include(site.module("empty"))
    assert get_templates(app).search_path == [str(site.root / "templates")]


HOSTILE_NAMES = [
    "../secret.html",
    "../../secret.html",
    "a/../../secret.html",
    "a/../a.html",
    "./a.html",
    "..",
    "/etc/passwd",
    "//etc/passwd",
    "\\secret.html",
    "..\\secret.html",
    "a\\..\\..\\secret.html",
    "C:secret.html",
    "C:/secret.html",
    "a.html\x00.txt",
    "a.html\n",
    ". ./secret.html",
    "",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_escaping_names_refused(site: Site, name: str) -> None:
    site.write("secret.html", "SECRET")
    site.write("templates/a.html", "a")
    site.write("templates/a/x.html", "x")
    templates = get_templates(site.app())
    with pytest.raises(TemplateNotFound):
        templates.get_template(name)


def test_absolute_path_to_existing_file_refused(site: Site) -> None:
    secret = site.write("secret.html", "SECRET")
    site.write("templates/a.html", "a")
    templates = get_templates(site.app())
    with pytest.raises(TemplateNotFound):
        templates.get_template(str(secret))
    with pytest.raises(TemplateNotFound):
        check_template_name(str(secret))


def test_include_cannot_escape(site: Site) -> None:
    site.write("secret.html", "SECRET")
    site.write("templates/page.html", '{% include "../secret.html" %}')
    templates = get_templates(site.app())
    with pytest.raises(TemplateNotFound):
        templates.render_to_string("page.html")


def test_user_chosen_name_cannot_read_files(site: Site) -> None:
    site.write("secret.html", "SECRET")
    site.write("templates/help/intro.html", "intro")
    app = site.app()

    @app.get("/help")
    def help_page(request: Request, topic: str) -> HTMLResponse:
        return render(request, f"help/{topic}.html")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/help", params={"topic": "intro"}).text == "intro"
    for topic in ("../../secret", "..%2f..%2fsecret", "/../../secret"):
        response = client.get("/help", params={"topic": topic})
        assert response.status_code == 500
        assert "SECRET" not in response.text


def test_names_with_dots_inside_segments_allowed(site: Site) -> None:
    site.write("templates/a..b/c.d.html", "fine")
    assert get_templates(site.app()).render_to_string("a..b/c.d.html") == "fine"
