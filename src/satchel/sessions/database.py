"""The database store: one row per session in the ``satchel_session`` table.

Rows hold the SHA-256 of the session key, the data as JSON text and an expiry
(naive UTC, indexed so that ``satchel sessions clear`` deletes expired rows
with one range scan). Requests go through the database's async engine; the
table lives on the app's metadata, so ``create_all`` and migrations see it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, delete, select, update
from sqlalchemy.dialects import mysql

from satchel.exceptions import ImproperlyConfigured
from satchel.sessions.server import ServerSideStore, load_data

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from satchel.config import Settings

#: The table's name; one table serves every app sharing the database.
TABLE_NAME = "satchel_session"


def session_table(metadata: MetaData) -> Table:
    """Return the sessions table on ``metadata``, defining it the first time."""
    existing = metadata.tables.get(TABLE_NAME)
    if existing is not None:
        return existing
    return Table(
        TABLE_NAME,
        metadata,
        Column("key", String(64), primary_key=True, comment="SHA-256 of the session key, hex"),
        # MySQL's TEXT stops at 64 KiB; a server-side session may be larger.
        Column("data", Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"), nullable=False),
        Column("expires_at", DateTime(), nullable=False, index=True, comment="UTC"),
    )


def _utcnow() -> datetime:
    # Naive UTC: the one datetime every supported database stores and compares alike.
    return datetime.now(UTC).replace(tzinfo=None)


class DatabaseStore(ServerSideStore):
    """Keep sessions in the app's database (``session_store="database"``).

    ``database`` is the app's :class:`satchel.db.Database` (anything with
    ``metadata`` and ``async_engine``); the table is added to its metadata.
    """

    def __init__(self, settings: Settings, database: Any, *, debug: bool | None = None) -> None:
        super().__init__(settings, debug=debug)
        metadata = getattr(database, "metadata", None)
        if metadata is None or not hasattr(database, "async_engine"):
            raise ImproperlyConfigured(
                "session_store='database' needs the app's Database (with metadata and an "
                f"async_engine); got {type(database).__name__}"
            )
        self.database = database
        self.table = session_table(metadata)
        self._lifetime = timedelta(seconds=self.max_age)

    @property
    def engine(self) -> AsyncEngine:
        """The async engine every query goes through."""
        engine: AsyncEngine = self.database.async_engine
        return engine

    async def fetch(self, hashed: str) -> dict[str, Any] | None:
        """Return the unexpired data stored under ``hashed``, or ``None``."""
        table = self.table
        query = select(table.c.data).where(table.c.key == hashed, table.c.expires_at > _utcnow())
        async with self.engine.connect() as conn:
            payload = (await conn.execute(query)).scalar_one_or_none()
        return load_data(payload)

    async def insert(self, hashed: str, payload: bytes) -> None:
        """Insert a new row that expires ``max_age`` seconds from now."""
        values = {"key": hashed, "data": payload.decode(), "expires_at": self._expiry()}
        async with self.engine.begin() as conn:
            await conn.execute(self.table.insert().values(values))

    async def update(self, hashed: str, payload: bytes) -> bool:
        """Rewrite an unexpired row and push its expiry; ``False`` if there is none."""
        table = self.table
        now = _utcnow()
        query = (
            update(table)
            .where(table.c.key == hashed, table.c.expires_at > now)
            .values(data=payload.decode(), expires_at=now + self._lifetime)
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(query)
        return bool(result.rowcount)

    async def delete(self, hashed: str) -> None:
        """Delete the row for ``hashed``, if any."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(self.table).where(self.table.c.key == hashed))

    async def clear_expired(self) -> int:
        """Delete every expired row; return how many."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(self.table).where(self.table.c.expires_at <= _utcnow())
            )
        return int(result.rowcount)

    async def create_table(self) -> None:
        """Create the sessions table if it does not exist (tests, or apps without migrations)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(self.table.create, checkfirst=True)

    def _expiry(self) -> datetime:
        return _utcnow() + self._lifetime


__all__ = ["TABLE_NAME", "DatabaseStore", "session_table"]
