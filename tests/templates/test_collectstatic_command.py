"""``satchel collectstatic``: the command around collect_static."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from satchel.cli.main import cli

from .conftest import Site

APP = """
from satchel import App
from satchel.templates import serve_static

app = App(debug=False, static_root={root!r})
serve_static(app)
"""


def project(site: Site, name: str, root: str = "staticfiles") -> Path:
    site.write("static/css/site.css", "body {}")
    site.write("static/.env", "SECRET=1")
    return site.write(f"{name}.py", APP.format(root=root))


def test_collects_and_reports(site: Site) -> None:
    app_file = project(site, "shop_collect")
    result = CliRunner().invoke(cli, ["collectstatic", f"{app_file}:app"])
    assert result.exit_code == 0, result.output
    root = site.root / "staticfiles"
    assert f"Collected 1 file into {root}" in result.output
    paths = json.loads((root / "manifest.json").read_text())["paths"]
    assert (root / paths["css/site.css"]).read_text() == "body {}"


def test_verbose_lists_ignored(site: Site) -> None:
    app_file = project(site, "shop_verbose")
    result = CliRunner().invoke(cli, ["collectstatic", f"{app_file}:app", "-v"])
    assert result.exit_code == 0, result.output
    assert "ignored: .env" in result.output


def test_clear_asks_first(site: Site) -> None:
    app_file = project(site, "shop_clear")
    runner = CliRunner()
    assert runner.invoke(cli, ["collectstatic", f"{app_file}:app"]).exit_code == 0
    stale = site.root / "staticfiles" / "stale.css"
    stale.write_text("old")
    refused = runner.invoke(cli, ["collectstatic", f"{app_file}:app", "--clear"], input="n\n")
    assert refused.exit_code == 1
    assert "Delete everything in" in refused.output
    assert stale.exists()
    done = runner.invoke(cli, ["collectstatic", f"{app_file}:app", "--clear", "--no-input"])
    assert done.exit_code == 0, done.output
    assert not stale.exists()
    assert (site.root / "staticfiles" / "css" / "site.css").exists()


@pytest.mark.parametrize("root", ["static", "."])
def test_overlap_is_an_error_not_a_traceback(site: Site, root: str) -> None:
    app_file = project(site, f"shop_overlap_{'dot' if root == '.' else root}", root=root)
    result = CliRunner().invoke(cli, ["collectstatic", f"{app_file}:app"])
    assert result.exit_code == 1
    assert "Error: static_root" in result.output
    assert "overlap" in result.output


def test_listed_in_help() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert "collectstatic" in result.output
