"""The declarative base every model subclasses, and optional column mixins."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import MetaData, String, func
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from satchel.db.types import UTCDateTime

#: Constraint and index names derived from the table and columns, so a migration
#: written on one database names things the same way on every other, and
#: autogenerate can drop or alter them by name.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(AsyncAttrs, DeclarativeBase):
    """Base class of all models: SQLAlchemy 2 typed declarative mapping.

    Every subclass, from any module, shares ``Model.metadata`` (which is what
    migrations compare the database with). Constraints get names from
    :data:`NAMING_CONVENTION`. A plain ``Mapped[str]`` is ``VARCHAR`` (255
    characters on MySQL/MariaDB, which need a length); say ``String(n)`` or
    ``Text`` where it matters. ``await obj.awaitable_attrs.name`` loads an
    unloaded relationship explicitly in async code::

        class Post(Model):
            __tablename__ = "post"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(String(200))
    """

    __abstract__ = True
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    #: ``Mapped[str]`` works everywhere: MySQL/MariaDB need a VARCHAR length.
    type_annotation_map = {str: String().with_variant(String(255), "mysql", "mariadb")}

    def __repr__(self) -> str:
        mapper = type(self).__mapper__
        keys = [mapper.get_property_by_column(column).key for column in mapper.primary_key]
        state = self.__dict__  # not getattr: a repr must never load anything
        shown = ", ".join(f"{key}={state.get(key)!r}" for key in keys)
        return f"<{type(self).__name__} {shown}>"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TimestampMixin:
    """Add ``created_at`` and ``updated_at`` (timezone-aware, UTC) to a model.

    Both are set by Python on insert; ``updated_at`` again on every update. The
    database default (``CURRENT_TIMESTAMP``) covers rows inserted by raw SQL.
    Values read back are aware datetimes in UTC on every database (see
    :class:`~satchel.db.types.UTCDateTime`).
    """

    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=_utcnow, server_default=func.current_timestamp()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(),
        default=_utcnow,
        onupdate=_utcnow,
        server_default=func.current_timestamp(),
    )


__all__ = ["NAMING_CONVENTION", "Model", "TimestampMixin"]
