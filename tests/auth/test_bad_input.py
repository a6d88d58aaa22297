"""Hostile input on every account page: refused clearly, nothing leaked, nothing changed."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

import pytest
from accounts_kit import HTML, PASSWORD, AddUser, MakeApp, QueryLog, login
from sqlalchemy import func, select

from satchel.auth import AccountInvalid, Permission, User
from satchel.auth.passwords import PasswordHasher
from satchel.db import Database
from satchel.testing import TestClient

PAYLOADS = [
    "' OR '1'='1",
    "admin'--",
    '"; DROP TABLE auth_user; --',
    "1; DELETE FROM auth_permission",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}{% raw %}",
    "\u202eevil",
    "a\x00b",
    "%00%27",
]


@pytest.mark.parametrize(
    "name",
    [
        "adm\u0131n",  # dotless i
        "\u0430dmin",  # Cyrillic a
        "adm\u0456n",  # Cyrillic i
        "admin ",  # fine after stripping: a duplicate
        "ADMIN",  # a duplicate in another case
        "\uff41\uff44\uff4d\uff49\uff4e",  # full-width: a duplicate after NFKC
        "ad\u200bmin",  # zero-width space
        "admin@example.com",  # an @ would make logins ambiguous
        "",
        "x" * 151,
    ],
)
def test_look_alike_and_malformed_usernames_are_refused(
    make_app: MakeApp, add_user: AddUser, name: str
) -> None:
    add_user("admin", email="admin@example.com")
    _, auth = make_app()
    with pytest.raises(AccountInvalid) as caught:
        asyncio.run(auth.create_user(name, PASSWORD))
    assert list(caught.value.errors) == ["username"]


@pytest.mark.parametrize(
    ("address", "field_error"),
    [
        ("ADMIN@EXAMPLE.COM", "already exists"),
        ("\uff41dmin@example.com", "already exists"),
        ("admin@exam ple.com", "valid email"),
        ("<script>@example.com", "valid email"),
        ("admin@example.com\nBcc: all@example.com", "valid email"),
        ("x" * 250 + "@example.com", "at most"),
    ],
)
def test_duplicate_and_malformed_emails_are_refused(
    make_app: MakeApp, add_user: AddUser, address: str, field_error: str
) -> None:
    add_user("admin", email="admin@example.com")
    _, auth = make_app()
    with pytest.raises(AccountInvalid) as caught:
        asyncio.run(auth.create_user("someone", PASSWORD, email=address))
    assert list(caught.value.errors) == ["email"]
    assert field_error in caught.value.errors["email"][0]


def test_a_look_alike_email_is_another_account(
    make_app: MakeApp, add_user: AddUser, database: Database
) -> None:
    add_user("admin", email="admin@example.com")
    app, auth = make_app()
    other = asyncio.run(auth.create_user("mallory", PASSWORD + "!", email="adm\u0131n@example.com"))
    assert other.email_key != "admin@example.com"
    with TestClient(app) as client:
        # Mallory's password with Admin's look-alike address logs in as Mallory, never Admin.
        assert login(client, "adm\u0131n@example.com", PASSWORD).status_code == 400
        assert login(client, "adm\u0131n", PASSWORD).status_code == 400


def test_a_megabyte_password_is_refused_fast_and_never_hashed(
    make_app: MakeApp, add_user: AddUser, monkeypatch: pytest.MonkeyPatch, queries: QueryLog
) -> None:
    add_user("ann", email="ann@example.com")
    app, auth = make_app()
    calls: list[str] = []
    for method in ("verify", "dummy_verify", "hash"):
        original = getattr(PasswordHasher, method)

        def counting(self: PasswordHasher, *args: object, _o=original, _m=method) -> object:
            calls.append(_m)
            return _o(self, *args)

        monkeypatch.setattr(PasswordHasher, method, counting)
    huge = "p" * 1_000_000
    with TestClient(app) as client:
        login(client, "ann", PASSWORD)
        calls.clear()
        queries.clear()
        started = time.perf_counter()
        with TestClient(app) as other:
            for who in ("ann", "nobody"):
                assert login(other, who, huge).status_code == 400
        change = client.post(
            "/password/change",
            data={"old_password": huge, "new_password1": "x", "new_password2": "x"},
        )
        assert change.status_code == 400
        too_big = client.post(  # three of them pass the body limit: refused unread
            "/password/change",
            data={"old_password": huge, "new_password1": huge, "new_password2": huge},
        )
        assert too_big.status_code == 413
        elapsed = time.perf_counter() - started
    assert calls == []
    assert len(queries) == 2  # the logged-in user per request, no more
    assert elapsed < 2.0
    with pytest.raises(AccountInvalid):
        asyncio.run(auth.create_user("bob", huge))
    assert calls == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_every_field_change_nothing_and_come_back_escaped(
    make_app: MakeApp, add_user: AddUser, database: Database, payload: str
) -> None:
    add_user("ann", email="ann@example.com")
    app, _ = make_app()

    def counts() -> tuple[int, int]:
        with database.session() as session:
            users = session.scalar(select(func.count()).select_from(User))
            perms = session.scalar(select(func.count()).select_from(Permission))
            return int(users or 0), int(perms or 0)

    before = counts()
    with TestClient(app) as client:
        answers = [
            login(client, payload, payload, next=payload, remember=payload),
            login(client, "ann", payload),
            client.post("/password/reset", data={"email": payload}, headers=HTML),
            client.get(f"/password/reset/{quote(payload, safe='')}", headers=HTML),
            client.post(
                f"/password/reset/{quote(payload, safe='')}",
                data={"new_password1": payload, "new_password2": payload},
                headers=HTML,
            ),
            client.get("/login", params={"next": payload}, headers=HTML),
        ]
        login(client, "ann", PASSWORD)
        answers.append(
            client.post(
                "/password/change",
                data={"old_password": payload, "new_password1": payload, "new_password2": payload},
                headers=HTML,
            )
        )
    for response in answers:
        assert response.status_code in (200, 400, 404), (response.status_code, response.text[:300])
        assert "<script>alert(1)</script>" not in response.text
        assert "<img src=x" not in response.text
        assert ">49<" not in response.text and 'value="49"' not in response.text
    assert counts() == before
    with TestClient(app) as client:
        assert login(client, "ann", PASSWORD).status_code == 303  # and nothing else changed


def test_odd_form_encodings_are_refused_not_crashed(make_app: MakeApp) -> None:
    app, _ = make_app()
    with TestClient(app) as client:
        bodies = [
            (b"username=%ff%fe&password=%80", "application/x-www-form-urlencoded"),
            (b"username=a&username=b&password=c&password=d", "application/x-www-form-urlencoded"),
            (b'{"username": "ann", "password": "x"}', "application/json"),
            (b"\x00" * 100, "application/x-www-form-urlencoded"),
        ]
        for body, content_type in bodies:
            response = client.post(
                "/login", content=body, headers={"content-type": content_type, **HTML}
            )
            assert 400 <= response.status_code < 500, (body, response.status_code)
