"""What the accounts tests share besides fixtures (tests import it as ``accounts_kit``)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from satchel import App
from satchel.auth import Auth, User
from satchel.testing import TestClient

SECRET = "accounts-test-secret-key-0123456789abcdef"
PASSWORD = "violet kettle drums at noon"  # passes the default rules
HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}

MakeApp = Callable[..., tuple[App, Auth]]
AddUser = Callable[..., User]

_CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


def login(client: TestClient, username: str, password: str, **extra: Any) -> httpx.Response:
    """POST the login form and return the answer (redirects not followed)."""
    data = {"username": username, "password": password, **extra}
    return client.post("/login", data=data, headers=HTML, follow_redirects=False)


def page(response: httpx.Response) -> str:
    """Return the page with its one-time CSRF token blanked out (it differs every render)."""
    return _CSRF.sub('name="csrf_token" value=""', response.text)


def csrf_from(text: str) -> str:
    """Return the CSRF token of the first form in ``text``."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


ENV = {"postgresql": "SATCHEL_TEST_POSTGRES_URL", "mysql": "SATCHEL_TEST_MYSQL_URL"}
BACKENDS = ["sqlite", *(name for name, var in ENV.items() if os.environ.get(var))]


def _unreachable(name: str, exc: BaseException) -> None:
    message = f"{name} at ${ENV[name]} is unreachable: {exc}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def private_database(name: str) -> Iterator[str]:
    """Create a database of its own on server ``name``; yield its URL; drop it after."""
    base = make_url(os.environ[ENV[name]])
    driver = "postgresql+psycopg" if name == "postgresql" else "mysql+pymysql"
    admin = create_engine(
        base.set(drivername=driver),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
        poolclass=NullPool,
    )
    private = f"autht_{uuid.uuid4().hex[:12]}"
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


class QueryLog:
    """SQL statements sent while it listens (transaction control left out)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)

    def record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        first = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if first not in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
            self.statements.append(statement)

    def clear(self) -> None:
        self.statements.clear()
