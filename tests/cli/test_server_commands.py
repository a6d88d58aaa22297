"""``satchel serve`` and ``satchel run`` as real processes, and the app under other servers."""

from __future__ import annotations

import sys
import threading
import time

import httpx
import pytest

pytestmark = pytest.mark.server

HEADERS_EVERY_RESPONSE_HAS = ("server", "date", "content-type", "content-length")


def _check_sample_app(url: str) -> None:
    response = httpx.get(f"{url}/", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"hello": "world"}
    for header in HEADERS_EVERY_RESPONSE_HAS:
        assert header in response.headers, f"missing {header}: {dict(response.headers)}"
    assert int(response.headers["content-length"]) == len(response.content)
    posted = httpx.post(f"{url}/echo", json={"a": [1, 2]}, timeout=10)
    assert posted.status_code == 200
    assert posted.json() == {"got": {"a": [1, 2]}}


@pytest.mark.parametrize("interface", ["rsgi", "asgi"])
def test_serve_with_workers(app_project, start_server, satchel_argv, interface):
    server = start_server(
        [
            *satchel_argv,
            "serve",
            "app:app",
            "--port",
            "{port}",
            "--workers",
            "2",
            "--interface",
            interface,
        ]
    )
    _check_sample_app(server.url)
    assert httpx.get(f"{server.url}/debug", timeout=10).json() == {"debug": False}
    assert httpx.get(f"{server.url}/nope", timeout=10).status_code == 404
    assert server.terminate() == 0
    output = server.output
    assert f"Satchel serving app:app at {server.url} (2 workers, {interface})." in output
    assert "debug on" not in output


def test_serve_app_from_environment(app_project, start_server, satchel_argv):
    server = start_server([*satchel_argv, "serve", "--port", "{port}"], SATCHEL_APP="app.py")
    _check_sample_app(server.url)
    assert server.terminate() == 0


def test_sigterm_lets_in_flight_request_finish(app_project, start_server, satchel_argv):
    server = start_server([*satchel_argv, "serve", "app:app", "--port", "{port}", "--workers", "2"])
    result: dict[str, httpx.Response | BaseException] = {}

    def slow_request() -> None:
        try:
            result["response"] = httpx.get(f"{server.url}/slow", timeout=15)
        except BaseException as exc:  # reported by the assertion below
            result["response"] = exc

    thread = threading.Thread(target=slow_request)
    thread.start()
    started = app_project.root / "slow-started"
    deadline = time.monotonic() + 10
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert started.exists(), server.output
    signalled_at = time.monotonic()
    assert server.terminate() == 0
    thread.join(15)
    response = result["response"]
    assert isinstance(response, httpx.Response), repr(response)
    assert response.status_code == 200
    assert response.text == "slow done"
    # It waited for the handler instead of returning at once.
    assert time.monotonic() - signalled_at > 0.5


def test_serve_warns_when_app_has_debug_on(app_project, start_server, satchel_argv):
    server = start_server(
        [*satchel_argv, "serve", "app:app", "--port", "{port}"], SATCHEL_DEBUG="1"
    )
    assert httpx.get(f"{server.url}/debug", timeout=10).json() == {"debug": True}
    assert server.terminate() == 0
    assert "Warning: the app has debug on" in server.output


def test_serve_refuses_when_startup_check_fails(project, run_satchel):
    project.write(
        "app.py",
        """
        from satchel.app import App
        from satchel.exceptions import ImproperlyConfigured

        app = App()

        def refuse() -> None:
            raise ImproperlyConfigured("SECRET_KEY is the default; set a real one")

        app.check_startup = refuse
        """,
    )
    result = run_satchel("serve", "app:app", "--port", "1")
    assert result.returncode == 1
    assert "Error: SECRET_KEY is the default; set a real one" in result.stderr
    assert "Satchel serving" not in result.stdout


def test_serve_bad_spec_exits_before_binding(project, run_satchel):
    result = run_satchel("serve", "nowhere:app")
    assert result.returncode == 1
    assert "Error: Could not import module 'nowhere': No module named 'nowhere'" in result.stderr


def test_serve_needs_an_app(project, run_satchel):
    result = run_satchel("serve")
    assert result.returncode == 2
    assert "Missing argument 'APP'" in result.stderr


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nowhere:app", "Error: Could not import module 'nowhere': No module named 'nowhere'"),
        ("nowhere.sub", "Error: Could not import module 'nowhere.sub': No module named 'nowhere'"),
        ("apps/none.py", "Error: Could not import module 'apps/none.py': no file"),
    ],
)
def test_run_reports_a_missing_module_at_once(project, run_satchel, spec, message):
    result = run_satchel("run", spec)
    assert result.returncode == 1
    assert message in result.stderr
    assert "development server" not in result.stdout


def test_run_needs_an_app(project, run_satchel):
    result = run_satchel("run")
    assert result.returncode == 1
    assert "Error: Could not find an app" in result.stderr


def _wait_for_body(url: str, expected: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            last = httpx.get(url, timeout=2).text
        except httpx.HTTPError as exc:  # the worker is restarting
            last = repr(exc)
        if last == expected:
            return last
        time.sleep(0.1)
    return last


def test_run_serves_with_debug_and_reloads_on_change(project, start_server, satchel_argv):
    source = """
        from satchel.app import App

        app = App()

        @app.get("/")
        async def index() -> str:
            return "{text}"

        @app.get("/debug")
        async def debug_flag() -> dict[str, bool]:
            return {{"debug": app.debug}}
    """
    project.write("app.py", source.format(text="before"))
    server = start_server([*satchel_argv, "run", "--port", "{port}"])
    assert httpx.get(f"{server.url}/", timeout=10).text == "before"
    assert httpx.get(f"{server.url}/debug", timeout=10).json() == {"debug": True}
    # A data file changing must not restart the server; a Python file must.
    (project.root / "db.sqlite3").write_bytes(b"data")
    project.write("app.py", source.format(text="after"))
    assert _wait_for_body(f"{server.url}/", "after", timeout=15) == "after", server.output
    assert server.terminate() == 0
    output = server.output
    assert (
        f"Satchel development server at {server.url} (debug on, autoreload on). "
        "Don't use it in production: use `satchel serve`." in output
    )
    assert "db.sqlite3" not in output


def test_run_survives_a_broken_edit(project, start_server, satchel_argv):
    good = (
        'from satchel.app import App\napp = App()\n@app.get("/")\n'
        'async def i() -> str:\n    return "{0}"\n'
    )
    app_file = project.write("app.py", good.format("one"))
    server = start_server([*satchel_argv, "run", "app:app", "--port", "{port}"])
    assert httpx.get(f"{server.url}/", timeout=10).text == "one"
    app_file.write_text("this is not python(\n")
    time.sleep(2)
    assert server.proc.poll() is None, server.output
    app_file.write_text(good.format("two"))
    assert _wait_for_body(f"{server.url}/", "two", timeout=15) == "two", server.output
    assert server.terminate() == 0


def test_run_without_reload(app_project, start_server, satchel_argv):
    server = start_server(
        [*satchel_argv, "run", "--no-reload", "--interface", "asgi", "--port", "{port}"]
    )
    _check_sample_app(server.url)
    assert server.terminate() == 0
    assert "(debug on, autoreload off)" in server.output


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["-m", "uvicorn", "app:app", "--port", "{port}"], id="uvicorn"),
        pytest.param(["-m", "hypercorn", "app:app", "--bind", "127.0.0.1:{port}"], id="hypercorn"),
    ],
)
def test_app_under_other_asgi_servers(app_project, start_server, argv):
    server = start_server([sys.executable, *argv])
    _check_sample_app(server.url)
    # uvicorn re-raises SIGTERM after its clean shutdown, so only the exit is checked.
    assert server.terminate() in (0, -15)
