"""The migration environment: what Alembic's ``env.py`` does, for every Satchel project.

Alembic runs ``env.py`` for each command; Satchel's (in ``_alembic/``) calls
:func:`run_environment`, which takes the app's engine and metadata from the
:class:`RunState` the command put in ``config.attributes`` and runs Alembic online
on the app's sync engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy.engine import Connection

from satchel.migrations.enums import apply_enum_changes, finish_downgrade
from satchel.migrations.failures import MigrationError, StatementRecorder
from satchel.migrations.renames import RenameDecider, apply_renames, table_renames_first

if TYPE_CHECKING:
    from satchel.migrations.core import Migrations

STATE_KEY = "satchel.migrations"
"""The ``config.attributes`` key holding the :class:`RunState`."""


@dataclass(frozen=True)
class Step:
    """One migration applied or reverted, as reported to ``on_step``."""

    revision: str
    message: str
    is_upgrade: bool


@dataclass
class RunState:
    """Everything one command hands to the environment and gets back from it."""

    migrations: Migrations
    rename: RenameDecider | None = None
    on_step: Callable[[Step], None] | None = None
    recorder: StatementRecorder = field(default_factory=StatementRecorder)
    #: Filled in by the environment: the dialect and whether its DDL is transactional.
    dialect: str = ""
    transactional_ddl: bool = False

    def process_revision_directives(
        self, context: MigrationContext, revision: Any, directives: list[ops.MigrationScript]
    ) -> None:
        """Post-process autogenerate's script: renames, enum types, nothing-to-do."""
        script = directives[0]
        upgrade_ops = script.upgrade_ops
        if upgrade_ops is None:
            return
        metadata = self.migrations.metadata
        if self.rename is not None:
            apply_renames(upgrade_ops, context.impl, self.rename)
        apply_enum_changes(context, metadata, upgrade_ops)
        downgrade_ops = script.downgrade_ops
        if downgrade_ops is not None:
            upgrade_ops.reverse_into(downgrade_ops)
            table_renames_first(downgrade_ops)
            finish_downgrade(metadata, upgrade_ops, downgrade_ops)
        if upgrade_ops.is_empty():
            # Like Django's "No changes detected": no empty file.
            directives[:] = []

    def version_applied(
        self, ctx: MigrationContext, step: MigrationInfo, heads: Any, run_args: Any
    ) -> None:
        """Note a finished migration: the recorder starts over, ``on_step`` hears of it."""
        self.recorder.reset()
        if self.on_step is None or step.is_stamp:
            return
        revision_id = step.up_revision_id or ""
        revision = step.up_revision
        # The revision map holds alembic Script objects, which carry the message.
        message = str(getattr(revision, "doc", "") or "")
        self.on_step(Step(revision_id, message, step.is_upgrade))


def run_environment() -> None:
    """Run the current Alembic command against the app's database (called by ``env.py``)."""
    state = context.config.attributes.get(STATE_KEY)
    if not isinstance(state, RunState):
        raise MigrationError(
            "Satchel's migration environment runs only under `satchel db` "
            "(or satchel.migrations.Migrations)."
        )
    if context.is_offline_mode():
        raise MigrationError("Offline (--sql) migrations are not supported.")
    migrations = state.migrations
    with migrations.engine.connect() as connection, _sqlite_foreign_keys_off(connection):
        state.dialect = connection.dialect.name
        state.recorder.attach(connection)
        try:
            context.configure(
                connection=connection,
                target_metadata=migrations.metadata,
                process_revision_directives=state.process_revision_directives,
                on_version_apply=state.version_applied,
                transaction_per_migration=True,
                render_item=render_item,
                transactional_ddl=_transactional_ddl(connection),
                **migrations.context_options(),
            )
            state.transactional_ddl = context.get_context().impl.transactional_ddl
            with context.begin_transaction():
                context.run_migrations()
        finally:
            state.recorder.detach(connection)


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Import the module of a column type from outside SQLAlchemy where it is rendered.

    Alembic writes such a type as ``module.Type(...)`` (``satchel.db.types.UTCDateTime``)
    but leaves the import out, so the migration would fail with a NameError.
    """
    if kind == "type":
        module = type(obj).__module__
        if module != "builtins" and not module.startswith("sqlalchemy"):
            autogen_context.imports.add(f"import {module}")
    return False


@contextlib.contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Turn SQLite's foreign key enforcement off while migrating, then back on.

    Batch mode rebuilds a table by copy, drop and rename; with enforcement on,
    dropping a table that others reference fails or cascades. The pragma does
    nothing inside a transaction, so it goes straight to the DBAPI connection
    before SQLAlchemy begins one.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection
    enabled = bool(_pragma(raw, "PRAGMA foreign_keys"))
    if enabled:
        _pragma(raw, "PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        if enabled:
            _pragma(raw, "PRAGMA foreign_keys=ON")


def _pragma(raw: Any, statement: str) -> Any:
    cursor = raw.cursor()
    try:
        cursor.execute(statement)
        row = cursor.fetchone()
        return row[0] if row else None
    finally:
        cursor.close()


def _transactional_ddl(connection: Connection) -> bool | None:
    """Return True where SQLAlchemy emits BEGIN on SQLite (Satchel's engines), else None.

    sqlite3 on its own commits DDL as it goes, so Alembic treats SQLite as
    non-transactional; an engine that emits BEGIN itself makes DDL transactional,
    and a failed migration is then rolled back like on PostgreSQL.
    """
    if connection.dialect.name == "sqlite" and connection.engine.dispatch.begin:
        return True
    return None


__all__ = ["STATE_KEY", "RunState", "Step", "render_item", "run_environment"]
