"""API tokens: made once, stored hashed, sent as ``Authorization: Bearer``, revocable."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import pytest
from accounts_kit import HTML, PASSWORD, AddUser, MakeApp, QueryLog, login
from sqlalchemy import select, update

from satchel import App
from satchel.auth import ApiToken, Auth, MaybeUser, User, login_required
from satchel.auth.tokens import api_token_length
from satchel.db import Database
from satchel.http.request import Request
from satchel.testing import TestClient


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def token_app(make_app: MakeApp) -> tuple[App, Auth]:
    app, auth = make_app()

    @app.get("/me")
    @login_required
    async def me(request: Request) -> dict[str, object]:
        return {"username": request.user.username}

    @app.post("/items")
    @login_required
    async def add_item(request: Request) -> dict[str, str]:
        return {"by": request.user.username}

    @app.get("/public")
    async def public(user: MaybeUser) -> dict[str, object]:
        return {"auth": user.is_authenticated}

    return app, auth


def test_a_token_is_shown_once_and_stored_hashed(
    make_app: MakeApp, add_user: AddUser, database: Database
) -> None:
    ann = add_user("ann")
    app, auth = token_app(make_app)
    token = asyncio.run(auth.create_token(ann, "laptop"))
    assert token.startswith("stl_") and len(token) == api_token_length() == 54
    with database.session() as session:
        row = session.scalars(select(ApiToken)).one()
        columns = [str(getattr(row, c.key)) for c in ApiToken.__table__.columns]
    assert token not in " ".join(columns)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.lookup_id == token[4:16] and row.name == "laptop" and row.user_id == ann.id
    with TestClient(app) as client:
        assert client.get("/me", headers=bearer(token)).json() == {"username": "ann"}
        assert client.get("/me").status_code == 401


def test_bearer_requests_skip_csrf_and_never_fall_back_to_the_session(
    make_app: MakeApp, add_user: AddUser
) -> None:
    ann = add_user("ann")
    add_user("bob")
    app, auth = token_app(make_app)
    token = asyncio.run(auth.create_token(ann, "ci"))
    with TestClient(app, enforce_csrf_checks=True) as client:
        assert client.post("/items", headers=bearer(token)).json() == {"by": "ann"}
    with TestClient(app) as client:
        login(client, "bob", PASSWORD)
        assert client.get("/me").json() == {"username": "bob"}
        wrong = token[:-1] + ("x" if token[-1] != "x" else "y")
        refused = client.get("/me", headers=bearer(wrong))
        assert refused.status_code == 401  # bob's cookie is not used instead
        assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        browser = client.get("/me", headers={**bearer("stl_nope"), **HTML})
        assert browser.status_code == 401  # an API client: no redirect to a login page
        assert client.get("/me", headers={"authorization": "Basic Ym9iOng="}).json() == {
            "username": "bob"
        }  # another scheme is not a token: the session still counts


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer stl_",
        "Bearer gho_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
        "Bearer stl_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL",  # one short
        "Bearer stl_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO",  # one long
        "Bearer stl_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM",  # bad checksum
        "Bearer stl_' OR '1'='1' -- 0123456789abcdefghijklmnopqrstuvw",
        "Bearer stl_\u00e9123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM",
        "Bearer " + "A" * 5000,
        "bearer stl_<script>alert(1)</script>",
    ],
)
def test_malformed_tokens_are_refused_before_any_query(
    make_app: MakeApp, queries: QueryLog, header: str
) -> None:
    app, _ = token_app(make_app)
    with TestClient(app) as client:
        queries.clear()
        raw = {"authorization": header.encode("utf-8")}  # non-ASCII bytes as sent
        assert client.get("/me", headers=raw).status_code == 401
        assert client.get("/public", headers=raw).json() == {"auth": False}
    assert len(queries) == 0


def test_revoked_expired_and_inactive_tokens_are_refused(
    make_app: MakeApp, add_user: AddUser, database: Database
) -> None:
    ann = add_user("ann")
    off = add_user("off")
    app, auth = token_app(make_app)
    keep = asyncio.run(auth.create_token(ann, "keep"))
    revoked = asyncio.run(auth.create_token(ann, "revoked"))
    short = asyncio.run(auth.create_token(ann, "short", expires=dt.timedelta(hours=1)))
    inactive = asyncio.run(auth.create_token(off, "inactive"))
    assert asyncio.run(auth.revoke_token(revoked)) is True
    assert asyncio.run(auth.revoke_token(revoked)) is False
    assert asyncio.run(auth.revoke_token("stl_not_a_token")) is False
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with database.session() as session:
        session.execute(update(ApiToken).where(ApiToken.name == "short").values(expires_at=past))
        session.execute(update(User).where(User.id == off.id).values(is_active=False))
    with TestClient(app) as client:
        assert client.get("/me", headers=bearer(keep)).status_code == 200
        for token in (revoked, short, inactive):
            assert client.get("/me", headers=bearer(token)).status_code == 401
    tokens = asyncio.run(auth.list_tokens(ann))
    assert [t.name for t in tokens] == ["short", "revoked", "keep"]
    assert asyncio.run(auth.revoke_token(tokens[-1].id)) is True
    with TestClient(app) as client:
        assert client.get("/me", headers=bearer(keep)).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(
    make_app: MakeApp, add_user: AddUser, queries: QueryLog, database: Database
) -> None:
    ann = add_user("ann")
    app, auth = token_app(make_app)
    token = asyncio.run(auth.create_token(ann, "ci"))
    with TestClient(app) as client:
        queries.clear()
        client.get("/me", headers=bearer(token))
        assert len(queries) == 2  # the token with its user, then last_used
        queries.clear()
        client.get("/me", headers=bearer(token))
        assert len(queries) == 1
    with database.session() as session:
        used = session.scalars(select(ApiToken.last_used_at)).one()
    assert used is not None and dt.datetime.now(dt.UTC) - used < dt.timedelta(minutes=1)


def test_create_token_refuses_bad_arguments(make_app: MakeApp, add_user: AddUser) -> None:
    ann = add_user("ann")
    _, auth = token_app(make_app)
    for name in ("", "   ", "x" * 101):
        with pytest.raises(ValueError, match="name"):
            asyncio.run(auth.create_token(ann, name))
    naive = dt.datetime.now() + dt.timedelta(days=1)  # no time zone: refused
    with pytest.raises(ValueError, match="aware"):
        asyncio.run(auth.create_token(ann, "x", expires=naive))
    with pytest.raises(ValueError, match="past"):
        asyncio.run(auth.create_token(ann, "x", expires=dt.datetime.now(dt.UTC)))
    with pytest.raises(ValueError, match="positive"):
        asyncio.run(auth.create_token(ann, "x", expires=dt.timedelta(0)))
