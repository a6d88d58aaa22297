"""The login and logout pages: who gets in, where they go next, and what a refusal says."""

from __future__ import annotations

import base64
import hashlib

import pytest
from accounts_kit import HTML, PASSWORD, AddUser, MakeApp, QueryLog, csrf_from, login, page
from markupsafe import escape
from sqlalchemy import select

from satchel.auth import LoginLimits, User
from satchel.db import Database
from satchel.http.request import Request
from satchel.testing import TestClient


def test_the_login_page_is_a_form(make_app: MakeApp) -> None:
    app, _ = make_app()
    with TestClient(app) as client:
        response = client.get("/login", headers=HTML)
    assert response.status_code == 200
    text = response.text
    assert '<form method="post" action="/login">' in text
    assert 'name="username"' in text and 'type="password"' in text and 'name="remember"' in text
    assert 'name="csrf_token"' in text
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "typed",
    ["Ann", "ann", "ANN", "\uff21\uff4e\uff4e", " ann ", "ann@example.com", "ANN@Example.COM"],
)
def test_a_username_or_email_in_any_case_or_width_logs_in(
    make_app: MakeApp, add_user: AddUser, typed: str
) -> None:
    add_user("Ann", email="ann@example.com")
    app, _ = make_app()
    with TestClient(app) as client:
        response = login(client, typed, PASSWORD)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/"


def test_wrong_password_unknown_user_and_inactive_user_get_the_same_answer(
    make_app: MakeApp, add_user: AddUser
) -> None:
    add_user("ann")
    add_user("sleepy", is_active=False)
    app, _ = make_app()
    answers = []
    with TestClient(app) as client:
        for username, password in [
            ("ann", "not the password at all"),
            ("nobody", "not the password at all"),
            ("sleepy", PASSWORD),  # right password, but the account is off
            ("nobody@example.com", PASSWORD),
        ]:
            response = login(client, username, password)
            answers.append((response.status_code, page(response).replace(username, "NAME")))
        assert client.get("/", headers=HTML).status_code == 404  # and nobody got in
    assert {status for status, _ in answers} == {400}
    assert len({text for _, text in answers}) == 1
    assert "Please enter a correct username (or email) and password." in answers[0][1]


def test_a_login_moves_the_user_in_and_updates_last_login(
    make_app: MakeApp, add_user: AddUser, database: Database
) -> None:
    user = add_user("ann")
    assert user.last_login is None
    app, _ = make_app()

    @app.get("/me")
    async def me(request: Request) -> dict[str, object]:
        current = request.user
        return {"username": current.username, "authenticated": current.is_authenticated}

    with TestClient(app) as client:
        assert client.get("/me").json() == {"username": "", "authenticated": False}
        assert login(client, "ann", PASSWORD).status_code == 303
        assert client.get("/me").json() == {"username": "ann", "authenticated": True}
    with database.session() as session:
        stored = session.scalar(select(User).where(User.id == user.id))
        assert stored is not None and stored.last_login is not None


@pytest.mark.parametrize(
    ("next_url", "safe"),
    [
        ("/dashboard?tab=1&x=2", True),
        ("/", True),
        ("http://testserver/dashboard", True),  # this very site
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("///evil.example/", False),
        ("/\\evil.example/", False),
        ("https:evil.example", False),
        ("javascript:alert(1)", False),
        ("\x00/dashboard", False),
        ("\uff0f\uff0fevil.example", False),  # full-width solidus: // after NFKC
        ('/"><script>alert(1)</script>', True),  # on site, and escaped in the form
    ],
)
def test_next_is_followed_only_on_this_site(
    make_app: MakeApp, add_user: AddUser, next_url: str, safe: bool
) -> None:
    add_user("ann")
    app, _ = make_app()
    with TestClient(app) as client:
        form = client.get("/login", params={"next": next_url}, headers=HTML).text
        assert "<script>" not in form
        if safe:
            assert 'name="next" value="' + str(escape(next_url)) + '"' in form
        else:
            assert 'name="next" value=""' in form
        response = login(client, "ann", PASSWORD, next=next_url)
    assert response.status_code == 303
    assert response.headers["location"] == (next_url if safe else "/")


def test_login_redirect_option_is_the_default_destination(
    make_app: MakeApp, add_user: AddUser
) -> None:
    add_user("ann")
    app, _ = make_app(login_redirect="/welcome")
    with TestClient(app) as client:
        assert login(client, "ann", PASSWORD).headers["location"] == "/welcome"


def django_pbkdf2(password: str, salt: str = "NaClNaCl", iterations: int = 1000) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def test_a_django_hash_logs_in_once_and_is_replaced_by_argon2id(
    make_app: MakeApp, add_user: AddUser, database: Database
) -> None:
    old = django_pbkdf2(PASSWORD)
    user = add_user("imported", password_hash=old)
    app, _ = make_app()
    with TestClient(app) as client:
        assert login(client, "imported", "wrong password here").status_code == 400
        with database.session() as session:
            assert session.get(User, user.id).password == old
        assert login(client, "imported", PASSWORD).status_code == 303
    with database.session() as session:
        stored = session.get(User, user.id)
        assert stored is not None
        assert stored.password.startswith("$argon2id$")
    with TestClient(app) as client:  # and the new hash works
        assert login(client, "imported", PASSWORD).status_code == 303


def test_a_hash_with_old_parameters_is_upgraded_at_login(
    make_app: MakeApp, add_user: AddUser, database: Database
) -> None:
    from satchel.auth.passwords import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=512).hash(PASSWORD)
    user = add_user("ann", password_hash=weak)
    app, auth = make_app()
    with TestClient(app) as client:
        assert login(client, "ann", PASSWORD).status_code == 303
    with database.session() as session:
        stored = session.get(User, user.id)
        assert stored is not None and stored.password != weak
        assert not auth.hasher.needs_rehash(stored.password)


def test_unusable_password_never_logs_in(make_app: MakeApp, add_user: AddUser) -> None:
    user = add_user("sso", password=None)
    assert not user.has_usable_password()
    app, _ = make_app()
    with TestClient(app) as client:
        for guess in ("", "!", user.password, user.password[1:]):
            assert login(client, "sso", guess).status_code == 400


def test_logout_is_post_only_and_ends_the_login(make_app: MakeApp, add_user: AddUser) -> None:
    add_user("ann")
    app, _ = make_app()

    @app.get("/me")
    async def me(request: Request) -> str:
        return str(request.user.username or "-")

    with TestClient(app) as client:
        login(client, "ann", PASSWORD)
        assert client.get("/me").text == "ann"
        assert client.get("/logout").status_code == 405  # a link or <img> can't log you out
        assert client.get("/me").text == "ann"
        response = client.post("/logout", headers=HTML, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert "You have been logged out." in client.get("/login", headers=HTML).text
        assert client.get("/me").text == "-"


def test_login_and_logout_need_the_csrf_token(make_app: MakeApp, add_user: AddUser) -> None:
    add_user("ann")
    app, _ = make_app()
    with TestClient(app, enforce_csrf_checks=True) as client:
        refused = login(client, "ann", PASSWORD)
        assert refused.status_code == 403
        form = client.get("/login", headers=HTML).text
        token = csrf_from(form)
        assert login(client, "ann", PASSWORD, csrf_token=token).status_code == 303
        # The login gave the session a new CSRF secret: a token from before is dead.
        assert client.post("/logout", data={"csrf_token": token}).status_code == 403


def test_a_login_gives_the_session_a_new_cookie(make_app: MakeApp, add_user: AddUser) -> None:
    add_user("ann")
    app, _ = make_app()

    @app.get("/me")
    async def me(request: Request) -> str:
        return str(request.user.username or "-")

    with TestClient(app) as client:
        client.get("/login", headers=HTML)
        before = client.cookies.get("session")
        assert before
        login(client, "ann", PASSWORD)
        after = client.cookies.get("session")
        assert after and after != before
        assert client.get("/me").text == "ann"
    # Whoever planted or saw the cookie from before the login is not logged in with it.
    with TestClient(app, cookies={"session": before}) as planted:
        assert planted.get("/me").text == "-"


def test_the_login_page_throttles_per_username(make_app: MakeApp, add_user: AddUser) -> None:
    add_user("ann")
    app, _ = make_app(limits=LoginLimits(per_user=3, per_address=100, window=60))
    with TestClient(app) as client:
        for _ in range(3):
            assert login(client, "ann", "wrong password given").status_code == 400
        refused = login(client, "ann", PASSWORD)  # even the right password now
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert "Too many attempts" in refused.text
        assert login(client, "ANN", PASSWORD).status_code == 429  # same account, any case
    with TestClient(app, client=("10.9.9.9", 1)) as elsewhere:
        assert login(elsewhere, "ann", PASSWORD).status_code == 429  # not per address


def test_a_successful_login_resets_the_username_count(make_app: MakeApp, add_user: AddUser) -> None:
    add_user("ann")
    app, _ = make_app(limits=LoginLimits(per_user=3, per_address=100, window=60))
    with TestClient(app) as client:
        login(client, "ann", "wrong password given")
        login(client, "ann", "wrong password given")
        assert login(client, "ann", PASSWORD).status_code == 303
        for _ in range(2):
            assert login(client, "ann", "wrong password given").status_code == 400
        assert login(client, "ann", PASSWORD).status_code == 303


def test_the_login_page_throttles_per_address(make_app: MakeApp, add_user: AddUser) -> None:
    add_user("ann")
    app, _ = make_app(limits=LoginLimits(per_user=100, per_address=4, window=60))
    with TestClient(app, client=("192.0.2.7", 4000)) as client:
        for name in ("a1", "a2", "a3", "a4"):
            assert login(client, name, "some password given").status_code == 400
        assert login(client, "ann", PASSWORD).status_code == 429
    with TestClient(app, client=("192.0.2.8", 4000)) as other:
        assert login(other, "ann", PASSWORD).status_code == 303


def test_throttled_answers_do_not_reveal_whether_the_account_exists(
    make_app: MakeApp, add_user: AddUser
) -> None:
    add_user("ann")
    app, _ = make_app(limits=LoginLimits(per_user=2, per_address=100, window=60))
    answers = {}
    with TestClient(app) as client:
        for name in ("ann", "nobody"):
            seen = [login(client, name, "wrong password given") for _ in range(3)]
            answers[name] = [(r.status_code, page(r).replace(name, "NAME")) for r in seen]
    assert [s for s, _ in answers["ann"]] == [400, 400, 429]
    assert answers["ann"] == answers["nobody"]


def test_a_malformed_form_is_refused_without_a_lookup(make_app: MakeApp, queries: QueryLog) -> None:
    app, _ = make_app()
    with TestClient(app) as client:
        client.get("/login")
        queries.clear()
        for data in (
            {"x": "1"},
            {"username": "ann"},
            {"password": "x"},
            {"username": "", "password": ""},
        ):
            response = client.post("/login", data=data, headers=HTML)
            assert response.status_code == 400
    assert len(queries) == 0
