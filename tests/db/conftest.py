"""Database test fixtures: every test runs on SQLite, and on PostgreSQL and MariaDB
when SATCHEL_TEST_POSTGRES_URL / SATCHEL_TEST_MYSQL_URL are set.

Each server gets a database of its own for this test session (``dbt_<random>``),
created at the start and dropped at the end, so runs never see each other's rows
and the suite can run while other tests use the shared ``test`` database.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from satchel import App
from satchel.db import Database
from satchel.db.testing import db_connection, db_session  # noqa: F401 - fixtures

# The shared models live in a plain module next to this file: tests import them as
# ``dbt_models`` (tests/ is not a package, and a model module must load only once).
sys.path.insert(0, str(Path(__file__).parent))
from dbt_models import TABLES

ENV = {"postgresql": "SATCHEL_TEST_POSTGRES_URL", "mysql": "SATCHEL_TEST_MYSQL_URL"}


def _backends() -> list[str]:
    return ["sqlite", *(name for name, var in ENV.items() if os.environ.get(var))]


BACKENDS = _backends()


def _unreachable(name: str, exc: BaseException) -> None:
    message = f"{name} at ${ENV[name]} is unreachable: {exc}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _server_database(name: str) -> Iterator[str]:
    """Create a private database on the server ``name``; yield its URL; drop it after."""
    base = make_url(os.environ[ENV[name]])
    driver = "postgresql+psycopg" if name == "postgresql" else "mysql+pymysql"
    admin = create_engine(  # NullPool: a connection per use survives a server restart
        base.set(drivername=driver),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
        poolclass=NullPool,
    )
    private = f"dbt_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {private}")
    except Exception as exc:
        admin.dispose()
        _unreachable(name, exc)
    try:
        yield base.set(database=private).render_as_string(hide_password=False)
    finally:
        drop = f"DROP DATABASE IF EXISTS {private}"
        if name == "postgresql":
            drop += " WITH (FORCE)"
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(drop)
        finally:
            admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL for an empty database with the test tables, one per backend and session."""
    name = request.param
    if name == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite:///{path}"
        _create_tables(url)
        yield url
        return
    gen = _server_database(name)
    url = next(gen)
    _create_tables(url)
    yield url
    next(gen, None)


def _create_tables(url: str) -> None:
    db = Database(url)
    db.create_all(TABLES)
    db.dispose()


@pytest.fixture
def backend(backend_url: str) -> str:
    """The backend's name: sqlite, postgresql or mysql."""
    return make_url(backend_url).get_backend_name()


@pytest.fixture
def database(backend_url: str) -> Iterator[Database]:
    """A Database on the backend, its test tables emptied after the test."""
    db = Database(backend_url)
    yield db
    with db.engine.begin() as conn:
        for table in reversed(TABLES):
            conn.execute(delete(table))
    db.dispose()


@pytest.fixture
def make_app(database: Database) -> Callable[..., App]:
    """Return ``make_app(**settings)``: an App using ``database``."""

    def make(**settings: object) -> App:
        settings.setdefault("debug", False)
        settings.setdefault("csrf_enabled", False)
        return App(database=database, root_path=str(Path(__file__).parent), **settings)

    return make
