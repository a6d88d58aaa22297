"""The example site in headless Chromium, served by a real ``satchel serve``.

A visitor submits the guestbook form with mistakes and sees the errors, fixes
them and sees the flash message, reloads and is still remembered (the session
survives); a page on another origin that auto-submits a form to the site is
refused with 403 and stores nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.server]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = ROOT / "examples" / "hello"


class Site:
    """The served example and its database file."""

    def __init__(self, url: str, db_path: Path) -> None:
        self.url = url
        self.db_path = db_path

    def names(self) -> list[str]:
        with sqlite3.connect(self.db_path) as connection:
            rows = connection.execute("SELECT name FROM guestbook_entry ORDER BY id").fetchall()
        return [name for (name,) in rows]


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, serve_app: Any, run_satchel: Any
) -> Iterator[Site]:
    """examples/hello under ``satchel serve``: fresh database, migrated first, debug off."""
    tmp = tmp_path_factory.mktemp("pages")
    env = {
        "SATCHEL_DATABASE_URL": f"sqlite:///{tmp / 'guestbook.db'}",
        "SATCHEL_STATIC_ROOT": str(tmp / "staticfiles"),
        "SATCHEL_ALLOWED_HOSTS": "127.0.0.1",
    }
    run_satchel("db", "migrate", env=env, cwd=EXAMPLE_DIR)
    run_satchel("collectstatic", "--no-input", env=env, cwd=EXAMPLE_DIR)
    with serve_app("examples/hello/app.py", env, log_dir=tmp) as served:
        yield Site(served.url, tmp / "guestbook.db")


def _watch(page: Any) -> list[str]:
    """Collect console errors, uncaught exceptions and error responses as they happen."""
    problems: list[str] = []

    def on_console(message: Any) -> None:
        # An error status is recorded (with its URL) by on_response instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def on_response(response: Any) -> None:
        if response.status >= 400:
            problems.append(f"{response.status} {response.request.method} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", on_response)
    return problems


def test_form_errors_then_flash_then_the_session_survives_a_reload(
    site: Site, browser: Any
) -> None:
    context = browser.new_context()
    page = context.new_page()
    problems = _watch(page)
    page.goto(site.url + "/guestbook")
    # The stylesheet came through static() (a hashed, collected name) and applies.
    header = page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
    assert header == "rgb(29, 35, 48)"

    # 1. Mistakes: every field says what is wrong, and what was typed stays.
    page.fill("#id_name", "A")
    page.fill("#id_email", "ada-at-example")
    page.fill("#id_message", "hi")
    with page.expect_navigation() as navigation:
        page.click("button[type=submit]")
    assert navigation.value.status == 422
    assert "at least 2 characters" in page.inner_text("#id_name_error")
    assert "valid email address" in page.inner_text("#id_email_error")
    assert "at least 5 characters" in page.inner_text("#id_message_error")
    assert page.get_attribute("#id_email", "aria-invalid") == "true"
    assert page.input_value("#id_email") == "ada-at-example"
    assert page.locator(".flash").count() == 0
    assert site.names() == []

    # 2. Fixed: POST, redirect, GET, with a flash message on the page.
    page.fill("#id_name", "Ada Lovelace")
    page.fill("#id_email", "ada@example.com")
    page.fill("#id_message", "Hello from <b>Chromium</b>!")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == site.url + "/guestbook"  # redirected: a reload won't post again
    assert page.inner_text(".flash-success") == "Thanks for signing, Ada Lovelace!"
    entry = page.locator(".entry").first
    assert entry.locator("h3").inner_text() == "Ada Lovelace"
    assert entry.locator("p").inner_text() == "Hello from <b>Chromium</b>!"  # text, not markup
    assert entry.locator("b").count() == 0
    assert site.names() == ["Ada Lovelace"]

    # 3. Reload: the flash was shown once; the session still knows the name.
    page.reload()
    assert page.locator(".flash").count() == 0
    assert page.input_value("#id_name") == "Ada Lovelace"
    assert page.locator(".entry").count() == 1
    assert site.names() == ["Ada Lovelace"]

    # 4. The visit counter lives in the same session cookie.
    page.goto(site.url + "/")
    assert page.inner_text("#visits") == "You have been here 1 time."
    page.reload()
    assert page.inner_text("#visits") == "You have been here 2 times."
    cookie = next(c for c in context.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"

    # A new visitor (a fresh browser context, no cookies) starts from nothing.
    stranger = browser.new_context().new_page()
    stranger.goto(site.url + "/")
    assert stranger.inner_text("#visits") == "You have been here 1 time."
    stranger.goto(site.url + "/guestbook")
    assert stranger.input_value("#id_name") == ""
    stranger.context.close()
    # The one error answer was the form with mistakes; no asset was missing.
    assert problems == [f"422 POST {site.url}/guestbook"]
    context.close()


def test_a_cross_site_form_post_is_refused(site: Site, browser: Any, serve_html: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    # The victim has a session on the site (and a CSRF secret in it).
    page.goto(site.url + "/guestbook")
    assert any(c["name"] == "session" for c in context.cookies())
    before = site.names()
    attack = f"""<!doctype html>
        <form method="post" action="{site.url}/guestbook">
          <input name="name" value="Mallory">
          <input name="email" value="mallory@example.com">
          <input name="message" value="Posted by another site">
          <input name="csrf_token" value="{"A" * 86}">
        </form>
        <script>document.forms[0].submit()</script>"""
    with serve_html({"/": attack}) as evil:
        assert evil != site.url  # another port: another origin
        with page.expect_response(
            lambda r: r.url == site.url + "/guestbook" and r.request.method == "POST"
        ) as answer:
            page.goto(evil + "/")
        response = answer.value
        assert response.status == 403
        assert response.request.headers.get("origin") == evil
        page.wait_for_load_state()
        assert "CSRF verification failed" in page.content()
        assert "Traceback" not in page.content()
    assert site.names() == before
    assert "Mallory" not in site.names()
    page.goto(site.url + "/guestbook")
    assert "Mallory" not in page.content()
    context.close()
