"""Rename detection: a renamed column or table becomes a rename, and the data survives."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

BEFORE = """
class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)


class Post(Base):
    __tablename__ = "post"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
"""

# author -> writer (same columns), post.title -> post.headline (same type), and the
# foreign key follows the table to its new name.
AFTER = """
class Author(Base):
    __tablename__ = "writer"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)


class Post(Base):
    __tablename__ = "post"
    id: Mapped[int] = mapped_column(primary_key=True)
    headline: Mapped[str] = mapped_column(String(100), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("writer.id"))
"""


def _written_on_sqlite(project, make_backend, *rename_args: str) -> str:
    """Make the first migration, migrate, switch to AFTER; return makemigrations' output."""
    project.use(make_backend("sqlite"))
    project.models(BEFORE)
    project.ok("db", "makemigrations", "-m", "blog")
    project.ok("db", "migrate")
    project.models(AFTER)
    return project.ok("db", "makemigrations", "-m", "renames", *rename_args)


def test_renames_keep_the_data_on_every_database(project, backend, make_backend):
    output = _written_on_sqlite(project, make_backend, "--rename")
    assert "Renaming table author -> writer." in output
    assert "Renaming column post.title -> post.headline." in output
    source = project.versions()[-1].read_text()
    assert "op.rename_table('author', 'writer')" in source
    assert "new_column_name='headline'" in source
    assert "drop_table" not in source and "drop_column" not in source

    project.use(backend)
    first = project.versions()[0].name[:11]
    project.ok("db", "migrate", first)
    backend.query("INSERT INTO author (id, email) VALUES (1, 'ann@example.com')")
    backend.query("INSERT INTO post (id, title, author_id) VALUES (7, 'Kept', 1)")

    project.ok("db", "migrate")
    assert "author" not in backend.tables()
    assert backend.query("SELECT id, email FROM writer") == [(1, "ann@example.com")]
    assert backend.query("SELECT id, headline, author_id FROM post") == [(7, "Kept", 1)]
    # Indexes, unique constraints and the foreign key carry the new names: nothing left.
    assert "in sync" in project.ok("db", "check")

    project.ok("db", "downgrade")
    assert backend.query("SELECT email FROM author") == [("ann@example.com",)]
    assert backend.query("SELECT title FROM post") == [("Kept",)]
    project.ok("db", "downgrade", "base")
    assert backend.tables() <= {"alembic_version"}


def test_no_rename_writes_drop_and_add(project, make_backend):
    output = _written_on_sqlite(project, make_backend, "--no-rename")
    assert "Did you rename" not in output
    source = project.versions()[-1].read_text()
    assert "rename_table" not in source and "new_column_name" not in source
    assert "op.drop_table('author')" in source
    assert "batch_op.drop_column('title')" in source
    assert "batch_op.add_column(sa.Column('headline'" in source


def test_without_a_terminal_the_answer_is_no(project, make_backend):
    # CliRunner's stdin is not a terminal: nobody to ask, so no rename is assumed.
    output = _written_on_sqlite(project, make_backend)
    assert "Did you rename table author to writer? [y/N]: N (no terminal to ask" in output
    assert "Did you rename post.title to post.headline? [y/N]: N" in output
    assert "rename_table" not in project.versions()[-1].read_text()


def test_a_different_type_is_not_a_rename_candidate(project, make_backend):
    project.use(make_backend("sqlite"))
    project.models(BEFORE)
    project.ok("db", "makemigrations", "-m", "blog")
    project.ok("db", "migrate")
    project.models(
        BEFORE.replace(
            "title: Mapped[str] = mapped_column(String(100)",
            "rank: Mapped[int] = mapped_column(sa.Integer()",
        )
    )
    output = project.ok("db", "makemigrations", "-m", "rank", "--rename")
    assert "Renaming" not in output
    source = project.versions()[-1].read_text()
    assert "batch_op.drop_column('title')" in source and "new_column_name" not in source


def test_the_question_is_asked_on_a_terminal(project, make_backend, run_satchel):
    """A real ``satchel`` process on a pseudo-terminal: yes to the table, no to the column."""
    project.use(make_backend("sqlite"))
    project.models(BEFORE)
    project.ok("db", "makemigrations", "-m", "blog")
    project.ok("db", "migrate")
    project.models(AFTER)

    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [*run_satchel.argv, "db", "makemigrations", "-m", "renames"],
            cwd=project.root,
            env={**run_satchel.env, "MGT_URL": os.environ["MGT_URL"]},
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
        )
        output = _answer(controller, {"table author to writer?": b"y\n", "post.headline?": b"n\n"})
        assert process.wait(60) == 0, output
    finally:
        os.close(terminal)
        os.close(controller)
    assert "Renaming table author -> writer." in output
    source = project.versions()[-1].read_text()
    assert "op.rename_table('author', 'writer')" in source
    assert "batch_op.drop_column('title')" in source


def _answer(fd: int, answers: dict[str, bytes], timeout: float = 60) -> str:
    """Read from the terminal, typing each answer when its question shows up."""
    seen = b""
    pending = dict(answers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            text = seen.decode(errors="replace")
            for question in list(pending):
                if question in text and text.rstrip().endswith("[y/N]:"):
                    os.write(fd, pending.pop(question))
            if "Wrote " in text:
                break
    return seen.decode(errors="replace")
