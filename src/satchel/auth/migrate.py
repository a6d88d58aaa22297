"""The migrations that ship with accounts, run apart from the project's own.

Satchel's migration commands (``satchel db``) work on one folder of revisions, the
project's. The auth tables' revisions live in this package (``migrations/versions/``)
and are tracked in a version table of their own, ``satchel_auth_version``, so the two
histories never mix: ``satchel auth migrate`` applies them (run it before
``satchel db migrate``, whose migrations may refer to ``auth_user``).

A database whose auth tables already exist but that has no record of it (made by
``create_all``, or by a project migration written before this one was applied) is
marked as migrated instead of failing on "table already exists", as Django's
``--fake-initial`` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import inspect

from satchel.auth.models import VERSION_TABLE, auth_version_table
from satchel.migrations import Migrations, Step
from satchel.migrations.core import StepCallback

#: The folder holding this package's revisions (``versions/`` inside).
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: The first revision, and the tables it creates.
INITIAL_REVISION = "0001_auth"
INITIAL_TABLES = ("auth_user", "auth_group", "auth_permission", "auth_api_token")


def auth_migrations(database: Any) -> Migrations:
    """Return a :class:`Migrations` for the auth revisions on ``database``."""
    return Migrations(database=database, directory=MIGRATIONS_DIR, version_table=VERSION_TABLE)


def migrate(
    database: Any, revision: str = "head", *, on_step: StepCallback | None = None
) -> tuple[str, ...]:
    """Apply the auth migrations to ``database`` up to ``revision``; return where it is now."""
    migrations = auth_migrations(database)
    if not migrations.current() and _initial_tables_exist(database):
        _stamp_initial(database)
        if on_step is not None:
            on_step(Step(INITIAL_REVISION, "auth tables found: marked as applied", True))
    migrations.upgrade(revision, on_step=on_step)
    return migrations.current()


def _initial_tables_exist(database: Any) -> bool:
    with database.engine.connect() as connection:
        names = set(inspect(connection).get_table_names())
    return all(table in names for table in INITIAL_TABLES)


def _stamp_initial(database: Any) -> None:
    with database.engine.begin() as connection:
        auth_version_table.create(connection, checkfirst=True)
        connection.execute(auth_version_table.insert().values(version_num=INITIAL_REVISION))


__all__ = ["INITIAL_REVISION", "MIGRATIONS_DIR", "auth_migrations", "migrate"]
