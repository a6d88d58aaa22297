"""Database: URLs and drivers, SQLite set-up, engines, settings, init_app, shutdown."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dbt_models import Author, Note
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from satchel import App, ImproperlyConfigured
from satchel.db import AsyncSession, Database, Model, Session
from satchel.db.engines import driver_url, parse_url
from satchel.testing import TestClient


@pytest.mark.parametrize(
    ("url", "sync", "async_"),
    [
        ("sqlite:///app.db", "sqlite+pysqlite", "sqlite+aiosqlite"),
        ("postgresql://u@h/db", "postgresql+psycopg", "postgresql+asyncpg"),
        ("postgres://u@h/db", "postgresql+psycopg", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+psycopg", "postgresql+asyncpg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg", "postgresql+asyncpg"),
        ("mysql://u@h/db", "mysql+pymysql", "mysql+asyncmy"),
        ("mariadb://u@h/db", "mariadb+pymysql", "mariadb+asyncmy"),
        ("mysql+asyncmy://u@h/db", "mysql+pymysql", "mysql+asyncmy"),
        ("oracle://u@h/db", "oracle+oracledb", "oracle+oracledb_async"),
    ],
)
def test_drivers_follow_from_the_url(url: str, sync: str, async_: str):
    parsed = parse_url(url)
    assert driver_url(parsed, is_async=False).drivername == sync
    assert driver_url(parsed, is_async=True).drivername == async_


def test_bad_url_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="invalid database URL"):
        Database("not a url")


def test_default_url_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SATCHEL_DATABASE_URL", "sqlite:///from-env.db")
    db = Database()
    app = App(database=db, root_path=str(tmp_path))
    assert app.extensions["database"] is db
    assert db.url.database == str(tmp_path / "from-env.db")
    db.create_all([Note])
    assert (tmp_path / "from-env.db").exists()
    db.dispose()


def test_relative_sqlite_file_lives_in_the_project(tmp_path: Path):
    db = Database("sqlite:///data/app.db")
    (tmp_path / "data").mkdir()
    App(database=db, root_path=str(tmp_path))
    assert make_url(str(db.url)).database == str(tmp_path / "data" / "app.db")
    assert db.engine.url.drivername == "sqlite+pysqlite"


def test_sqlite_connections_are_set_up(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"

    async def check_async() -> tuple[int, str]:
        async with db.async_engine.connect() as conn:
            fk = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
        await db.async_dispose()
        return fk, mode

    assert asyncio.run(check_async()) == (1, "wal")
    db.dispose()


def test_sqlite_savepoints_nest_inside_the_transaction(tmp_path: Path):
    """sqlite3 on its own would run SAVEPOINT outside any transaction."""
    db = Database(f"sqlite:///{tmp_path / 'sp.db'}")
    db.create_all([Note])
    with db.engine.connect() as conn:
        outer = conn.begin()
        nested = conn.begin_nested()
        conn.execute(Note.__table__.insert().values(text="inner"))
        nested.commit()
        outer.rollback()
        assert conn.execute(select(Note)).all() == []
    db.dispose()


def test_in_memory_sqlite_is_shared_by_sync_and_async(tmp_path: Path):
    db = Database("sqlite://")
    app = App(database=db, root_path=str(tmp_path))
    db.create_all([Note])  # through the sync engine

    @app.post("/notes")
    async def add(value: str, session: AsyncSession) -> None:
        session.add(Note(text=value))

    @app.get("/notes")
    def notes(session: Session) -> list[str]:
        return list(session.scalars(select(Note.text)))

    with TestClient(app) as client:
        added = client.post(
            "/notes", params={"value": "hello"}, headers={"content-type": "application/json"}
        )
        assert added.status_code == 204
        assert client.get("/notes").json() == ["hello"]
    other = Database("sqlite://")
    other.create_all([Note])
    with other.session() as session:
        assert session.scalars(select(Note)).all() == []  # each Database its own memory


def test_engine_settings_reach_the_pool(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    App(database=db, root_path=str(tmp_path), database_pool_size=3, database_max_overflow=1)
    pool = db.engine.pool
    assert pool.size() == 3  # type: ignore[attr-defined]
    assert pool._max_overflow == 1  # type: ignore[attr-defined]
    assert pool._timeout == 30  # type: ignore[attr-defined]


def test_engine_options_override(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'o.db'}", engine_options={"pool_size": 2, "echo": True})
    assert db.engine.pool.size() == 2  # type: ignore[attr-defined]
    assert db.engine.echo is True


def test_async_engine_is_per_event_loop(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'l.db'}")

    async def grab() -> AsyncEngine:
        engine = db.async_engine
        assert db.async_engine is engine
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        return engine

    first = asyncio.run(grab())
    second = asyncio.run(grab())  # a new loop: the first engine's connections are unusable
    assert first is not second


def test_metadata_is_shared_by_all_models():
    assert Database().metadata is Model.metadata
    assert Author.__table__.metadata is Note.__table__.metadata is Model.metadata


def test_one_database_per_app(tmp_path: Path):
    db = Database("sqlite://")
    app = App(database=db, root_path=str(tmp_path))
    db.init_app(app)  # again: harmless
    with pytest.raises(ImproperlyConfigured, match="already has a database"):
        Database("sqlite://").init_app(app)


def test_shutdown_disposes_the_pools(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'd.db'}")
    app = App(database=db, root_path=str(tmp_path))
    states = []

    @app.get("/")
    async def index(session: AsyncSession) -> str:
        await session.execute(text("SELECT 1"))
        states.append(db._async_state())
        return "ok"

    with TestClient(app) as client:
        client.get("/")
        assert states[0].engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    # Disposed: the loop's engine is forgotten and its pool emptied.
    assert states[0] not in db._async_states.values()
    assert states[0].engine.pool.checkedin() == 0  # type: ignore[attr-defined]


def test_missing_driver_names_the_extra_and_drivers_load_on_use():
    script = """
import sys
from satchel.db import Database
loaded = sorted(m for m in ("asyncpg", "psycopg", "pymysql", "asyncmy", "alembic") if m in sys.modules)
print("loaded", loaded)
sys.modules["asyncpg"] = None  # as if not installed
try:
    Database("postgresql://u@127.0.0.1/x").async_engine
except Exception as exc:
    print(type(exc).__name__, exc)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "loaded []"  # importing the battery loads no driver, nor alembic
    assert lines[1].startswith("ImproperlyConfigured")
    assert "satchel[postgres]" in lines[1]


def test_sqlite_concurrent_read_then_write_waits_instead_of_failing(tmp_path: Path):
    """Two transactions that read, then write: the second waits for the first."""
    db = Database(f"sqlite:///{tmp_path / 'busy.db'}")
    db.create_all([Note])
    errors: list[BaseException] = []

    def read_then_write(delay: float, label: str) -> None:
        try:
            time.sleep(delay)
            with db.session() as session:
                session.scalars(select(Note)).all()  # a read first...
                time.sleep(0.2)  # ...while the other transaction runs...
                session.add(Note(text=label))  # ...then a write
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=read_then_write, args=(0, "first")),
        threading.Thread(target=read_then_write, args=(0.05, "second")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.session() as session:
        assert sorted(session.scalars(select(Note.text))) == ["first", "second"]
    db.dispose()


def test_sqlite_begin_mode_can_be_chosen(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'mode.db'}")
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda c, cur, stmt, *a: sent.append(stmt))
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    with db.engine.connect().execution_options(sqlite_begin="deferred") as conn:
        conn.exec_driver_sql("SELECT 1")
    assert [s for s in sent if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE", "BEGIN"]
    with pytest.raises(ImproperlyConfigured, match="sqlite_begin"):
        with db.engine.connect().execution_options(sqlite_begin="sometimes") as conn:
            conn.exec_driver_sql("SELECT 1")
    db.dispose()
