"""Accounts in headless Chromium against a real ``satchel serve``.

A superuser made with ``satchel createsuperuser --noinput`` logs in through the real
form (CSRF token, session cookie, redirect to ``next``), reaches a protected page, logs
out and is sent back to the login page; then resets the password through the link the
file mail backend wrote to an ``.eml`` file, and logs in with the new one.
"""

from __future__ import annotations

import email
import email.policy
import re
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.server]

USERNAME = "captain"
EMAIL = "captain@example.com"
PASSWORD = "seven seas and one compass"
NEW_PASSWORD = "a lighthouse on every shore"

APP = """
from satchel import App, Request, render
from satchel.auth import Auth, CurrentUser, login_required
from satchel.db import Database

app = App(database=Database())
auth = Auth(app)


@app.get("/dashboard")
@login_required
async def dashboard(request: Request, user: CurrentUser):
    return render(request, "dashboard.html", user=user)
"""

DASHBOARD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard</title></head>
<body>
<h1>Welcome, {{ user.username }}</h1>
<form method="post" action="{{ url_for('auth.logout') }}">
{{ csrf_input() }}<button type="submit">Log out</button>
</form>
</body></html>
"""


class Site:
    """The served project: its URL and where its mail lands."""

    def __init__(self, url: str, mail_dir: Path) -> None:
        self.url = url
        self.mail_dir = mail_dir

    def reset_link(self, timeout: float = 15.0) -> str:
        """Return the reset link of the first mail written (the mail goes out in the background)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            files = sorted(self.mail_dir.glob("*.eml"))
            if files:
                message = email.message_from_bytes(
                    files[0].read_bytes(), policy=email.policy.default
                )
                assert message["To"] == EMAIL
                body = message.get_body(preferencelist=("plain",))
                assert body is not None
                found = re.search(r"http://\S+/password/reset/\S+", body.get_content())
                assert found is not None, body.get_content()
                return found.group(0)
            time.sleep(0.1)
        pytest.fail(f"no mail in {self.mail_dir} after {timeout} s")


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, serve_app: Any, run_satchel: Any
) -> Iterator[Site]:
    """A fresh project with accounts: migrated, a superuser made by the CLI, then served."""
    project = tmp_path_factory.mktemp("accounts")
    (project / "app.py").write_text(textwrap.dedent(APP))
    (project / "templates").mkdir()
    (project / "templates" / "dashboard.html").write_text(DASHBOARD)
    mail_dir = project / "mail"
    env = {
        "SATCHEL_DATABASE_URL": f"sqlite:///{project / 'accounts.db'}",
        "SATCHEL_EMAIL_BACKEND": "file",
        "SATCHEL_EMAIL_FILE_PATH": str(mail_dir),
        "SATCHEL_ALLOWED_HOSTS": "127.0.0.1",
    }
    run_satchel("auth", "migrate", env=env, cwd=project)
    created = run_satchel(
        "createsuperuser",
        "--noinput",
        env={
            **env,
            "SATCHEL_SUPERUSER_USERNAME": USERNAME,
            "SATCHEL_SUPERUSER_EMAIL": EMAIL,
            "SATCHEL_SUPERUSER_PASSWORD": PASSWORD,
        },
        cwd=project,
    )
    assert f"Superuser '{USERNAME}' created." in created
    with serve_app("app:app", env, cwd=project, log_dir=project) as served:
        yield Site(served.url, mail_dir)


def log_in(page: Any, username: str, password: str) -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_log_in_reach_the_page_log_out_and_reset_the_password(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # A protected page sends an anonymous visitor to the login form, remembering where.
    page.goto(site.url + "/dashboard")
    assert page.url == site.url + "/login?next=%2Fdashboard"
    assert page.locator("h1").inner_text() == "Log in"

    # A wrong password: the form comes back with one message for every failure.
    log_in(page, USERNAME, "not the password")
    assert "Please enter a correct username" in page.locator("p.error").inner_text()
    assert page.input_value("input[name=password]") == ""  # never sent back

    # The right one, through the real form: CSRF token, cookie, back to `next`.
    log_in(page, USERNAME, PASSWORD)
    page.wait_for_url(site.url + "/dashboard")
    assert page.locator("h1").inner_text() == f"Welcome, {USERNAME}"
    cookies = {cookie["name"]: cookie for cookie in context.cookies()}
    assert cookies["session"]["httpOnly"]

    # Log out (a POST form), and the protected page is closed again.
    page.click("text=Log out")
    page.wait_for_url(site.url + "/login")
    assert "You have been logged out." in page.content()
    page.goto(site.url + "/dashboard")
    assert page.url == site.url + "/login?next=%2Fdashboard"

    # Forgot the password: ask for a link, follow the one the mail carries.
    page.click("text=Forgot your password?")
    page.fill("input[name=email]", EMAIL.upper())
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Check your email"
    link = site.reset_link()
    assert link.startswith(site.url + "/password/reset/")
    page.goto(link)
    page.fill("input[name=new_password1]", NEW_PASSWORD)
    page.fill("input[name=new_password2]", NEW_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(site.url + "/login")
    assert "Your password has been set" in page.content()

    # The old password is dead, the new one works, and the link is spent.
    log_in(page, USERNAME, PASSWORD)
    assert page.locator("p.error").count() == 1
    log_in(page, USERNAME, NEW_PASSWORD)
    page.wait_for_url(site.url + "/")  # no `next` this time: the default destination
    page.goto(site.url + "/dashboard")
    assert page.locator("h1").inner_text() == f"Welcome, {USERNAME}"
    page.goto(link)
    assert "This link does not work" in page.content()
    assert errors == []
    context.close()
