"""The pieces on their own: enum statements, failure reports, descriptions, questions."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import ops

from satchel.migrations import Rename
from satchel.migrations.core import compare_server_default
from satchel.migrations.describe import describe_ops
from satchel.migrations.enums import AlterEnumOp, EnumColumn
from satchel.migrations.failures import committed_statements, failure_message
from satchel.migrations.renames import RenameColumnOp, RenameTableOp


def test_added_enum_values_keep_their_place():
    op = AlterEnumOp("mood", ["b", "d"], ["a", "b", "c", "d", "e"])
    assert op.statements() == [
        "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'a' BEFORE 'b'",
        "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'c' AFTER 'b'",
        "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'e' AFTER 'd'",
    ]


def test_reordered_or_removed_values_rebuild_the_type():
    reordered = AlterEnumOp("mood", ["a", "b"], ["b", "a"], columns=(EnumColumn("t", "c"),))
    assert reordered.statements()[:2] == [
        "ALTER TYPE mood RENAME TO mood_old",
        "CREATE TYPE mood AS ENUM ('b', 'a')",
    ]
    assert reordered.reverse().new_values == ["a", "b"]
    assert AlterEnumOp("mood", ["a", "b"], ["a"]).removed == ["b"]


def test_enum_names_and_values_are_quoted(make_backend):
    """Quotes and capitals in type names and values, run on a real PostgreSQL."""
    postgres = make_backend("postgresql")
    postgres.query("""CREATE TYPE "Odd Type" AS ENUM ('it''s')""")
    postgres.query(
        """CREATE TABLE "Odd Table" (id INT PRIMARY KEY, "Odd Col" "Odd Type" DEFAULT 'it''s')"""
    )
    postgres.query("""INSERT INTO "Odd Table" (id) VALUES (1)""")
    grow = AlterEnumOp(
        "Odd Type",
        ["it's"],
        ['a "b"', "it's", "c; DROP TABLE x"],
        columns=(EnumColumn("Odd Table", "Odd Col", """'it''s'::"Odd Type\""""),),
    )
    for statement in grow.statements():
        postgres.query(statement)
    labels = 'SELECT unnest(enum_range(NULL::"Odd Type"))::text'
    assert [row[0] for row in postgres.query(labels)] == ['a "b"', "it's", "c; DROP TABLE x"]
    for statement in grow.reverse().statements():
        postgres.query(statement)
    assert [row[0] for row in postgres.query(labels)] == ["it's"]
    assert postgres.query("""SELECT "Odd Col"::text FROM "Odd Table\"""") == [("it's",)]
    postgres.query("""INSERT INTO "Odd Table" (id) VALUES (2)""")  # the default survived


def test_without_transactional_ddl_only_statements_up_to_the_last_ddl_stay():
    statements = [
        "INSERT INTO a VALUES (1)",
        "ALTER TABLE a ADD COLUMN b INT",
        "UPDATE a SET b = 1",
    ]
    assert committed_statements(statements) == statements[:2]
    assert committed_statements(["UPDATE a SET b = 1"]) == []


def test_failure_message_wording():
    error = RuntimeError("boom\nsecond line")
    kept = failure_message(
        error,
        failed="0003_x (bad)",
        current=("0002_y",),
        statements=["ALTER TABLE a ADD COLUMN b INT", "UPDATE a SET b = 1"],
        transactional_ddl=False,
        dialect="mysql",
    )
    assert kept.splitlines() == [
        "Migration 0003_x (bad) failed: boom",
        "The database is at revision 0002_y, but MySQL/MariaDB cannot roll back schema "
        "changes, so these statements of the failed migration stay applied:",
        "  ALTER TABLE a ADD COLUMN b INT",
        "Undo them by hand, or make the migration skip them, before migrating again.",
    ]
    rolled_back = failure_message(
        error, failed=None, current=(), statements=["X"], transactional_ddl=True, dialect="x"
    )
    assert rolled_back.splitlines()[-1] == (
        "The failed migration was rolled back: the database is at base (no migration applied)."
    )


def test_operations_are_described_in_words():
    column = sa.Column("title", sa.String(10))
    lines = describe_ops(
        [
            ops.CreateTableOp("post", [sa.Column("id", sa.Integer)]),
            RenameTableOp("a", "b"),
            ops.ModifyTableOps(
                "post",
                [
                    ops.AddColumnOp("post", column),
                    RenameColumnOp("post", "old", modify_name="new"),
                    ops.AlterColumnOp("post", "body", modify_nullable=False),
                    ops.CreateIndexOp("ix_post_title", "post", ["title"]),
                ],
            ),
            AlterEnumOp("mood", ["a"], ["a", "b"]),
        ]
    )
    assert lines == [
        "add table post",
        "rename table a to b",
        "add column post.title",
        "rename column post.old to new",
        "change column post.body (not null)",
        "add index ix_post_title on post",
        "change enum mood values ['a'] -> ['a', 'b']",
    ]


def test_rename_questions():
    assert Rename("table", "a", "b").question() == "Did you rename table a to b?"
    column = Rename("column", "x", "y", table="t")
    assert column.question() == "Did you rename t.x to t.y?"
    assert str(column) == "column t.x -> t.y"


def test_rename_ops_reverse_to_the_old_names():
    table = RenameTableOp("a", "b").reverse()
    assert (table.table_name, table.new_table_name) == ("b", "a")
    column = RenameColumnOp(
        "t", "x", modify_name="y", existing_nullable=True, modify_nullable=False
    ).reverse()
    assert (column.column_name, column.modify_name) == ("y", "x")
    assert (column.existing_nullable, column.modify_nullable) == (False, True)


def test_current_timestamp_spellings_are_the_same_default():
    same = compare_server_default(
        None, None, None, "current_timestamp(6)", None, "CURRENT_TIMESTAMP"
    )
    assert same is False
    assert compare_server_default(None, None, None, "(now())", None, "current_timestamp()") is False
    # Anything else is left to Alembic (None), including a real change.
    assert compare_server_default(None, None, None, "'a'", None, "'b'") is None
    assert compare_server_default(None, None, None, None, None, "CURRENT_TIMESTAMP") is None
