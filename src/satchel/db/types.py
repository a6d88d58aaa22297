"""Column types that behave the same on every database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored in UTC, read back aware on every database.

    PostgreSQL keeps the offset (``timestamptz``); SQLite and MySQL cannot, and
    SQLAlchemy's plain ``DateTime(timezone=True)`` hands back naive values
    there. This type converts to UTC on the way in and attaches UTC on the way
    out, and keeps microseconds on MySQL. A naive value is refused: its time
    zone would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Keep microseconds on MySQL/MariaDB too (their plain DATETIME drops them)."""
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Convert an aware datetime to UTC (naive for databases without time zones)."""
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"UTCDateTime needs a datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                "UTCDateTime refuses a naive datetime; pass an aware one, "
                "e.g. datetime.now(timezone.utc)"
            )
        value = value.astimezone(dt.UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Return the stored value as an aware datetime in UTC."""
        if value is None:
            return None
        if isinstance(value, str):  # SQLite server defaults come back as text
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
        return value.astimezone(dt.UTC)  # type: ignore[no-any-return]


__all__ = ["UTCDateTime"]
