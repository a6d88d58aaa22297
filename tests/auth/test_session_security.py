"""Sessions after login: password changes end other sessions, expiry, remember me, keys."""

from __future__ import annotations

import time
from types import SimpleNamespace

import httpx
import pytest
from accounts_kit import HTML, PASSWORD, SECRET, AddUser, MakeApp, csrf_from, login
from sqlalchemy import delete, update

from satchel import App
from satchel.auth import Auth, LoginLimits, User
from satchel.auth.backend import sessions as login_session
from satchel.db import Database
from satchel.http.request import Request
from satchel.testing import TestClient

NEW_PASSWORD = "quiet harbour lanterns glow"


def who(client: TestClient) -> str:
    return client.get("/who").text


def app_with_who(make_app: MakeApp, **options: object) -> tuple[App, Auth]:
    app, auth = make_app(**options)

    @app.get("/who")
    async def whoami(request: Request) -> str:
        return str(request.user.username or "-")

    return app, auth


def change(client: TestClient, old: str, new1: str, new2: str | None = None) -> httpx.Response:
    data = {"old_password": old, "new_password1": new1, "new_password2": new2 or new1}
    return client.post("/password/change", data=data, headers=HTML, follow_redirects=False)


def test_changing_the_password_logs_out_the_other_sessions_only(
    make_app: MakeApp, add_user: AddUser
) -> None:
    add_user("ann", email="ann@example.com")
    app, _ = app_with_who(make_app)
    with TestClient(app) as laptop, TestClient(app) as phone:
        login(laptop, "ann", PASSWORD)
        login(phone, "ann", PASSWORD)
        assert who(laptop) == who(phone) == "ann"
        form = laptop.get("/password/change", headers=HTML)
        assert form.status_code == 200 and 'name="new_password1"' in form.text
        done = change(laptop, PASSWORD, NEW_PASSWORD)
        assert done.status_code == 303
        assert done.headers["location"] == "/password/change/done"
        assert who(laptop) == "ann"  # the session that changed it stays in
        assert who(phone) == "-"  # every other one is out
        assert "Password changed" in laptop.get("/password/change/done", headers=HTML).text
    with TestClient(app) as fresh:
        assert login(fresh, "ann", PASSWORD).status_code == 400
        assert login(fresh, "ann", NEW_PASSWORD).status_code == 303


def test_password_change_refusals(make_app: MakeApp, add_user: AddUser) -> None:
    add_user("ann", email="ann@example.com")
    app, _ = app_with_who(make_app, limits=LoginLimits(per_user=3, per_address=100))
    with TestClient(app, follow_redirects=False) as client:
        redirect = client.get("/password/change", headers=HTML)
        assert redirect.headers["location"] == "/login?next=%2Fpassword%2Fchange"
        login(client, "ann", PASSWORD)
        wrong_old = change(client, "not my password at all", NEW_PASSWORD)
        assert wrong_old.status_code == 400
        assert "Your current password was entered incorrectly." in wrong_old.text
        mismatch = change(client, PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!")
        assert "didn&#39;t match" in mismatch.text or "didn't match" in mismatch.text
        weak = change(client, PASSWORD, "annexample")
        assert weak.status_code == 400 and "too short" in weak.text
        throttled = change(client, PASSWORD, NEW_PASSWORD)
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
        assert "value=" not in throttled.text.split('name="old_password"')[1].split(">")[0]
    with TestClient(app) as other:
        assert login(other, "ann", PASSWORD).status_code == 429  # the same per-user count


def test_password_change_needs_the_csrf_token(make_app: MakeApp, add_user: AddUser) -> None:
    add_user("ann")
    app, _ = app_with_who(make_app)
    with TestClient(app, enforce_csrf_checks=True) as client:
        token = csrf_from(client.get("/login", headers=HTML).text)
        login(client, "ann", PASSWORD, csrf_token=token)
        assert change(client, PASSWORD, NEW_PASSWORD).status_code == 403
        token = csrf_from(client.get("/password/change", headers=HTML).text)
        data = {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "csrf_token": token,
        }
        response = client.post("/password/change", data=data, follow_redirects=False)
        assert response.status_code == 303


class Clock:
    """Stands in for the ``time`` module of the login-session code."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(login_session, "time", SimpleNamespace(time=fake.time))
    return fake


def test_a_login_without_remember_me_ends_after_login_max_age(
    make_app: MakeApp, add_user: AddUser, clock: Clock
) -> None:
    add_user("ann")
    app, _ = app_with_who(make_app, login_max_age=3600)
    with TestClient(app) as forgetful, TestClient(app) as remembered:
        login(forgetful, "ann", PASSWORD)
        login(remembered, "ann", PASSWORD, remember="on")
        clock.offset = 3500
        assert who(forgetful) == who(remembered) == "ann"
        clock.offset = 3700
        assert who(forgetful) == "-"
        assert who(remembered) == "ann"  # lasts as long as the session itself
        clock.offset = 0
        assert who(forgetful) == "-"  # the ended login was removed, not just hidden


def test_a_deactivated_or_deleted_user_is_logged_out(
    make_app: MakeApp, add_user: AddUser, database: Database
) -> None:
    ann = add_user("ann")
    bob = add_user("bob")
    app, _ = app_with_who(make_app)
    with TestClient(app) as client_a, TestClient(app) as client_b:
        login(client_a, "ann", PASSWORD)
        login(client_b, "bob", PASSWORD)
        with database.session() as session:
            session.execute(update(User).where(User.id == ann.id).values(is_active=False))
            session.execute(delete(User).where(User.id == bob.id))
        assert who(client_a) == "-"
        assert who(client_b) == "-"


def test_a_rotated_secret_key_keeps_people_logged_in_through_the_fallback(
    make_app: MakeApp, add_user: AddUser
) -> None:
    add_user("ann")
    old_app, _ = app_with_who(make_app)
    with TestClient(old_app) as client:
        login(client, "ann", PASSWORD)
        cookie = client.cookies.get("session")
    new_secret = "a-brand-new-secret-key-for-this-test-0123456789"
    rotated, _ = app_with_who(make_app, secret_key=new_secret, secret_key_fallbacks=[SECRET])
    with TestClient(rotated, cookies={"session": cookie}) as client:
        assert who(client) == "ann"
    replaced, _ = app_with_who(make_app, secret_key=new_secret)
    with TestClient(replaced, cookies={"session": cookie}) as client:
        assert who(client) == "-"


def test_the_session_stores_no_password_hash(make_app: MakeApp, add_user: AddUser) -> None:
    user = add_user("ann")
    app, auth = app_with_who(make_app)

    @app.get("/session")
    async def session_data(request: Request) -> dict[str, object]:
        return dict(request.session.data)

    with TestClient(app) as client:
        login(client, "ann", PASSWORD)
        data = client.get("/session").json()
    assert data[login_session.USER_KEY] == user.id
    stored = data[login_session.HASH_KEY]
    assert user.password not in str(data) and len(stored) == 64
    assert stored == auth.session_hash(user)
    assert login_session.EXPIRES_KEY in data
