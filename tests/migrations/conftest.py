"""Fixtures for the migration tests: databases of their own, a project, ``satchel db``.

Each test gets a PostgreSQL schema or a MariaDB database of its own (``mgt_<random>``,
dropped afterwards), so autogenerate sees only the test's tables and nothing collides
with other tests on the same servers. SQLite is a file in the test's directory.
"""

from __future__ import annotations

import importlib
import os
import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

import satchel.cli
from satchel.cli.main import cli

SRC_DIR = Path(satchel.cli.__file__).absolute().parents[2]

APP_TEMPLATE = """\
import enum
import os

import sqlalchemy as sa
from sqlalchemy import ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from satchel import App
from satchel.db import NAMING_CONVENTION, Database, TimestampMixin
from satchel.migrations import Migrations


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


{models}

# root_path given: finding the caller's file walks (and reads) the whole pytest stack.
app = App(root_path=os.path.dirname(__file__), database=Database(os.environ["MGT_URL"]))
Migrations(app, metadata=Base.metadata)
"""


@dataclass
class Backend:
    """One database a test runs on: its name and a URL to a scratch schema/database."""

    name: str
    url: str
    _engine: sa.Engine | None = None

    @property
    def engine(self) -> sa.Engine:
        """An engine on the scratch database (disposed by the fixture)."""
        if self._engine is None:
            self._engine = sa.create_engine(_driver_url(self.url), poolclass=sa.pool.NullPool)
        return self._engine

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Run ``sql`` and return its rows (committing, for writes)."""
        with self.engine.begin() as connection:
            result = connection.execute(sa.text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []

    def tables(self) -> set[str]:
        """Return the tables in the scratch database."""
        with self.engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names())

    def columns(self, table: str) -> list[str]:
        """Return the column names of ``table``."""
        with self.engine.connect() as connection:
            return [column["name"] for column in sa.inspect(connection).get_columns(table)]


def _driver_url(url: str) -> sa.URL:
    parsed = sa.make_url(url)
    drivers = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}
    backend = parsed.get_backend_name()
    if backend in drivers and "+" not in parsed.drivername:
        parsed = parsed.set(drivername=drivers[backend])
    return parsed


def _server_url(name: str) -> str:
    variable = {"postgresql": "SATCHEL_TEST_POSTGRES_URL", "mysql": "SATCHEL_TEST_MYSQL_URL"}[name]
    url = os.environ.get(variable, "").strip()
    if not url:
        pytest.skip(f"{variable} is not set")
    return url


def _admin_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(_driver_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        engine.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"database server {url} is unreachable under CI: {exc}")
        pytest.skip(f"database server {url} is unreachable: {exc}")
    return engine


@pytest.fixture
def make_backend(tmp_path: Path) -> Iterator[Any]:
    """Return ``make(name)``: a scratch database on ``sqlite``, ``postgresql`` or ``mysql``."""
    cleanups: list[Any] = []

    def make(name: str) -> Backend:
        if name == "sqlite":
            return Backend("sqlite", f"sqlite:///{tmp_path / f'{secrets.token_hex(4)}.db'}")
        server = _server_url(name)
        scratch = f"mgt_{secrets.token_hex(6)}"
        admin = _admin_engine(server)
        with admin.connect() as connection:
            if name == "postgresql":
                connection.exec_driver_sql(f"CREATE SCHEMA {scratch}")
            else:
                connection.exec_driver_sql(f"CREATE DATABASE {scratch}")
        cleanups.append((admin, name, scratch))
        parsed = sa.make_url(server)
        if name == "postgresql":
            url = parsed.update_query_dict({"options": f"-csearch_path={scratch}"})
        else:
            # PyMySQL otherwise builds a TLS context for every connection (~0.1 s each)
            # to try TLS on the local test server.
            url = parsed.set(database=scratch).update_query_dict({"ssl_disabled": "1"})
        return Backend(name, url.render_as_string(hide_password=False))

    yield make
    for admin, name, scratch in cleanups:
        with admin.connect() as connection:
            if name == "postgresql":
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {scratch} CASCADE")
            else:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {scratch}")
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def backend(request: pytest.FixtureRequest, make_backend: Any) -> Backend:
    """A scratch database on each of the three databases in turn."""
    result: Backend = make_backend(request.param)
    return result


class Project:
    """A temporary project directory holding ``app.py``; runs ``satchel db`` in-process."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch

    def models(self, source: str) -> None:
        """Write ``app.py`` with ``source`` as its models (dedented)."""
        text = APP_TEMPLATE.format(models=textwrap.dedent(source).strip())
        (self.root / "app.py").write_text(text)
        importlib.invalidate_caches()

    def use(self, backend: Backend) -> None:
        """Point the app at ``backend``'s database."""
        self.monkeypatch.setenv("MGT_URL", backend.url)

    def satchel(self, *args: str, input: str | None = None) -> Result:
        """Run ``satchel ARGS`` in-process on a freshly imported app."""
        self._forget_app()
        try:
            return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
        finally:
            module = sys.modules.get("app")
            app = getattr(module, "app", None)
            database = getattr(app, "extensions", {}).get("database")
            if database is not None:
                database.dispose()

    def ok(self, *args: str, input: str | None = None) -> str:
        """Run ``satchel ARGS``, fail the test unless it exits 0, return its output."""
        result = self.satchel(*args, input=input)
        assert result.exit_code == 0, result.output
        return result.output

    def versions(self) -> list[Path]:
        """Return the migration files, oldest first."""
        return sorted((self.root / "migrations" / "versions").glob("*.py"))

    def _forget_app(self) -> None:
        for name, module in list(sys.modules.items()):
            origin = getattr(module, "__file__", None) or ""
            if origin.startswith(str(self.root)):
                del sys.modules[name]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """A fresh project directory as the cwd, importable, forgotten afterwards."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.delenv(satchel.cli.APP_ENV_VAR, raising=False)
    saved_path = list(sys.path)
    sys.path.insert(0, str(root))
    proj = Project(root, monkeypatch)
    yield proj
    proj._forget_app()
    sys.path[:] = saved_path


class SatchelRunner:
    """Runs a real ``satchel`` process that imports this checkout."""

    def __init__(self) -> None:
        script = Path(sys.executable).with_name("satchel")
        self.argv = [str(script)] if script.exists() else [sys.executable, "-m", "satchel.cli.main"]
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("SATCHEL_DEBUG", "SATCHEL_APP")
        }
        self.env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(SRC_DIR), self.env.get("PYTHONPATH")])
        )

    def __call__(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``satchel ARGS`` in ``cwd`` to completion."""
        return subprocess.run(
            [*self.argv, *args], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=60
        )


@pytest.fixture
def run_satchel() -> SatchelRunner:
    """Return a :class:`SatchelRunner`: ``run_satchel(cwd, *args)``."""
    return SatchelRunner()
