"""``satchel db``: make, apply, revert, list and check migrations, on all three databases."""

from __future__ import annotations

import ast
import subprocess

import pytest

BLOG = """
class Mood(enum.Enum):
    happy = "happy"
    sad = "sad"


class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)


class Post(TimestampMixin, Base):
    __tablename__ = "post"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100), index=True)
    mood: Mapped[Mood] = mapped_column(server_default="happy")
    views: Mapped[int] = mapped_column(server_default="0")
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
"""

BLOG_WITH_TAGS = (
    BLOG
    + """
    body: Mapped[str | None] = mapped_column(sa.Text())


class Tag(Base):
    __tablename__ = "tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
"""
)


def test_sqlite_migrations_apply_on_every_database_and_go_back_to_base(
    project, backend, make_backend
):
    written_on = make_backend("sqlite")
    project.use(written_on)
    project.models(BLOG)
    assert "Wrote migrations/versions/0001_" in project.ok("db", "makemigrations", "-m", "blog")
    project.ok("db", "migrate")
    project.models(BLOG_WITH_TAGS)
    project.ok("db", "makemigrations", "-m", "tags and body")
    assert [path.name[:5] for path in project.versions()] == ["0001_", "0002_"]

    project.use(backend)
    output = project.ok("db", "migrate")
    assert "Applied 0001_" in output and "Applied 0002_" in output
    assert {"author", "post", "tag", "alembic_version"} <= backend.tables()
    backend.query("INSERT INTO author (id, email) VALUES (1, 'ann@example.com')")
    backend.query("INSERT INTO post (id, title, author_id) VALUES (1, 'Hi', 1)")
    # Server defaults made it across: the database filled in mood, views, timestamps.
    assert backend.query("SELECT mood, views FROM post") == [("happy", 0)]
    assert backend.query("SELECT COUNT(*) FROM post WHERE created_at IS NOT NULL") == [(1,)]
    assert "in sync" in project.ok("db", "check")

    output = project.ok("db", "downgrade", "base")
    assert "Reverted 0002_" in output and "Reverted 0001_" in output
    assert backend.tables() <= {"alembic_version"}
    # Going up again works: on PostgreSQL the enum type went away with its table.
    project.ok("db", "migrate")
    project.ok("db", "downgrade", "base")
    assert backend.tables() <= {"alembic_version"}


def test_makemigrations_with_no_changes_writes_nothing(project, make_backend):
    project.use(make_backend("sqlite"))
    project.models(BLOG)
    project.ok("db", "makemigrations", "-m", "blog")
    project.ok("db", "migrate")
    assert project.ok("db", "makemigrations", "-m", "again").strip() == "No changes detected."
    assert len(project.versions()) == 1


def test_makemigrations_refuses_while_the_database_is_behind(project, make_backend):
    project.use(make_backend("sqlite"))
    project.models(BLOG)
    project.ok("db", "makemigrations", "-m", "blog")
    project.models(BLOG_WITH_TAGS)
    result = project.satchel("db", "makemigrations", "-m", "tags")
    assert result.exit_code == 1
    assert "run `satchel db migrate` first" in result.output
    assert len(project.versions()) == 1


def test_empty_migration_is_written_without_a_database_diff(project, make_backend):
    project.use(make_backend("sqlite"))
    project.models(BLOG)
    project.ok("db", "makemigrations", "--empty", "-m", "by hand")
    (path,) = project.versions()
    source = path.read_text()
    assert "def upgrade() -> None:\n    pass" in source
    assert "import sqlalchemy" not in source  # nothing uses it: no lint error for the user


def test_check_fails_on_model_changes_and_passes_after_migrating(project, make_backend):
    project.use(make_backend("sqlite"))
    project.models(BLOG)
    project.ok("db", "makemigrations", "-m", "blog")

    pending = project.satchel("db", "check")
    assert pending.exit_code == 1
    assert "not at the latest migration" in pending.output

    project.ok("db", "migrate")
    assert "in sync" in project.ok("db", "check")

    project.models(BLOG_WITH_TAGS)
    changed = project.satchel("db", "check")
    assert changed.exit_code == 1
    assert "add table tag" in changed.output
    assert "add column post.body" in changed.output

    project.ok("db", "makemigrations", "-m", "tags")
    project.ok("db", "migrate")
    assert "in sync" in project.ok("db", "check")


def test_history_and_current(project, make_backend):
    project.use(make_backend("sqlite"))
    project.models(BLOG)
    assert "No migrations yet" in project.ok("db", "history")
    assert "No migration applied" in project.ok("db", "current")
    project.ok("db", "makemigrations", "-m", "blog")
    project.ok("db", "migrate")
    project.models(BLOG_WITH_TAGS)
    project.ok("db", "makemigrations", "-m", "tags")
    first, second = (path.name.split("_blog")[0].split("_tags")[0] for path in project.versions())

    history = project.ok("db", "history").splitlines()
    assert history == [
        f"[X] {first}  blog  (current)",
        f"[ ] {second}  tags  (head)",
    ]
    current = project.ok("db", "current").splitlines()
    assert current == [f"{first}  blog", "1 migration not applied: run `satchel db migrate`."]

    project.ok("db", "migrate")
    assert project.ok("db", "current").splitlines() == [f"{second}  tags  (head)"]
    assert project.ok("db", "history").splitlines()[-1] == f"[X] {second}  tags  (current, head)"

    assert "Reverted" in project.ok("db", "downgrade")
    assert project.ok("db", "current").splitlines()[0] == f"{first}  blog"
    # A partial revision id is enough, like in Alembic.
    project.ok("db", "migrate", second[:4])
    assert "Nothing to migrate" in project.ok("db", "migrate")


def test_hostile_message_still_makes_a_valid_migration(project, make_backend):
    project.use(make_backend("sqlite"))
    project.models(BLOG)
    message = 'end """ quote \\ slash\nnewline ünïcode; DROP TABLE x'
    project.ok("db", "makemigrations", "-m", message)
    (path,) = project.versions()
    module = ast.parse(path.read_text())
    assert ast.get_docstring(module).startswith('end """ quote \\ slash\nnewline ünïcode;')
    assert 'end """ quote \\ slash' in project.ok("db", "history")


def test_bad_revision_and_missing_database_are_clear_errors(project, make_backend):
    project.use(make_backend("sqlite"))
    project.models(BLOG)
    result = project.satchel("db", "migrate", "nope")
    assert result.exit_code == 1
    assert "Error:" in result.output and "nope" in result.output
    assert "Traceback" not in result.output

    (project.root / "app.py").write_text("from satchel import App\napp = App()\n")
    result = project.satchel("db", "current")
    assert result.exit_code == 1
    assert "The app has no database" in result.output


def test_unusable_database_and_empty_message_are_clear_errors(project, tmp_path):
    project.monkeypatch.setenv("MGT_URL", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    project.models(BLOG)
    for command in (
        ["current"],
        ["migrate"],
        ["history"],
        ["check"],
        ["makemigrations", "-m", "x"],
    ):
        result = project.satchel("db", *command)
        assert result.exit_code == 1, command
        assert (
            "Error: The database could not be used: unable to open database file" in result.output
        )
        assert "Traceback" not in result.output
    result = project.satchel("db", "makemigrations", "-m", "  ")
    assert result.exit_code == 2
    assert "say what the migration does" in result.output


def test_downgrade_at_base_says_so(project, make_backend):
    project.use(make_backend("sqlite"))
    project.models(BLOG)
    project.ok("db", "makemigrations", "-m", "blog")
    assert "Nothing to downgrade" in project.ok("db", "downgrade")


def test_real_satchel_process_with_the_shared_model_base(tmp_path, make_backend, run_satchel):
    """``satchel db`` as a user runs it: a subprocess, ``Model`` from satchel.db."""
    database = make_backend("sqlite")
    (tmp_path / "app.py").write_text(
        "from sqlalchemy import String\n"
        "from sqlalchemy.orm import Mapped, mapped_column\n"
        "from satchel import App\n"
        "from satchel.db import Database, Model, TimestampMixin\n\n"
        "class Note(TimestampMixin, Model):\n"
        "    __tablename__ = 'mgt_note'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    text: Mapped[str] = mapped_column(String(200))\n\n"
        f"app = App(database=Database({database.url!r}))\n"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_satchel(tmp_path, "db", *args)

    made = run("makemigrations", "-m", "notes")
    assert made.returncode == 0, made.stderr
    assert "Wrote migrations/versions/0001_" in made.stdout
    migrated = run("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "Applied 0001_" in migrated.stdout
    assert "mgt_note" in database.tables()
    # Satchel's own column type (UTCDateTime, from the mixin) comes with its import.
    (version,) = (tmp_path / "migrations" / "versions").glob("*.py")
    assert "import satchel.db.types" in version.read_text()
    assert (tmp_path / "migrations" / "versions").is_dir()
    assert sorted(p.name for p in (tmp_path / "migrations").iterdir()) == ["versions"]


@pytest.mark.parametrize("flag", ["--rename", "--no-rename"])
def test_rename_flags_are_listed_in_help(project, flag: str):
    assert flag in project.ok("db", "makemigrations", "--help")
