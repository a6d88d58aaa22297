"""Finding the app from a spec, the environment or the current directory."""

from __future__ import annotations

import pytest

from satchel.app import App
from satchel.cli.discovery import (
    AppNotFound,
    check_findable,
    import_string,
    load_app,
    resolve_spec,
    split_spec,
)

SIMPLE_APP = """
    from satchel.app import App

    app = App()
    marker = "{marker}"
"""


def _marker(app: App, module: str) -> str:
    """Return the marker of ``module``, after checking ``app`` is its app."""
    assert app is import_string(module).app
    return str(import_string(f"{module}:marker"))


def test_module_colon_attr(project):
    project.write("web.py", "from satchel.app import App\nsite = App()\n")
    app = load_app("web:site")
    assert isinstance(app, App)
    assert app is import_string("web:site")


def test_module_alone_finds_app(project):
    project.write("web.py", SIMPLE_APP.format(marker="web"))
    assert _marker(load_app("web"), "web") == "web"


def test_module_alone_finds_application(project):
    project.write("web.py", "from satchel.app import App\napplication = App()\n")
    assert load_app("web") is import_string("web:application")


def test_module_alone_calls_create_app(project):
    project.write(
        "web.py",
        """
        from satchel.app import App

        made = []

        def create_app():
            made.append(App())
            return made[-1]
        """,
    )
    app = load_app("web")
    assert app is import_string("web:made")[0]


def test_named_factory_is_called(project):
    project.write(
        "web.py",
        """
        from satchel.app import App

        def make(debug=False):
            return App(debug=debug)
        """,
    )
    assert isinstance(load_app("web:make"), App)


def test_named_handler_is_not_called(project):
    project.write(
        "web.py",
        """
        from satchel.app import App

        app = App()
        calls = []

        async def index(request):
            calls.append(request)
        """,
    )
    with pytest.raises(
        AppNotFound, match=r"'web:index' is not a Satchel App \(got function web.index\)"
    ):
        load_app("web:index")
    assert import_string("web:calls") == []


def test_dotted_attribute(project):
    project.write("web.py", "from satchel.app import App\nclass Holder:\n    app = App()\n")
    assert load_app("web:Holder.app") is import_string("web:Holder").app


def test_file_path(project):
    project.write("apps/website.py", SIMPLE_APP.format(marker="file"))
    assert _marker(load_app("apps/website.py"), "website") == "file"


def test_file_path_with_attr(project):
    project.write("apps/website.py", "from satchel.app import App\nother = App()\n")
    assert load_app("apps/website.py:other") is import_string("website:other")


def test_file_named_like_an_imported_module(project):
    project.write("apps/json.py", "from satchel.app import App\napp = App()\n")
    with pytest.raises(AppNotFound, match="as module 'json': that name is taken by"):
        load_app("apps/json.py")


def test_file_inside_package_keeps_relative_imports(project):
    project.write("pkg/__init__.py", "")
    project.write("pkg/settings.py", "NAME = 'pkg'\n")
    project.write(
        "pkg/web.py",
        "from satchel.app import App\nfrom .settings import NAME\napp = App()\nmarker = NAME\n",
    )
    assert _marker(load_app("pkg/web.py"), "pkg.web") == "pkg"


def test_missing_file(project):
    with pytest.raises(AppNotFound, match=r"Could not import module 'nothere\.py'"):
        load_app("nothere.py")


def test_env_var_used_without_spec(project, monkeypatch):
    project.write("fromenv.py", SIMPLE_APP.format(marker="env"))
    project.write("app.py", SIMPLE_APP.format(marker="cwd"))
    monkeypatch.setenv("SATCHEL_APP", "fromenv:app")
    assert _marker(load_app(), "fromenv") == "env"


@pytest.mark.parametrize("filename", ["app.py", "main.py"])
def test_default_files(project, filename):
    project.write(filename, SIMPLE_APP.format(marker=filename))
    assert _marker(load_app(None), filename.removesuffix(".py")) == filename


def test_app_py_wins_over_main_py(project):
    project.write("main.py", SIMPLE_APP.format(marker="main"))
    project.write("app.py", SIMPLE_APP.format(marker="app"))
    assert resolve_spec(None) == "app"


def test_nothing_to_find(project):
    with pytest.raises(AppNotFound, match="Could not find an app") as info:
        load_app()
    assert "SATCHEL_APP" in info.value.message
    assert "app.py or main.py" in info.value.message


def test_unimportable_module(project):
    with pytest.raises(AppNotFound, match="Could not import module 'nope': No module named 'nope'"):
        load_app("nope:app")


def test_import_error_inside_module(project):
    project.write("broken.py", "import not_a_real_dependency\n")
    with pytest.raises(
        AppNotFound,
        match="Could not import module 'broken': No module named 'not_a_real_dependency'",
    ):
        load_app("broken")


def test_other_errors_propagate_with_traceback(project):
    project.write("boom.py", "raise RuntimeError('boom at import')\n")
    with pytest.raises(RuntimeError, match="boom at import"):
        load_app("boom")


def test_missing_attribute_lists_apps_found(project):
    project.write("web.py", "from satchel.app import App\napi = App()\nsite = App()\n")
    with pytest.raises(AppNotFound) as info:
        load_app("web")
    message = info.value.message
    assert message.startswith("Module 'web' has no attribute 'app'")
    assert "found App 'api', 'site'" in message
    assert "Pass module:attr" in message


def test_missing_named_attribute(project):
    project.write("web.py", "from satchel.app import App\napp = App()\n")
    with pytest.raises(AppNotFound, match=r"Module 'web' has no attribute 'ap'; found App 'app'"):
        load_app("web:ap")


def test_module_without_any_app(project):
    project.write("web.py", "x = 1\n")
    with pytest.raises(AppNotFound, match="found no App in it"):
        load_app("web")


def test_not_an_app(project):
    project.write("web.py", "app = object()\n")
    with pytest.raises(
        AppNotFound, match=r"'web:app' is not a Satchel App \(got builtins.object object\)"
    ):
        load_app("web")


def test_import_string_returns_module_without_attr(project):
    project.write("web.py", "VALUE = 3\n")
    assert import_string("web").VALUE == 3
    assert import_string("web:VALUE") == 3


def test_cwd_is_importable(project):
    import os
    import sys

    project.write("web.py", "VALUE = 1\n")
    import_string("web")
    assert os.getcwd() in sys.path or "" in sys.path


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("pkg.web:app", ("pkg.web", "app")),
        ("pkg.web", ("pkg.web", None)),
        ("path/to/web.py:site", ("path/to/web.py", "site")),
        ("C:\\proj\\web.py:app", ("C:\\proj\\web.py", "app")),
        ("C:/proj/web.py", ("C:/proj/web.py", None)),
    ],
)
def test_split_spec(spec, expected):
    assert split_spec(spec) == expected


@pytest.mark.parametrize("spec", ["web:", ":app"])
def test_split_spec_rejects_empty_parts(spec):
    with pytest.raises(AppNotFound, match="Invalid app spec"):
        split_spec(spec)


def test_check_findable_imports_nothing(project):
    import sys

    project.write("pkg/__init__.py", "raise RuntimeError('must not run')\n")
    project.write("pkg/web.py", "")
    check_findable("pkg.web:app")
    check_findable("pkg/web.py")
    assert "pkg" not in sys.modules


def test_check_findable_reports_missing(project):
    with pytest.raises(AppNotFound, match="No module named 'gone'"):
        check_findable("gone.web:app")
