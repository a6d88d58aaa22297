"""Pytest fixtures: each test runs in a database transaction that is rolled back.

Load them in the project's top-level ``conftest.py`` and say which database
the app uses with a ``database`` fixture::

    pytest_plugins = ["satchel.db.testing"]

    @pytest.fixture(scope="session")
    def database():
        db.create_all()          # or run the migrations
        return db

Then a test asks for ``db_session`` (to arrange data) and talks to the app as
usual. Everything -- the test's session, the app's request-scoped ``Session``
and ``AsyncSession``, ``db.session()`` -- runs on one connection inside one
transaction, rolled back when the test ends, so tests never see each other's
rows. A handler's commit only releases a SAVEPOINT; a handler that fails rolls
back to its SAVEPOINT, as it would in production.

Under test, async sessions run on the *sync* driver of that connection
(psycopg, PyMySQL, sqlite3) inside SQLAlchemy's greenlet: same SQL, same
results, without tying the connection to one event loop.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from satchel.db.database import Database
from satchel.db.sessions import SyncSession


@pytest.fixture
def db_connection(database: Database) -> Iterator[Connection]:
    """Yield a connection in a transaction that every session of ``database`` joins."""
    with database.bind_for_tests() as connection:
        yield connection


@pytest.fixture
def db_session(db_connection: Connection) -> Iterator[Session]:
    """Yield a ``Session`` on the test's connection (its commits stay inside the test)."""
    session = SyncSession(
        bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()


__all__ = ["db_connection", "db_session"]
