"""The migration that ships with accounts, on every database, next to a project's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from accounts_kit import BACKENDS, private_database

from satchel.auth.migrate import INITIAL_REVISION, auth_migrations, migrate
from satchel.auth.models import TABLES, VERSION_TABLE
from satchel.db import NAMING_CONVENTION, Database
from satchel.migrations import Migrations


@pytest.fixture(params=BACKENDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A Database with no tables at all, dropped after the test."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield db
        db.dispose()
        return
    with private_database(request.param) as url:
        db = Database(url)
        yield db
        db.dispose()


def auth_metadata() -> sa.MetaData:
    """The auth tables alone (the shared metadata may hold other tests' models)."""
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    for table in TABLES:
        table.to_metadata(metadata)
    return metadata


def tables(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def test_migrate_creates_the_tables_and_permissions_and_matches_the_models(
    empty_db: Database,
) -> None:
    steps: list[str] = []
    assert migrate(empty_db, on_step=lambda step: steps.append(step.revision)) == (
        INITIAL_REVISION,
    )
    assert steps == [INITIAL_REVISION]
    assert {
        "auth_user",
        "auth_group",
        "auth_permission",
        "auth_user_groups",
        "auth_user_user_permissions",
        "auth_group_permissions",
        "auth_api_token",
        VERSION_TABLE,
    } <= tables(empty_db)
    with empty_db.engine.connect() as conn:
        codes = set(conn.scalars(sa.text("SELECT codename FROM auth_permission")))
    assert len(codes) == 16 and "auth.change_user" in codes and "auth.view_apitoken" in codes
    checker = Migrations(
        database=empty_db,
        metadata=auth_metadata(),
        directory=auth_migrations(empty_db).directory,
        version_table=VERSION_TABLE,
    )
    assert checker.check() == []  # the migration builds exactly what the models describe
    assert migrate(empty_db) == (INITIAL_REVISION,)  # a second run does nothing


def test_downgrade_and_upgrade_again(empty_db: Database) -> None:
    migrate(empty_db)
    auth_migrations(empty_db).downgrade("base")
    assert not {"auth_user", "auth_permission"} & tables(empty_db)
    migrate(empty_db)
    assert "auth_user" in tables(empty_db)


def test_tables_made_by_create_all_are_adopted_not_recreated(empty_db: Database) -> None:
    empty_db.create_all(TABLES)
    messages: list[str] = []
    assert migrate(empty_db, on_step=lambda step: messages.append(step.message)) == (
        INITIAL_REVISION,
    )
    assert messages == ["auth tables found: marked as applied"]


def test_a_projects_migrations_leave_the_auth_tables_alone(
    empty_db: Database, tmp_path: Path
) -> None:
    migrate(empty_db)
    metadata = auth_metadata()
    sa.Table(
        "project_note",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("author_id", sa.ForeignKey("auth_user.id")),
    )
    project = Migrations(database=empty_db, metadata=metadata, directory=tmp_path / "migrations")
    written = project.make("notes")
    assert written is not None
    source = written.read_text()
    assert "project_note" in source
    assert VERSION_TABLE not in source  # not proposed for dropping
    assert "create_table('auth_user'" not in source and 'create_table("auth_user"' not in source
    project.upgrade()
    assert project.check() == []
