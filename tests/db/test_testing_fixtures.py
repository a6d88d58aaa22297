"""The test fixtures: one connection, one transaction per test, rolled back after."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from dbt_models import Author, count_rows
from sqlalchemy import select, text
from sqlalchemy.orm import Session as OrmSession

from satchel import App, NotFound
from satchel.db import AsyncSession, Database, Session
from satchel.testing import TestClient


def _app(make_app: Callable[..., App]) -> App:
    app = make_app()

    @app.get("/authors")
    async def names(session: AsyncSession) -> list[str]:
        return list(await session.scalars(select(Author.name).order_by(Author.name)))

    @app.get("/sync-authors")
    def sync_names(session: Session) -> list[str]:
        return list(session.scalars(select(Author.name).order_by(Author.name)))

    @app.post("/authors")
    async def create(name: str, session: AsyncSession) -> None:
        session.add(Author(name=name, email=f"{name}@example.com"))

    @app.post("/sync-authors")
    def create_sync(name: str, session: Session) -> None:
        session.add(Author(name=name, email=f"{name}@example.com"))

    @app.post("/failing")
    async def failing(name: str, session: AsyncSession) -> None:
        session.add(Author(name=name, email=f"{name}@example.com"))
        await session.flush()
        raise NotFound("no")

    return app


def test_app_and_test_share_one_transaction(
    make_app: Callable[..., App], database: Database, db_session: OrmSession
):
    db_session.add(Author(name="arranged", email="arranged@example.com"))
    db_session.flush()
    with TestClient(_app(make_app)) as client:
        assert client.get("/authors").json() == ["arranged"]  # sees the test's uncommitted row
        assert client.get("/sync-authors").json() == ["arranged"]
        assert client.post("/authors", params={"name": "viaasync"}).status_code == 204
        assert client.post("/sync-authors", params={"name": "viasync"}).status_code == 204
        assert client.post("/failing", params={"name": "undone"}).status_code == 404
        assert client.get("/authors").json() == ["arranged", "viaasync", "viasync"]
    names = db_session.scalars(select(Author.name).order_by(Author.name)).all()
    assert names == ["arranged", "viaasync", "viasync"]
    assert count_rows(database, "dbt_author") == 0  # another connection sees nothing committed


def test_everything_is_rolled_back_at_the_end(make_app: Callable[..., App], database: Database):
    app = _app(make_app)
    with database.bind_for_tests() as conn:
        with TestClient(app) as client:
            client.post("/authors", params={"name": "temp"})
            assert client.get("/authors").json() == ["temp"]
        with database.session() as session:  # the script helper joins it too
            session.add(Author(name="script", email="script@example.com"))
        assert len(conn.execute(select(Author)).all()) == 2
    assert count_rows(database, "dbt_author") == 0
    with TestClient(app) as client:  # unbound again: the real engine, committing for real
        client.post("/authors", params={"name": "kept"})
    assert count_rows(database, "dbt_author") == 1


def test_a_test_may_commit_its_own_session(database: Database, db_session: OrmSession):
    db_session.add(Author(name="c", email="c@example.com"))
    db_session.commit()  # releases a SAVEPOINT only
    assert db_session.scalars(select(Author.name)).all() == ["c"]
    assert count_rows(database, "dbt_author") == 0


def test_the_plugin_from_a_project_conftest(tmp_path: Path):
    """What docs/database.md tells users to write, run in a fresh process."""
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import pytest
            from sqlalchemy.orm import Mapped, mapped_column
            from satchel import App
            from satchel.db import AsyncSession, Database, Model
            from sqlalchemy import select

            pytest_plugins = ["satchel.db.testing"]

            class Item(Model):
                __tablename__ = "item"
                id: Mapped[int] = mapped_column(primary_key=True)
                name: Mapped[str]

            db = Database("sqlite:///project.db")
            app = App(database=db, csrf_enabled=False)

            @app.post("/items")
            async def add(name: str, session: AsyncSession) -> None:
                session.add(Item(name=name))

            @app.get("/items")
            async def items(session: AsyncSession) -> list[str]:
                return list(await session.scalars(select(Item.name)))

            @pytest.fixture(scope="session")
            def database():
                db.create_all()
                return db
            """
        )
    )
    (tmp_path / "test_project.py").write_text(
        textwrap.dedent(
            """
            from conftest import Item, app
            from satchel.testing import TestClient

            def test_one(db_session):
                db_session.add(Item(name="from test one"))
                db_session.commit()  # to the test's transaction only
                with TestClient(app) as client:
                    client.post("/items", params={"name": "posted"})
                    assert sorted(client.get("/items").json()) == ["from test one", "posted"]

            def test_two_sees_nothing_of_test_one(db_session):
                with TestClient(app) as client:
                    assert client.get("/items").json() == []
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        # Only what the project asks for (pytest_plugins): other installed plugins are slow.
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
    )
    assert "2 passed" in result.stdout, result.stdout + result.stderr


def test_core_statements_in_async_sessions_under_test(
    make_app: Callable[..., App], db_session: OrmSession
):
    db_session.add(Author(name="core", email="core@example.com"))
    db_session.flush()
    app = make_app()

    @app.get("/core")
    async def core(session: AsyncSession) -> dict[str, object]:
        names = (await session.execute(text("SELECT name FROM dbt_author"))).scalars().all()
        table = Author.__table__
        emails = (await session.execute(select(table.c.email))).scalars().all()
        count = await session.scalar(text("SELECT COUNT(*) FROM dbt_author"))
        return {"names": list(names), "emails": list(emails), "count": count}

    with TestClient(app) as client:
        assert client.get("/core").json() == {
            "names": ["core"],
            "emails": ["core@example.com"],
            "count": 1,
        }
