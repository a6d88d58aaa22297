"""Models shared by the database tests (tables prefixed ``dbt_``: Model.metadata is global)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from satchel.db import Model, TimestampMixin


class Author(Model):
    __tablename__ = "dbt_author"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200), unique=True)
    posts: Mapped[list[Post]] = relationship(back_populates="author", order_by="Post.id")


class Post(TimestampMixin, Model):
    __tablename__ = "dbt_post"
    __table_args__ = (
        UniqueConstraint("author_id", "title"),
        CheckConstraint("score >= 0", name="score_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[int] = mapped_column(default=0)
    author_id: Mapped[int] = mapped_column(ForeignKey("dbt_author.id"))
    author: Mapped[Author] = relationship(back_populates="posts")
    published: Mapped[dt.datetime | None]


class Note(Model):
    """Free text, for the SQL metacharacter tests."""

    __tablename__ = "dbt_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)


TABLES = [Author.__table__, Post.__table__, Note.__table__]


def count_rows(db: Any, table: str) -> int:
    """Return the number of rows in ``table`` (a fresh connection: committed rows only)."""
    # A deferred BEGIN on SQLite: reads past a test transaction that holds the write lock.
    with db.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
