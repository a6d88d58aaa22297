"""Static files for pages: collect_static, the manifest, static() and serve_static()."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import pytest

from satchel import HTMLResponse, Request, render
from satchel.exceptions import ImproperlyConfigured
from satchel.templates import collect_static, get_templates, serve_static
from satchel.templates.assets import IMMUTABLE, REVALIDATE, read_manifest, static_sources
from satchel.templates.collect import file_digest, hashed_name
from satchel.testing import TestClient

from .conftest import Site

HASHED = re.compile(r"^css/site\.[0-9a-f]{8}\.css$")


def make_static(site: Site) -> None:
    site.write("static/css/site.css", "body { color: red }")
    site.write("static/js/app.js", "console.log(1)")
    site.write("static/.env", "SECRET=1")
    site.write("static/.git/config", "[core]")
    site.write("static/notes.txt~", "backup")
    site.write("blog/static/blog/blog.css", "h1 {}")
    site.write("blog/static/css/site.css", "module version")


def make_app(site: Site, **settings: Any) -> Any:
    make_static(site)
    app = site.app(**settings)
    serve_static(app)
    app.include(site.module("blog", prefix="/blog"))
    return app


# -- collecting ----------------------------------------------------------------------


def test_hashed_name() -> None:
    assert hashed_name("css/site.css", "abcd1234") == "css/site.abcd1234.css"
    assert hashed_name("a/b.min.js", "abcd1234") == "a/b.min.abcd1234.js"
    assert hashed_name("LICENSE", "abcd1234") == "LICENSE.abcd1234"


def test_collect_copies_hashes_and_writes_manifest(site: Site) -> None:
    app = make_app(site)
    result = collect_static(app)
    root = site.root / "staticfiles"
    assert result.root == str(root)
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["version"] == 1
    paths = manifest["paths"]
    assert set(paths) == {"css/site.css", "js/app.js", "blog/blog.css"}
    assert HASHED.match(paths["css/site.css"])
    digest = file_digest(str(site.root / "static/css/site.css"))
    assert paths["css/site.css"] == f"css/site.{digest}.css"
    assert (root / paths["css/site.css"]).read_text() == "body { color: red }"
    assert (root / "css/site.css").read_text() == "body { color: red }"
    assert (root / paths["blog/blog.css"]).read_text() == "h1 {}"
    assert read_manifest(str(root)) == paths


def test_app_file_overrides_module_file(site: Site) -> None:
    result = collect_static(make_app(site))
    assert result.overridden == ["css/site.css"]
    assert (site.root / "staticfiles/css/site.css").read_text() == "body { color: red }"


def test_dotfiles_backups_never_collected(site: Site) -> None:
    result = collect_static(make_app(site))
    root = site.root / "staticfiles"
    assert not (root / ".env").exists()
    assert not (root / ".git").exists()
    assert not (root / "notes.txt~").exists()
    assert {".env", ".git/", "notes.txt~"} <= set(result.ignored)


def test_symlink_leading_outside_not_collected(site: Site) -> None:
    app = make_app(site)
    secret = site.write("secret.txt", "SECRET")
    os.symlink(secret, site.root / "static" / "leak.txt")
    os.symlink(site.root / "static/js/app.js", site.root / "static" / "alias.js")
    result = collect_static(app)
    assert not (site.root / "staticfiles/leak.txt").exists()
    assert "leak.txt" in result.ignored
    assert (site.root / "staticfiles/alias.js").read_text() == "console.log(1)"


def test_change_gives_new_name_and_keeps_old_copy(site: Site) -> None:
    app = make_app(site)
    first = collect_static(app).paths["css/site.css"]
    site.write("static/css/site.css", "body { color: blue }")
    second = collect_static(app).paths["css/site.css"]
    assert first != second
    root = site.root / "staticfiles"
    assert (root / first).exists()  # pages already out there still get their file
    assert (root / second).read_text() == "body { color: blue }"
    assert (root / "css/site.css").read_text() == "body { color: blue }"


def test_clear_removes_old_copies(site: Site) -> None:
    app = make_app(site)
    first = collect_static(app).paths["css/site.css"]
    site.write("static/css/site.css", "changed")
    collect_static(app, clear=True)
    assert not (site.root / "staticfiles" / first).exists()


def test_static_dirs_under_static_url_keep_their_place(site: Site) -> None:
    site.write("vendor/lib.js", "lib")
    site.write("assets/other.js", "other")
    app = site.app()
    app.static("/static/vendor", "vendor")
    app.static("/assets", "assets")
    result = collect_static(app)
    assert set(result.paths) == {"vendor/lib.js"}
    assert static_sources(app) == [("vendor", str(site.root / "vendor"))]


def test_app_static_at_static_url_is_collected(site: Site) -> None:
    site.write("public/a.css", "a")
    app = site.app()
    app.static("/static", "public")
    assert set(collect_static(app).paths) == {"a.css"}


@pytest.mark.parametrize("root", ["static", "static/out", "."])
def test_static_root_overlapping_a_source_refused(site: Site, root: str) -> None:
    app = make_app(site, static_root=root)
    with pytest.raises(ImproperlyConfigured, match="overlap"):
        collect_static(app)
    assert (site.root / "static/css/site.css").exists()


def test_clear_refuses_a_root_holding_the_project(site: Site) -> None:
    elsewhere = site.root.parent / "elsewhere"
    (elsewhere / "public").mkdir(parents=True)
    (elsewhere / "public" / "a.css").write_text("a")
    site.write("app.py", "# the project")
    app = site.app(static_root=".")
    app.static("/static", elsewhere / "public")
    with pytest.raises(ImproperlyConfigured, match="holds the project"):
        collect_static(app, clear=True)
    assert (site.root / "app.py").exists()


def test_bad_manifest_is_a_clear_error(site: Site) -> None:
    root = site.root / "staticfiles"
    root.mkdir()
    (root / "manifest.json").write_text("[1, 2]")
    with pytest.raises(ImproperlyConfigured, match="not a static manifest"):
        read_manifest(str(root))
    (root / "manifest.json").write_text("{broken")
    with pytest.raises(ImproperlyConfigured, match="collectstatic"):
        read_manifest(str(root))


# -- static() ------------------------------------------------------------------------


def render_link(app: Any, path: str = "css/site.css") -> str:
    return get_templates(app).env.from_string("{{ static(p) }}").render(p=path)


def test_static_uses_manifest_in_production(site: Site) -> None:
    app = make_app(site)
    paths = collect_static(app).paths
    assert render_link(app) == "/static/" + paths["css/site.css"]


def test_static_ignores_manifest_in_debug(site: Site) -> None:
    collect_static(make_app(site))
    debug_app = site.app(debug=True)
    assert render_link(debug_app) == "/static/css/site.css"


def test_static_unknown_file_unhashed_with_warning(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(site)
    collect_static(app)
    with caplog.at_level(logging.WARNING, logger="satchel.static"):
        assert render_link(app, "new.css") == "/static/new.css"
        assert render_link(app, "new.css") == "/static/new.css"
    assert len([r for r in caplog.records if "new.css" in r.getMessage()]) == 1


# -- serving -------------------------------------------------------------------------


def test_serve_sources_in_debug(site: Site) -> None:
    app = make_app(site, debug=True)
    client = TestClient(app)
    response = client.get("/static/css/site.css")
    assert response.text == "body { color: red }"  # the project's, not the module's
    assert response.headers["cache-control"] == REVALIDATE
    assert client.get("/static/blog/blog.css").text == "h1 {}"
    assert client.get("/static/missing.css").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/css/..%2f..%2fsecret.txt"],
)
def test_serve_sources_refuses_traversal(site: Site, path: str) -> None:
    site.write("secret.txt", "SECRET")
    client = TestClient(make_app(site, debug=True))
    response = client.get(path)
    assert response.status_code == 404
    assert "SECRET" not in response.text


def test_serve_collected_in_production(site: Site) -> None:
    app = make_app(site)
    paths = collect_static(app).paths
    site.write("templates/page.html", '<link rel="stylesheet" href="{{ static("css/site.css") }}">')

    @app.get("/")
    def page(request: Request) -> HTMLResponse:
        return render(request, "page.html")

    with TestClient(app) as client:
        href = re.search(r'href="([^"]+)"', client.get("/").text)
        assert href is not None
        assert href.group(1) == "/static/" + paths["css/site.css"]
        response = client.get(href.group(1))
        assert response.status_code == 200
        assert response.text == "body { color: red }"
        assert response.headers["cache-control"] == IMMUTABLE
        plain = client.get("/static/css/site.css")
        assert plain.headers["cache-control"] == REVALIDATE
        assert client.get("/static/css/nope.css").status_code == 404


def test_production_serves_collected_copy_not_sources(site: Site) -> None:
    app = make_app(site)
    collect_static(app)
    site.write("static/js/app.js", "changed after collecting")
    assert TestClient(app).get("/static/js/app.js").text == "console.log(1)"


def test_production_without_collect_fails_at_startup(site: Site) -> None:
    app = make_app(site)
    with pytest.raises(Exception, match="collectstatic"), TestClient(app):
        pass


def test_serve_static_and_app_static_on_one_prefix_refused(site: Site) -> None:
    site.write("static/a.css", "a")
    app = site.app()
    app.static("/static", "static")
    with pytest.raises(ImproperlyConfigured, match=r"drop the app\.static"):
        serve_static(app)


def test_sources_order(site: Site) -> None:
    app = make_app(site)
    assert static_sources(app) == [
        ("", str(site.root / "static")),
        ("", str(site.root / "blog" / "static")),
    ]


def test_manifest_path_is_relative_to_root_path(site: Site, tmp_path: Path) -> None:
    # The cwd (tmp_path) is not the project root: static_root is under root_path.
    app = make_app(site)
    collect_static(app)
    assert (site.root / "staticfiles" / "manifest.json").exists()
    assert not (tmp_path / "staticfiles").exists()
