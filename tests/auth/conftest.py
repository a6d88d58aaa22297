"""Fixtures for the accounts tests: the auth tables on every database, apps, users.

Every test runs on SQLite, and on PostgreSQL and MariaDB when SATCHEL_TEST_POSTGRES_URL /
SATCHEL_TEST_MYSQL_URL are set (an unreachable server fails under CI=true). Each server
gets a private database for the session (``autht_<random>``) whose tables are made by
the migration the package ships; each test runs in a transaction rolled back at its end
(``Database.bind_for_tests``), so no test sees another's rows and nothing is left behind.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from satchel import App
from satchel.auth import Auth, User
from satchel.auth.mail import MemoryBackend
from satchel.auth.migrate import migrate
from satchel.auth.passwords import PasswordHasher
from satchel.db import Database

# Shared helpers live in a plain module beside this file (tests/ is not a package).
sys.path.insert(0, str(Path(__file__).parent))
from accounts_kit import BACKENDS, PASSWORD, SECRET, AddUser, MakeApp, QueryLog, private_database


@pytest.fixture(scope="session", params=BACKENDS)
def auth_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database URL whose auth tables were made by the shipped migration."""
    name = request.param
    if name == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('auth') / 'auth.db'}"
        _migrate(url)
        yield url
        return
    with private_database(name) as url:
        _migrate(url)
        yield url


def _migrate(url: str) -> None:
    db = Database(url)
    try:
        migrate(db)
    finally:
        db.dispose()


@pytest.fixture
def database(auth_url: str) -> Iterator[Database]:
    """A Database on the backend; everything the test writes is rolled back after it."""
    db = Database(auth_url)
    with db.bind_for_tests():
        yield db
    db.dispose()


@pytest.fixture
def backend(auth_url: str) -> str:
    """``sqlite``, ``postgresql`` or ``mysql``."""
    return make_url(auth_url).get_backend_name()


@pytest.fixture(scope="session")
def hasher() -> PasswordHasher:
    """A cheap argon2id hasher: these tests are about accounts, not about argon2's cost."""
    return PasswordHasher(time_cost=1, memory_cost=1024)


@pytest.fixture
def mailbox() -> MemoryBackend:
    """The mail backend the apps send through."""
    return MemoryBackend(default_from="accounts@example.com")


@pytest.fixture
def make_app(
    database: Database, hasher: PasswordHasher, mailbox: MemoryBackend, tmp_path: Path
) -> MakeApp:
    """Return ``make(**options) -> (app, auth)``: settings go to App, the rest to Auth."""
    setting_names = {
        "debug",
        "csrf_enabled",
        "session_store",
        "sessions_enabled",
        "secret_key_fallbacks",
        "title",
        "email_backend",
    }

    def make(**options: Any) -> tuple[App, Auth]:
        settings = {k: options.pop(k) for k in list(options) if k in setting_names}
        settings.setdefault("debug", False)
        secret = options.pop("secret_key", SECRET)
        app = App(database=database, root_path=str(tmp_path), secret_key=secret, **settings)
        options.setdefault("hasher", hasher)
        options.setdefault("mail_backend", mailbox)
        auth = Auth(app, **options)
        return app, auth

    return make


@pytest.fixture
def add_user(database: Database, hasher: PasswordHasher) -> AddUser:
    """Return ``add(username, password=PASSWORD, **columns) -> User`` (saved in the test's transaction)."""

    def add(
        username: str,
        password: str | None = PASSWORD,
        *,
        password_hash: str | None = None,
        **columns: Any,
    ) -> User:
        columns.setdefault("is_active", True)
        columns.setdefault("is_staff", False)
        columns.setdefault("is_superuser", False)
        user = User(username=username, **columns)
        if password_hash is not None:
            user.password = password_hash
        elif password is None:
            user.set_unusable_password()
        else:
            user.password = hasher.hash(password)
        with database.session() as session:
            session.add(user)
        return user

    return add


@pytest.fixture
def queries(database: Database) -> Iterator[QueryLog]:
    """Record every query the test's connection runs (apps' sessions share it)."""
    log = QueryLog()
    connection = database._test_bind
    assert connection is not None
    event.listen(connection, "before_cursor_execute", log.record)
    yield log
    event.remove(connection, "before_cursor_execute", log.record)
