"""Users, groups and permissions: creating them, the rules they follow, the permission rows."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from accounts_kit import PASSWORD, AddUser, MakeApp
from sqlalchemy import select

from satchel.auth import AccountInvalid, AnonymousUser, ApiToken, Group, Permission, User
from satchel.auth.anonymous import ANONYMOUS
from satchel.auth.normalize import email_key, normalize_email, username_key
from satchel.auth.permissions import (
    all_permissions,
    app_label,
    async_sync_permissions,
    check_codename,
    model_permissions,
    sync_permissions,
)
from satchel.auth.validators import PasswordInvalid
from satchel.db import Database

SRC = Path(__file__).resolve().parents[2] / "src"


def test_usernames_and_emails_are_normalised_when_set() -> None:
    user = User(username="  \uff21nn ", email=" Ann.Lee@EXAMPLE.com ")
    assert user.username == "Ann" and user.username_key == "ann"
    assert user.email == "Ann.Lee@example.com" and user.email_key == "ann.lee@example.com"
    user.email = ""
    assert user.email is None and user.email_key is None
    assert username_key("STRASSE") == username_key("strasse")
    assert email_key("Stra\u00dfe@x.de") == "strasse@x.de"  # casefold: ss
    assert normalize_email("no-at-sign") == "no-at-sign"


def test_create_user_hashes_validates_and_refuses_duplicates(
    make_app: MakeApp, database: Database
) -> None:
    _, auth = make_app()
    user = asyncio.run(auth.create_user("Ann", PASSWORD, email="ann@example.com"))
    assert user.id is not None and user.password.startswith("$argon2id$")
    assert PASSWORD not in user.password
    assert user.is_active and not user.is_staff and not user.is_superuser
    assert user.date_joined.tzinfo is not None and user.last_login is None
    boss = asyncio.run(auth.create_user("boss", PASSWORD + "!", is_superuser=True))
    assert boss.is_staff and boss.is_superuser
    nopass = asyncio.run(auth.create_user("sso"))
    assert not nopass.has_usable_password()
    with pytest.raises(AccountInvalid) as caught:
        asyncio.run(auth.create_user("ANN", PASSWORD, email="ANN@example.com"))
    assert caught.value.errors == {
        "username": ["A user with that username already exists."],
        "email": ["A user with that email address already exists."],
    }
    with pytest.raises(AccountInvalid) as weak:
        asyncio.run(auth.create_user("carol", "carol12345", email="carol@example.com"))
    assert (
        "This password is too short. It must contain at least 15 characters."
        in (weak.value.errors["password"])
    )
    unchecked = asyncio.run(auth.create_user("dave", "short", validate=False))
    assert unchecked.password.startswith("$argon2id$")
    with database.session() as session:
        names = sorted(session.scalars(select(User.username)))
    assert names == ["Ann", "boss", "dave", "sso"]


def test_set_password_applies_the_rules_and_changes_the_hash(
    make_app: MakeApp, add_user: AddUser
) -> None:
    ann = add_user("ann", email="ann@example.com")
    _, auth = make_app()
    old = ann.password
    with pytest.raises(PasswordInvalid):
        asyncio.run(auth.set_password(ann, "password"))
    assert ann.password == old
    asyncio.run(auth.set_password(ann, "a completely new passphrase"))
    assert ann.password != old
    assert auth.hasher.verify("a completely new passphrase", ann.password)


def test_a_custom_username_validator(make_app: MakeApp) -> None:
    def unicode_names(name: str) -> list[str]:
        return [] if name.isalnum() else ["Letters and digits only."]

    _, auth = make_app(username_validator=unicode_names)
    user = asyncio.run(auth.create_user("J\u00fcrgen", PASSWORD))
    assert user.username == "J\u00fcrgen"
    with pytest.raises(AccountInvalid, match="Letters and digits only"):
        asyncio.run(auth.create_user("j.doe", PASSWORD))


def test_the_anonymous_user() -> None:
    anon = AnonymousUser()
    assert anon == ANONYMOUS and not anon.is_authenticated and anon.is_anonymous
    assert anon.id is None and anon.username == "" and not anon.is_staff
    assert not anon.has_perm("auth.view_user") and not anon.has_perms(["x.y"], "any")
    assert bool(anon) and str(anon) == "AnonymousUser"


# -- permissions -------------------------------------------------------------------------


class Article:
    """Stands for a model (not mapped, so the shared metadata gets no table from tests)."""

    __app_label__ = "news"
    __permissions__ = [("publish_article", "Can publish articles"), ("news.feature", "Feature")]


def test_permission_names_come_from_the_model() -> None:
    assert app_label(User) == "auth"
    assert app_label(Article) == "news"
    assert model_permissions(ApiToken)[0] == ("auth.add_apitoken", "Can add api token")
    assert model_permissions(Article) == [
        ("news.add_article", "Can add article"),
        ("news.change_article", "Can change article"),
        ("news.delete_article", "Can delete article"),
        ("news.view_article", "Can view article"),
        ("news.publish_article", "Can publish articles"),
        ("news.feature", "Feature"),
    ]
    everything = all_permissions()  # every mapped model
    assert "auth.view_group" in everything and "auth.add_apitoken" in everything
    assert "news.publish_article" in all_permissions([Article])
    for bad in ("publish", "Blog.x", "a.b.c", "a. b", ""):
        with pytest.raises(ValueError, match="codename"):
            check_codename(bad)


def test_the_migration_made_the_auth_permissions_and_sync_adds_the_rest(
    database: Database,
) -> None:
    with database.session() as session:
        codes = set(session.scalars(select(Permission.codename)))
        assert {f"auth.{a}_{m}" for a in ("add", "view") for m in ("user", "group")} <= codes
        created = sync_permissions(session, [User, Article])
        assert created == [
            "news.add_article",
            "news.change_article",
            "news.delete_article",
            "news.view_article",
            "news.publish_article",
            "news.feature",
        ]
        assert sync_permissions(session, [User, Article]) == []  # never twice

    async def again() -> list[str]:
        async with database.async_session() as session:
            return await async_sync_permissions(session, [Article])

    assert asyncio.run(again()) == []


def test_load_permissions_direct_grouped_and_superuser(
    make_app: MakeApp, add_user: AddUser, database: Database
) -> None:
    ann = add_user("ann")
    root = add_user("root", is_superuser=True)
    with database.session() as session:
        direct = Permission(codename="blog.add_post", name="Can add post")
        grouped = Permission(codename="blog.publish_post", name="Can publish")
        session.add(Group(name="editors", permissions=[grouped]))
        stored = session.get(User, ann.id)
        assert stored is not None
        stored.user_permissions.append(direct)
        stored.groups.append(session.scalars(select(Group)).one())
    _, auth = make_app()
    with pytest.raises(RuntimeError, match="load_permissions"):
        ann.has_perm("blog.add_post")
    assert asyncio.run(auth.load_permissions(ann)) == {"blog.add_post", "blog.publish_post"}
    assert ann.has_perms(["blog.add_post", "blog.publish_post"])
    assert not ann.has_perm("blog.delete_post")
    assert ann.has_perms(["blog.delete_post", "blog.add_post"], require="any")
    assert asyncio.run(auth.load_permissions(root)) == frozenset()
    assert root.has_perm("anything.at_all")
    assert asyncio.run(auth.load_permissions(ANONYMOUS)) == frozenset()


def test_a_project_extends_the_user_model(tmp_path: Path) -> None:
    """A subclass adds columns to auth_user; Auth(app, user_model=...) returns it everywhere."""
    (tmp_path / "project.py").write_text(
        textwrap.dedent(
            """
            import asyncio

            from sqlalchemy import String
            from sqlalchemy.orm import Mapped, mapped_column

            from satchel import App
            from satchel.auth import Auth, CurrentUser, User, login_required
            from satchel.auth.passwords import PasswordHasher
            from satchel.db import Database
            from satchel.testing import TestClient


            class Member(User):
                nickname: Mapped[str | None] = mapped_column(String(50), default=None)


            db = Database("sqlite:///project.db")
            app = App(database=db, secret_key="x" * 40)
            auth = Auth(app, user_model=Member, hasher=PasswordHasher(time_cost=1, memory_cost=1024))


            @app.get("/me")
            @login_required
            async def me(user: CurrentUser) -> dict:
                return {"type": type(user).__name__, "nickname": user.nickname}


            db.create_all()
            assert "nickname" in User.__table__.c
            member = asyncio.run(auth.create_user("ann", "violet kettle drums at noon", nickname="Annie"))
            assert isinstance(member, Member)
            with TestClient(app) as client:
                client.post("/login", data={"username": "ann", "password": "violet kettle drums at noon"})
                print(client.get("/me").json())
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "project.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'type': 'Member', 'nickname': 'Annie'}"
