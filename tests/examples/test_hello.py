"""The example site (examples/hello) through the TestClient, its migration, and its servers.

The example is imported once, by path, with its database and collected static
files in a temporary folder (settings are read when the ``App`` is created).
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from satchel.db import Model
from satchel.testing import TestClient

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = ROOT / "examples" / "hello"
SECRET_KEY = "example-tests-secret-key-" + "Zx8#pQ2w" * 6
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

GOOD = {"name": "Ada Lovelace", "email": "ada@example.com", "message": "What a lovely site!"}


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SATCHEL_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """examples/hello/app.py, on a fresh SQLite file, with debug off."""
    tmp = tmp_path_factory.mktemp("hello")
    # Model.metadata is shared by every model in the process; another test may have
    # declared a table of this name before (the fixture's teardown removes its own).
    stale = Model.metadata.tables.get("guestbook_entry")
    if stale is not None:
        Model.metadata.remove(stale)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _clean_env(monkeypatch)
        monkeypatch.setenv("SATCHEL_DATABASE_URL", f"sqlite:///{tmp / 'hello.db'}")
        monkeypatch.setenv("SATCHEL_STATIC_ROOT", str(tmp / "staticfiles"))
        monkeypatch.setenv("SATCHEL_SECRET_KEY", SECRET_KEY)
        spec = importlib.util.spec_from_file_location("hello_example_app", EXAMPLE_DIR / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        # SQLAlchemy resolves the models' annotations through sys.modules.
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    module.db_path = tmp / "hello.db"  # type: ignore[attr-defined]
    try:
        yield module
    finally:
        # Model.metadata is shared by every model in the process: leave no table behind.
        Model.metadata.remove(module.Entry.__table__)
        sys.modules.pop("hello_example_app", None)


@pytest.fixture
def client(example: ModuleType) -> Iterator[TestClient]:
    with TestClient(example.app) as client:  # runs startup: migrations, collectstatic
        yield client


def stored(example: ModuleType) -> list[tuple[str, str, str]]:
    with sqlite3.connect(example.db_path) as connection:
        return connection.execute(
            "SELECT name, email, message FROM guestbook_entry ORDER BY id"
        ).fetchall()


# -- the routes the other tests rely on --------------------------------------------------


def test_existing_routes_still_answer(client: TestClient) -> None:
    assert client.get("/users/3").json() == {"id": 3}
    assert client.get("/users/x").status_code == 404
    created = client.post("/items", json={"name": "tea", "price": 2.5})
    assert (created.status_code, created.json()) == (201, {"name": "tea", "price": 2.5})
    assert client.post("/items", json={"name": "tea"}).status_code == 422
    assert client.get("/search", params={"q": "x", "page": "2"}).json()["page"] == 2
    with client.websocket_connect("/ws/echo") as ws:
        ws.send_text("ping")
        assert ws.receive_text() == "ping"


def test_home_page_counts_visits_in_the_session(example: ModuleType) -> None:
    with TestClient(example.app) as client:
        first = client.get("/")
        assert first.status_code == 200
        assert "<h1>Hello from Satchel</h1>" in first.text
        assert "You have been here 1 time." in first.text
        assert "You have been here 2 times." in client.get("/").text
    with TestClient(example.app) as stranger:  # no cookie: a new visitor
        assert "You have been here 1 time." in stranger.get("/").text


def test_pages_carry_the_security_headers(client: TestClient) -> None:
    page = client.get("/guestbook")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_static_css_is_collected_and_linked_by_its_hashed_name(client: TestClient) -> None:
    page = client.get("/").text
    href = re.search(r'<link rel="stylesheet" href="([^"]+)">', page)
    assert href is not None
    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{8}\.css", href.group(1))
    css = client.get(href.group(1))
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert css.text == (EXAMPLE_DIR / "static" / "css" / "site.css").read_text()


# -- the guestbook -------------------------------------------------------------------


def test_guestbook_form_renders_every_field_with_a_token(client: TestClient) -> None:
    page = client.get("/guestbook")
    assert page.status_code == 200
    assert TOKEN.search(page.text)
    assert 'name="name"' in page.text and 'minlength="2"' in page.text
    assert 'type="email" name="email"' in page.text
    assert '<textarea name="message"' in page.text and 'maxlength="500"' in page.text


def test_invalid_signature_shows_errors_and_keeps_what_was_typed(
    example: ModuleType, client: TestClient
) -> None:
    before = stored(example)
    page = client.post("/guestbook", data={"name": "A", "email": "not-an-email", "message": "hi"})
    assert page.status_code == 422
    assert "String should have at least 2 characters." in page.text
    assert "value is not a valid email address" in page.text.lower()
    assert "String should have at least 5 characters." in page.text
    assert 'value="not-an-email"' in page.text
    assert 'aria-invalid="true"' in page.text
    assert stored(example) == before


def test_signing_flashes_redirects_and_remembers_the_name(
    example: ModuleType, client: TestClient
) -> None:
    posted = client.post("/guestbook", data=GOOD, follow_redirects=False)
    assert posted.status_code == 303
    assert posted.headers["location"] == "/guestbook"
    assert stored(example)[-1] == (GOOD["name"], GOOD["email"], GOOD["message"])

    shown = client.get("/guestbook")
    assert shown.status_code == 200
    assert "Thanks for signing, Ada Lovelace!" in shown.text
    assert "What a lovely site!" in shown.text
    assert "ada@example.com" not in shown.text  # emails are never shown
    assert 'value="Ada Lovelace"' in shown.text  # remembered in the session

    again = client.get("/guestbook")
    assert "Thanks for signing" not in again.text  # flashed once
    assert 'value="Ada Lovelace"' in again.text


def test_entries_are_escaped(example: ModuleType, client: TestClient) -> None:
    payload = {**GOOD, "name": '<img src=x onerror="alert(1)">', "message": "<script>x()</script>"}
    assert client.post("/guestbook", data=payload).status_code == 200  # after the redirect
    page = client.get("/guestbook").text
    assert "<script>x()</script>" not in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_hostile_posts_are_refused_and_store_nothing(
    example: ModuleType, client: TestClient
) -> None:
    before = stored(example)
    too_long = client.post("/guestbook", data={**GOOD, "message": "x" * 501})
    assert too_long.status_code == 422
    assert "at most 500 characters" in too_long.text
    assert client.post("/guestbook", data={**GOOD, "name": "  "}).status_code == 422
    assert (
        client.post(
            "/guestbook",
            content=b"name=%zz",
            headers={"content-type": "application/x-www-form-urlencoded"},
        ).status_code
        == 400
    )
    many = "&".join(f"f{i}=1" for i in range(2000)).encode()
    assert (
        client.post(
            "/guestbook",
            content=many,
            headers={"content-type": "application/x-www-form-urlencoded"},
        ).status_code
        == 413
    )
    # Names the form does not declare are ignored, not stored.
    extra = {**GOOD, "name": "Extra Fields", "id": "1", "created_at": "2000-01-01"}
    assert client.post("/guestbook", data=extra).status_code == 200
    after = stored(example)
    assert after[: len(before)] == before  # entry 1 was not overwritten
    assert after[len(before) :] == [("Extra Fields", GOOD["email"], GOOD["message"])]
    with sqlite3.connect(example.db_path) as connection:
        year = connection.execute("SELECT max(created_at) FROM guestbook_entry").fetchone()[0]
    assert not year.startswith("2000")


def test_csrf_is_enforced_for_a_real_browser_client(example: ModuleType) -> None:
    before = stored(example)
    with TestClient(example.app, enforce_csrf_checks=True, follow_redirects=False) as client:
        token = TOKEN.search(client.get("/guestbook").text)
        assert token is not None
        no_token = client.post("/guestbook", data={**GOOD, "name": "No Token"})
        assert no_token.status_code == 403
        forged = client.post("/guestbook", data={**GOOD, "name": "Forged", "csrf_token": "x" * 86})
        assert forged.status_code == 403
        cross_site = client.post(
            "/guestbook",
            data={**GOOD, "name": "Cross Site", "csrf_token": token.group(1)},
            headers={"origin": "http://evil.example"},
        )
        assert cross_site.status_code == 403
        assert stored(example) == before
        ok = client.post("/guestbook", data={**GOOD, "name": "Token", "csrf_token": token.group(1)})
        assert ok.status_code == 303
    assert stored(example)[-1][0] == "Token"


# -- migrations and servers ----------------------------------------------------------


def _satchel(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("satchel")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "satchel.cli.main"]
    return subprocess.run(
        [*argv, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    env["SATCHEL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'check.db'}"
    env["SATCHEL_STATIC_ROOT"] = str(tmp_path / "staticfiles")
    env["SATCHEL_SECRET_KEY"] = SECRET_KEY
    env.update(extra)
    return env


def test_models_and_checked_in_migration_agree(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert list((EXAMPLE_DIR / "migrations" / "versions").glob("0001_*.py"))
    migrated = _satchel("db", "migrate", env=env, cwd=EXAMPLE_DIR)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "0001_" in migrated.stdout + migrated.stderr
    checked = _satchel("db", "check", env=env, cwd=EXAMPLE_DIR)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.server
@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_fresh_clone_serves_the_guestbook(command: str, tmp_path: Path) -> None:
    """``satchel run`` (debug) and ``satchel serve`` (production) on a missing database."""
    port = _free_port()
    env = _env(tmp_path, SATCHEL_ALLOWED_HOSTS="127.0.0.1")
    script = Path(sys.executable).with_name("satchel")
    extra = ["--no-reload"] if command == "run" else []
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(script), command, "examples/hello/app.py", "--port", str(port), *extra],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                page = httpx.get(base + "/guestbook", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.1)
        assert page.status_code == 200, (tmp_path / "server.log").read_text()
        assert "Nobody has signed yet" in page.text
        css = re.search(r'href="(/static/css/[^"]+)"', page.text)
        assert css is not None
        assert httpx.get(base + css.group(1)).status_code == 200
        refused = httpx.get(base + "/guestbook", headers={"host": "evil.example"})
        assert refused.status_code == 400  # not in allowed_hosts
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
    assert (tmp_path / "check.db").exists()
