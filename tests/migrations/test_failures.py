"""A migration that fails: where the database stops, and what the user is told."""

from __future__ import annotations

import textwrap

MODELS = """
class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
"""

GOOD = '''\
"""add nickname"""

import sqlalchemy as sa
from alembic import op

revision = "0002_good"
down_revision = "{first}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("author") as batch_op:
        batch_op.add_column(sa.Column("nickname", sa.String(50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("author") as batch_op:
        batch_op.drop_column("nickname")
'''

# Adds a column, then breaks the unique constraint on email halfway through.
BAD = '''\
"""add bio"""

import sqlalchemy as sa
from alembic import op

revision = "0003_bad"
down_revision = "0002_good"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("author", sa.Column("bio", sa.String(100), nullable=True))
    op.execute("INSERT INTO author (id, email) VALUES (1, 'a@x.org'), (2, 'a@x.org')")


def downgrade() -> None:
    op.drop_column("author", "bio")
'''


def _project_with_a_bad_migration(project, backend):
    project.use(backend)
    project.models(MODELS)
    project.ok("db", "makemigrations", "-m", "authors")
    first = project.versions()[0]
    first_id = first.name[:11]
    versions = first.parent
    (versions / "0002_good.py").write_text(GOOD.format(first=first_id))
    (versions / "0003_bad.py").write_text(textwrap.dedent(BAD))
    return first_id


def test_failed_migration_stops_at_the_previous_revision(project, backend):
    _project_with_a_bad_migration(project, backend)
    result = project.satchel("db", "migrate")
    assert result.exit_code == 1
    output = result.output
    assert "Applied 0002_good  add nickname" in output
    assert "Error: Migration 0003_bad (add bio) failed:" in output
    assert "Traceback" not in output
    assert project.ok("db", "current").startswith("0002_good  add nickname")

    if backend.name == "mysql":
        # No transactional DDL: the column stays, and the user is told so.
        assert "cannot roll back schema changes" in output
        assert "ALTER TABLE author ADD COLUMN bio VARCHAR(100)" in output
        assert "bio" in backend.columns("author")
    else:
        # PostgreSQL, and SQLite through Satchel's engine (which emits BEGIN itself).
        assert (
            "The failed migration was rolled back: the database is at revision 0002_good" in output
        )
        assert "bio" not in backend.columns("author")
    assert "nickname" in backend.columns("author")
    assert backend.query("SELECT COUNT(*) FROM author") == [(0,)]


def test_failed_downgrade_names_the_migration(project, make_backend):
    backend = make_backend("sqlite")
    _project_with_a_bad_migration(project, backend)
    versions = project.versions()[0].parent
    (versions / "0003_bad.py").unlink()
    project.ok("db", "migrate")
    broken = (
        (versions / "0002_good.py")
        .read_text()
        .replace('batch_op.drop_column("nickname")', 'op.execute("DROP TABLE no_such_table")')
    )
    (versions / "0002_good.py").write_text(broken)
    result = project.satchel("db", "downgrade")
    assert result.exit_code == 1
    assert "Migration 0002_good (add nickname) failed:" in result.output
    assert "no_such_table" in result.output
    assert project.ok("db", "current").startswith("0002_good")
