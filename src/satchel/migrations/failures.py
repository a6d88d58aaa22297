"""What a failed migration leaves behind, told plainly.

Each migration runs in its own transaction. Where DDL is transactional (PostgreSQL)
a failure rolls the failed migration back and the database stays at the previous
revision. MariaDB and MySQL commit every schema change as it runs, so a migration
that fails halfway leaves its first statements applied: :class:`StatementRecorder`
keeps the statements of the migration in progress so the error can list them.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection

_READS = re.compile(r"^\s*(SELECT|PRAGMA|SHOW|DESCRIBE|EXPLAIN)\b", re.IGNORECASE)
_DDL = re.compile(r"^\s*(CREATE|ALTER|DROP|RENAME|TRUNCATE)\b", re.IGNORECASE)


class MigrationError(Exception):
    """A migration command could not do what it was asked; the message says why."""


class MigrationFailed(MigrationError):
    """A migration raised while running; the message says where the database stopped."""

    def __init__(
        self,
        message: str,
        *,
        failed: str | None,
        current: tuple[str, ...],
        applied_statements: list[str],
        rolled_back: bool,
    ) -> None:
        super().__init__(message)
        #: The revision that failed (``None`` when it could not be worked out).
        self.failed = failed
        #: The database's revisions after the failure (empty: at base).
        self.current = current
        #: Statements of the failed migration that ran and were not rolled back.
        self.applied_statements = applied_statements
        #: Whether the failed migration's changes were rolled back.
        self.rolled_back = rolled_back


class StatementRecorder:
    """Collect the statements that changed the database since the last finished migration."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def attach(self, connection: Connection) -> None:
        """Start recording what ``connection`` executes."""
        event.listen(connection, "after_cursor_execute", self._record)

    def detach(self, connection: Connection) -> None:
        """Stop recording."""
        event.remove(connection, "after_cursor_execute", self._record)

    def reset(self) -> None:
        """Forget what was recorded: a migration finished."""
        self.statements.clear()

    def _record(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if not _READS.match(statement):
            self.statements.append(" ".join(statement.split()))


def failure_message(
    error: BaseException,
    *,
    failed: str | None,
    current: tuple[str, ...],
    statements: list[str],
    transactional_ddl: bool,
    dialect: str,
) -> str:
    """Return the explanation for a failed migration: what failed, where the database is."""
    if not transactional_ddl:
        statements = committed_statements(statements)
    which = f"Migration {failed}" if failed else "A migration"
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    lines = [f"{which} failed: {detail}"]
    at = f"revision {', '.join(current)}" if current else "base (no migration applied)"
    if transactional_ddl or not statements:
        lines.append(
            f"The failed migration was rolled back: the database is at {at}."
            if transactional_ddl
            else f"Nothing of the failed migration was applied: the database is at {at}."
        )
        return "\n".join(lines)
    lines.append(
        f"The database is at {at}, but {_name(dialect)} cannot roll back schema "
        "changes, so these statements of the failed migration stay applied:"
    )
    lines.extend(f"  {statement}" for statement in statements)
    lines.append("Undo them by hand, or make the migration skip them, before migrating again.")
    return "\n".join(lines)


def committed_statements(statements: list[str]) -> list[str]:
    """Return the statements a database without transactional DDL has kept.

    Each DDL statement commits implicitly, taking earlier data changes with it;
    data changes after the last one are still rolled back.
    """
    last_ddl = max((i for i, sql in enumerate(statements) if _DDL.match(sql)), default=-1)
    return statements[: last_ddl + 1]


def _name(dialect: str) -> str:
    return {"mysql": "MySQL/MariaDB", "mariadb": "MySQL/MariaDB", "sqlite": "SQLite"}.get(
        dialect, dialect
    )


__all__ = [
    "MigrationError",
    "MigrationFailed",
    "StatementRecorder",
    "committed_statements",
    "failure_message",
]
