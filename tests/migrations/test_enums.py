"""Enum changes on PostgreSQL: new values are added, removed ones rebuild the type."""

from __future__ import annotations

import pytest

STATUS = """
class Status(enum.Enum):
{values}


class Article(Base):
    __tablename__ = "article"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[Status] = mapped_column(server_default="draft")
"""


def _models(*values: str) -> str:
    return STATUS.format(values="\n".join(f"    {v} = {v!r}" for v in values))


@pytest.fixture
def postgres(make_backend):
    return make_backend("postgresql")


def _labels(backend) -> list[str]:
    return [
        label
        for (label,) in backend.query(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
            "WHERE t.typname = 'status' AND t.typnamespace = current_schema()::regnamespace "
            "ORDER BY e.enumsortorder"
        )
    ]


def test_added_values_are_detected_and_added_in_model_order(project, postgres):
    project.use(postgres)
    project.models(_models("draft", "published"))
    project.ok("db", "makemigrations", "-m", "articles")
    project.ok("db", "migrate")
    postgres.query("INSERT INTO article (id, status) VALUES (1, 'published'), (2, 'draft')")

    project.models(_models("draft", "review", "published", "archived"))
    changed = project.satchel("db", "check")
    assert changed.exit_code == 1
    assert "change enum status values ['draft', 'published'] ->" in changed.output

    project.ok("db", "makemigrations", "-m", "more statuses")
    source = project.versions()[-1].read_text()
    assert 'if op.get_bind().dialect.name == "postgresql":' in source
    assert (
        """op.execute("ALTER TYPE status ADD VALUE IF NOT EXISTS 'review' AFTER 'draft'")"""
        in source
    )
    assert (
        """op.execute("ALTER TYPE status ADD VALUE IF NOT EXISTS 'archived' AFTER 'published'")"""
        in source
    )

    project.ok("db", "migrate")
    assert _labels(postgres) == ["draft", "review", "published", "archived"]
    assert "in sync" in project.ok("db", "check")
    postgres.query("INSERT INTO article (id, status) VALUES (3, 'review')")

    # The downgrade removes values: the type is rebuilt, rows and default survive
    # (row 3 holds a removed value, so it must go first).
    postgres.query("DELETE FROM article WHERE id = 3")
    project.ok("db", "downgrade")
    assert _labels(postgres) == ["draft", "published"]
    assert postgres.query("SELECT id, status FROM article ORDER BY id") == [
        (1, "published"),
        (2, "draft"),
    ]
    postgres.query("INSERT INTO article (id) VALUES (4)")
    assert postgres.query("SELECT status FROM article WHERE id = 4") == [("draft",)]

    project.ok("db", "downgrade", "base")
    assert postgres.query("SELECT COUNT(*) FROM pg_type WHERE typname = 'status'") == [(0,)]


def test_removed_value_rebuilds_the_type_and_says_what_fails(project, postgres):
    project.use(postgres)
    project.models(_models("draft", "published", "spam"))
    project.ok("db", "makemigrations", "-m", "articles")
    project.ok("db", "migrate")
    postgres.query("INSERT INTO article (id, status) VALUES (1, 'spam')")

    project.models(_models("draft", "published"))
    project.ok("db", "makemigrations", "-m", "no spam")
    source = project.versions()[-1].read_text()
    assert "# Rows holding a removed value ('spam') make this fail" in source

    failed = project.satchel("db", "migrate")
    assert failed.exit_code == 1
    assert "invalid input value for enum" in failed.output
    assert "rolled back" in failed.output
    assert _labels(postgres) == ["draft", "published", "spam"]

    postgres.query("UPDATE article SET status = 'draft'")
    project.ok("db", "migrate")
    assert _labels(postgres) == ["draft", "published"]
    assert "in sync" in project.ok("db", "check")
