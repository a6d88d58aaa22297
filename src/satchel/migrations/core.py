"""``Migrations``: Alembic, configured in code, for one app's database."""

from __future__ import annotations

import argparse
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.autogenerate import produce_migrations
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

from satchel.migrations.describe import describe_ops
from satchel.migrations.enums import apply_enum_changes
from satchel.migrations.environment import STATE_KEY, RunState, Step
from satchel.migrations.failures import (
    MigrationError,
    MigrationFailed,
    committed_statements,
    failure_message,
)
from satchel.migrations.renames import RenameDecider

if TYPE_CHECKING:
    from satchel.app import App

ENV_DIR = Path(__file__).with_name("_alembic")
"""Alembic's script location: Satchel's ``env.py`` and revision template."""

EXTENSION_KEY = "migrations"
"""Where :meth:`Migrations.init_app` keeps the object: ``app.extensions["migrations"]``."""

StepCallback = Callable[[Step], None]
"""Called after each migration applied or reverted."""

_NUMBERED = re.compile(r"^(\d+)_")
_CURRENT_TIMESTAMP = re.compile(
    r"^\(?\s*(current_timestamp|now)\s*(\(\s*\d*\s*\))?\s*\)?$", re.IGNORECASE
)


@dataclass(frozen=True)
class RevisionInfo:
    """One migration file as ``satchel db history`` lists it."""

    revision: str
    down_revisions: tuple[str, ...]
    message: str
    path: str
    is_head: bool
    is_applied: bool
    is_current: bool


class Migrations:
    """Make and run migrations for an app's database, with no ``alembic.ini`` to write.

    The revision files live in ``<app.root_path>/<directory>/versions/``. The engine
    and metadata come from the app's database (``App(database=Database(...))``)
    unless given here. ``satchel db`` uses the object an app registered with
    :meth:`init_app`, or a default one::

        Migrations(app, version_table="myapp_version")
    """

    def __init__(
        self,
        app: App | None = None,
        *,
        database: Any = None,
        metadata: MetaData | None = None,
        directory: str | os.PathLike[str] = "migrations",
        version_table: str = "alembic_version",
        version_table_schema: str | None = None,
    ) -> None:
        self.app: App | None = None
        self._database = database
        self._metadata = metadata
        self._directory = Path(directory)
        self.version_table = version_table
        self.version_table_schema = version_table_schema
        if app is not None:
            self.init_app(app)

    def init_app(self, app: App) -> None:
        """Attach to ``app``, so that ``satchel db`` uses this object's settings."""
        self.app = app
        app.extensions[EXTENSION_KEY] = self

    @classmethod
    def for_app(cls, app: App) -> Migrations:
        """Return the object ``app`` registered, else a default one for it."""
        existing = app.extensions.get(EXTENSION_KEY)
        if isinstance(existing, Migrations):
            return existing
        migrations = cls()
        migrations.app = app
        return migrations

    # -- what it works on -------------------------------------------------------------

    @property
    def database(self) -> Any:
        """The database object (``.engine``, ``.metadata``)."""
        if self._database is not None:
            return self._database
        database = self.app.extensions.get("database") if self.app is not None else None
        if database is None:
            raise MigrationError(
                "The app has no database: create it with App(database=Database(url)) "
                "or call db.init_app(app)."
            )
        return database

    @property
    def engine(self) -> Engine:
        """The sync engine migrations run on."""
        engine: Engine = self.database.engine
        return engine

    @property
    def metadata(self) -> MetaData:
        """The models' metadata autogenerate compares the database with."""
        if self._metadata is not None:
            return self._metadata
        metadata: MetaData = self.database.metadata
        return metadata

    @property
    def directory(self) -> Path:
        """The project's migrations folder (relative paths are under the app's root)."""
        if self._directory.is_absolute() or self.app is None:
            return self._directory
        return Path(self.app.root_path) / self._directory

    @property
    def versions_dir(self) -> Path:
        """The folder holding the revision files."""
        return self.directory / "versions"

    def context_options(self) -> dict[str, Any]:
        """Return the options every migration context is configured with."""
        return {
            "version_table": self.version_table,
            "version_table_schema": self.version_table_schema,
            "compare_type": True,
            "compare_server_default": compare_server_default,
            # Batch operations run as plain ALTERs where the database has them and as
            # copy-and-rename on SQLite, so one migration fits every database.
            "render_as_batch": True,
        }

    # -- commands ---------------------------------------------------------------------

    def make(
        self, message: str, *, empty: bool = False, rename: RenameDecider | None = None
    ) -> Path | None:
        """Write a migration from the model changes; return its path, or ``None`` if none.

        ``rename`` answers whether a dropped column or table that matches an added
        one was renamed (see :mod:`satchel.migrations.renames`); without it every
        candidate stays a drop and an add. ``empty`` writes a migration with no
        operations, to fill in by hand. The database must be at the latest revision.
        """
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        state = RunState(self, rename=rename)
        config = self._config(state)
        script_dir = ScriptDirectory.from_config(config)
        if not empty:
            self._require_up_to_date(script_dir)
        rev_id = self._next_rev_id(script_dir)
        try:
            result = command.revision(
                config, message=message, autogenerate=not empty, rev_id=rev_id
            )
        except CommandError as exc:
            raise MigrationError(str(exc)) from exc
        scripts = result if isinstance(result, list) else [result]
        written = [script for script in scripts if script is not None]
        if not written:
            return None
        return Path(written[0].path)

    def upgrade(self, revision: str = "head", *, on_step: StepCallback | None = None) -> None:
        """Apply migrations up to ``revision`` (default: the latest)."""
        self._run(command.upgrade, revision, on_step=on_step, upgrading=True)

    def downgrade(self, revision: str = "-1", *, on_step: StepCallback | None = None) -> None:
        """Revert migrations down to ``revision`` (default: one step; ``base``: all)."""
        self._run(command.downgrade, revision, on_step=on_step, upgrading=False)

    def current(self) -> tuple[str, ...]:
        """Return the revisions the database is at (empty: no migration applied)."""
        with self.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=self._version_opts())
            return tuple(context.get_current_heads())

    def heads(self) -> tuple[str, ...]:
        """Return the latest revisions of the migration files."""
        return tuple(self._script_directory().get_heads())

    def history(self) -> list[RevisionInfo]:
        """Return every migration, oldest first, marked applied/current/head."""
        script_dir = self._script_directory()
        current = set(self.current())
        applied = {rev.revision for rev in _ancestors(script_dir, current)}
        heads = set(script_dir.get_heads())
        revisions = list(script_dir.walk_revisions())
        revisions.reverse()
        return [
            RevisionInfo(
                revision=rev.revision,
                down_revisions=_as_tuple(rev.down_revision),
                message=rev.doc or "",
                path=rev.path,
                is_head=rev.revision in heads,
                is_applied=rev.revision in applied,
                is_current=rev.revision in current,
            )
            for rev in revisions
        ]

    def pending(self) -> list[str]:
        """Return the revisions not applied yet, oldest first."""
        return [info.revision for info in self.history() if not info.is_applied]

    def check(self) -> list[str]:
        """Return what differs between the models and the migrations (empty: in sync).

        The database stands for the migrations, so it must be at the latest
        revision; unapplied migrations are reported instead of model differences.
        """
        pending = self.pending()
        if pending:
            return [f"migration {rev} is not applied (run `satchel db migrate`)" for rev in pending]
        with self.engine.connect() as connection:
            opts = {**self._version_opts(), **self.context_options()}
            opts["target_metadata"] = self.metadata
            context = MigrationContext.configure(connection, opts=opts)
            script = produce_migrations(context, self.metadata)
            upgrade_ops = script.upgrade_ops
            if upgrade_ops is None:
                return []
            apply_enum_changes(context, self.metadata, upgrade_ops)
            return describe_ops(upgrade_ops.ops)

    # -- plumbing ---------------------------------------------------------------------

    def _config(self, state: RunState) -> Config:
        # quiet: Alembic's own "Generating ... done" lines; the CLI says what happened.
        config = Config(cmd_opts=argparse.Namespace(quiet=True))
        config.set_main_option("script_location", _escape(str(ENV_DIR)))
        config.set_main_option("version_locations", _escape(str(self.versions_dir)))
        config.set_main_option("path_separator", "newline")
        config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
        config.attributes[STATE_KEY] = state
        return config

    def _script_directory(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self._config(RunState(self)))

    def _version_opts(self) -> dict[str, Any]:
        return {
            "version_table": self.version_table,
            "version_table_schema": self.version_table_schema,
        }

    def _require_up_to_date(self, script_dir: ScriptDirectory) -> None:
        current = set(self.current())
        heads = set(script_dir.get_heads())
        if current != heads:
            at = ", ".join(sorted(current)) or "base"
            raise MigrationError(
                f"The database is at {at}, not at the latest migration "
                f"({', '.join(sorted(heads))}): run `satchel db migrate` first, so the "
                "new migration describes only your model changes."
            )

    @staticmethod
    def _next_rev_id(script_dir: ScriptDirectory) -> str:
        # "0003_9f2c1a": files sort in the order they were made, and the random part
        # keeps two developers' third migrations from colliding.
        numbers = [0]
        for rev in script_dir.walk_revisions():
            match = _NUMBERED.match(rev.revision)
            numbers.append(int(match.group(1)) if match else 0)
        count = max(max(numbers), len(numbers) - 1)
        return f"{count + 1:04d}_{secrets.token_hex(3)}"

    def _run(
        self,
        action: Callable[[Config, str], None],
        revision: str,
        *,
        on_step: StepCallback | None,
        upgrading: bool,
    ) -> None:
        state = RunState(self, on_step=on_step)
        config = self._config(state)
        try:
            action(config, revision)
        except MigrationError:
            raise
        except CommandError as exc:
            raise MigrationError(str(exc)) from exc
        except Exception as exc:  # anything a migration's own code raises
            if not state.dialect:
                raise  # not connected yet: no migration ran, nothing to report
            raise self._failure(exc, state, upgrading) from exc

    def _failure(self, error: Exception, state: RunState, upgrading: bool) -> MigrationFailed:
        script_dir = self._script_directory()
        current = self.current()
        if upgrading:
            failed = _next_step(script_dir, current)
        else:
            failed = current[0] if len(current) == 1 else None
        statements = list(state.recorder.statements)
        message = failure_message(
            error,
            failed=_label(script_dir, failed),
            current=tuple(_label(script_dir, rev) or rev for rev in current),
            statements=statements,
            transactional_ddl=state.transactional_ddl,
            dialect=state.dialect,
        )
        return MigrationFailed(
            message,
            failed=failed,
            current=current,
            applied_statements=[] if state.transactional_ddl else committed_statements(statements),
            rolled_back=state.transactional_ddl or not committed_statements(statements),
        )


def compare_server_default(
    context: MigrationContext,
    inspected_column: Any,
    metadata_column: Any,
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Settle the server-default spellings Alembic reads as changes; else let it compare.

    MariaDB reports ``CURRENT_TIMESTAMP`` on a ``DATETIME(6)`` column as
    ``current_timestamp(6)`` (the precision it applied), which Alembic would
    otherwise propose to change on every run.
    """
    if inspected_default is None or rendered_metadata_default is None:
        return None
    if _CURRENT_TIMESTAMP.match(inspected_default) and _CURRENT_TIMESTAMP.match(
        rendered_metadata_default
    ):
        return False
    return None


def _ancestors(script_dir: ScriptDirectory, revisions: set[str]) -> Iterator[Script]:
    for revision in revisions:
        yield from script_dir.iterate_revisions(revision, "base")


def _next_step(script_dir: ScriptDirectory, current: tuple[str, ...]) -> str | None:
    """Return the one migration that follows ``current``, if there is exactly one."""
    children = [
        rev.revision
        for rev in script_dir.walk_revisions()
        if set(_as_tuple(rev.down_revision)) == set(current)
    ]
    return children[0] if len(children) == 1 else None


def _label(script_dir: ScriptDirectory, revision: str | None) -> str | None:
    if revision is None:
        return None
    doc = script_dir.get_revision(revision).doc
    return f"{revision} ({doc})" if doc else revision


def _as_tuple(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _escape(value: str) -> str:
    # Alembic's Config is a ConfigParser: a literal "%" must be doubled.
    return value.replace("%", "%%")


__all__ = [
    "ENV_DIR",
    "EXTENSION_KEY",
    "Migrations",
    "RevisionInfo",
    "StepCallback",
    "compare_server_default",
]
