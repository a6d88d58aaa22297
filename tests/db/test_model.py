"""Model: deterministic constraint names, string lengths, timestamps in UTC."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from dbt_models import Author, Post
from sqlalchemy import ForeignKeyConstraint, PrimaryKeyConstraint, UniqueConstraint, inspect, select
from sqlalchemy.schema import CreateTable

from satchel.db import Database, Model, UTCDateTime


def test_constraints_are_named_by_convention():
    table = Post.__table__
    names = {
        type(c).__name__: c.name for c in table.constraints if not isinstance(c, UniqueConstraint)
    }
    assert names["PrimaryKeyConstraint"] == "pk_dbt_post"
    assert names["ForeignKeyConstraint"] == "fk_dbt_post_author_id_dbt_author"
    assert names["CheckConstraint"] == "ck_dbt_post_score_positive"
    uniques = {c.name for c in table.constraints if isinstance(c, UniqueConstraint)}
    assert uniques == {"uq_dbt_post_author_id_title"}
    assert {i.name for i in table.indexes} == {"ix_dbt_post_title"}
    assert {c.name for c in Author.__table__.constraints if isinstance(c, UniqueConstraint)} == {
        "uq_dbt_author_email"
    }


def test_database_reports_the_same_names(database: Database, backend: str):
    inspector = inspect(database.engine)
    assert inspector.get_pk_constraint("dbt_post")["name"] in ("pk_dbt_post", None, "PRIMARY")
    foreign = inspector.get_foreign_keys("dbt_post")
    assert [fk["name"] for fk in foreign] == ["fk_dbt_post_author_id_dbt_author"]
    uniques = {u["name"] for u in inspector.get_unique_constraints("dbt_post")}
    assert "uq_dbt_post_author_id_title" in uniques
    assert "ix_dbt_post_title" in {i["name"] for i in inspector.get_indexes("dbt_post")}


def test_plain_str_gets_a_length_only_on_mysql(database: Database, backend: str):
    class Tagged(Model):
        __tablename__ = "dbt_model_tagged"
        id: Mapped[int] = mapped_column(primary_key=True)
        label: Mapped[str]

    ddl = str(CreateTable(Tagged.__table__).compile(database.engine))
    if backend == "mysql":
        assert "VARCHAR(255)" in ddl
    else:
        assert "VARCHAR(255)" not in ddl and "VARCHAR" in ddl
    Model.metadata.remove(Tagged.__table__)


def test_timestamps_are_aware_utc_everywhere(database: Database):
    with database.session() as session:
        author = Author(name="t", email="t@example.com")
        post = Post(title="t", author=author)
        session.add(post)
        session.flush()
        created = post.created_at
        post_id = post.id
    assert created.tzinfo is not None
    with database.session() as session:
        loaded = session.get(Post, post_id)
        assert loaded is not None
        assert loaded.created_at.utcoffset() == dt.timedelta(0)
        assert abs((loaded.created_at - created).total_seconds()) < 1
        before = loaded.updated_at
        time.sleep(0.01)
        loaded.title = "changed"
    with database.session() as session:
        again = session.get(Post, post_id)
        assert again is not None
        assert again.updated_at > before
        assert again.created_at == loaded.created_at


def test_utc_datetime_converts_offsets_and_refuses_naive(database: Database):
    plus_two = dt.datetime(2024, 5, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    with database.session() as session:
        post = Post(title="tz", author=Author(name="z", email="z@example.com"))
        post.created_at = plus_two
        session.add(post)
    with database.session() as session:
        stored = session.scalars(select(Post.created_at)).one()
    assert stored == plus_two
    assert stored.tzinfo == dt.UTC
    assert stored.hour == 12
    kind = UTCDateTime()
    with pytest.raises(ValueError, match="naive"):
        kind.process_bind_param(dt.datetime(2024, 1, 1), database.engine.dialect)
    with pytest.raises(TypeError):
        kind.process_bind_param("2024-01-01", database.engine.dialect)  # type: ignore[arg-type]


def test_repr_never_loads():
    author = Author(name="r", email="r@example.com")
    assert repr(author) == "<Author id=None>"


def test_models_from_many_modules_share_metadata():
    assert isinstance(Post.__table__.primary_key, PrimaryKeyConstraint)
    fks = [c for c in Post.__table__.constraints if isinstance(c, ForeignKeyConstraint)]
    assert fks[0].referred_table is Author.__table__
    assert "dbt_author" in Model.metadata.tables
    assert "dbt_post" in Model.metadata.tables


from sqlalchemy.orm import Mapped, mapped_column  # noqa: E402 - used by a model defined in a test
