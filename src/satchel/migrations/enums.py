"""Enum types in migrations: PostgreSQL's named ``ENUM`` types, which Alembic leaves alone.

Alembic compares a column's type by kind, so adding ``"archived"`` to a model's
``Enum`` produces no migration, and ``op.drop_table`` leaves the table's enum type
behind (the next ``create_table`` then fails with "type already exists").
:func:`apply_enum_changes` fills those gaps after autogenerate:

- a named native enum whose values changed gets an :class:`AlterEnumOp`
  (``ALTER TYPE ... ADD VALUE`` for additions; rename, recreate and convert the
  columns for removals and reorders);
- a new enum type used by a column added to an existing table is created first;
- an enum type no table uses any more is dropped.

Every statement is rendered guarded by the dialect (or through SQLAlchemy's
``Enum.create``/``drop``, which do nothing where enums are not separate types), so a
migration written on PostgreSQL still runs on SQLite and MariaDB.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Enum, MetaData, Table, inspect, text
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.engine import Connection

Declared = dict[str, tuple[list[str], str | None, list[tuple[str, str]]]]
"""Named native enums of the models: ``{name: (values, schema, [(table, column)])}``."""


@dataclass(frozen=True)
class EnumColumn:
    """A column of an enum type, with its default as PostgreSQL spells it."""

    table: str
    column: str
    default: str | None = None


class AlterEnumOp(ops.MigrateOperation):
    """Change the values of a PostgreSQL enum type (a no-op on other databases)."""

    def __init__(
        self,
        name: str,
        old_values: list[str],
        new_values: list[str],
        *,
        schema: str | None = None,
        columns: tuple[EnumColumn, ...] = (),
    ) -> None:
        self.name = name
        self.old_values = old_values
        self.new_values = new_values
        self.schema = schema
        self.columns = columns

    def reverse(self) -> AlterEnumOp:
        """Return the change back to the old values."""
        return AlterEnumOp(
            self.name, self.new_values, self.old_values, schema=self.schema, columns=self.columns
        )

    def to_diff_tuple(self) -> tuple[Any, ...]:
        """Return ``("alter_enum", schema, name, old_values, new_values)``."""
        return ("alter_enum", self.schema, self.name, self.old_values, self.new_values)

    @property
    def removed(self) -> list[str]:
        """Values the new type no longer has."""
        return [value for value in self.old_values if value not in self.new_values]

    def statements(self) -> list[str]:
        """Return the PostgreSQL statements that make the type hold ``new_values``."""
        kept = [value for value in self.new_values if value in self.old_values]
        if kept == self.old_values:
            return self._additions()
        return self._recreate()

    def _qualified(self, name: str) -> str:
        return f"{_ident(self.schema)}.{_ident(name)}" if self.schema else _ident(name)

    def _additions(self) -> list[str]:
        result = []
        for position, value in enumerate(self.new_values):
            if value in self.old_values:
                continue
            # New values keep the model's order: after their predecessor, or before
            # the first value when they come first.
            if position:
                where = f"AFTER {_literal(self.new_values[position - 1])}"
            else:
                where = f"BEFORE {_literal(self.new_values[1])}" if self.old_values else ""
            result.append(
                f"ALTER TYPE {self._qualified(self.name)} ADD VALUE IF NOT EXISTS "
                f"{_literal(value)} {where}".rstrip()
            )
        return result

    def _recreate(self) -> list[str]:
        # PostgreSQL cannot drop an enum value: build the new type and convert every
        # column through text (rows holding a removed value make the cast fail).
        old_name = f"{self.name}_old"
        values = ", ".join(_literal(value) for value in self.new_values)
        type_name = self._qualified(self.name)
        result = [
            f"ALTER TYPE {type_name} RENAME TO {_ident(old_name)}",
            f"CREATE TYPE {type_name} AS ENUM ({values})",
        ]
        for use in self.columns:
            table, column = _ident(use.table), _ident(use.column)
            if use.default is not None:
                result.append(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")
            result.append(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {type_name} "
                f"USING {column}::text::{type_name}"
            )
            if use.default is not None:
                result.append(
                    f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {use.default}"
                )
        result.append(f"DROP TYPE {self._qualified(old_name)}")
        return result


class CreateEnumTypeOp(ops.MigrateOperation):
    """Create an enum type before a column of that type is added to an existing table."""

    def __init__(self, name: str, values: list[str], *, schema: str | None = None) -> None:
        self.name = name
        self.values = values
        self.schema = schema

    def reverse(self) -> DropEnumTypeOp:
        """Return the drop of the type."""
        return DropEnumTypeOp(self.name, self.values, schema=self.schema)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        """Return ``("add_enum", schema, name, values)``."""
        return ("add_enum", self.schema, self.name, self.values)


class DropEnumTypeOp(ops.MigrateOperation):
    """Drop an enum type no column uses any more.

    ``restore`` says whether the reverse recreates it: not after a table drop,
    because recreating the table recreates its enum types too.
    """

    def __init__(
        self, name: str, values: list[str], *, schema: str | None = None, restore: bool = True
    ) -> None:
        self.name = name
        self.values = values
        self.schema = schema
        self.restore = restore

    def reverse(self) -> ops.MigrateOperation:
        """Return the creation of the type, or nothing when a table recreates it."""
        if self.restore:
            return CreateEnumTypeOp(self.name, self.values, schema=self.schema)
        return NothingOp()

    def to_diff_tuple(self) -> tuple[Any, ...]:
        """Return ``("remove_enum", schema, name)``."""
        return ("remove_enum", self.schema, self.name)


class NothingOp(ops.MigrateOperation):
    """An operation that renders and does nothing (a reverse with nothing to undo)."""

    def reverse(self) -> NothingOp:
        """Return another nothing."""
        return NothingOp()

    def to_diff_tuple(self) -> tuple[Any, ...]:
        """Return ``("nothing",)``."""
        return ("nothing",)


@renderers.dispatch_for(AlterEnumOp)
def _render_alter_enum(autogen_context: AutogenContext, op: AlterEnumOp) -> list[str]:
    lines = ['if op.get_bind().dialect.name == "postgresql":']
    if op.removed:
        removed = ", ".join(repr(value) for value in op.removed)
        lines.append(
            f"# Rows holding a removed value ({removed}) make this fail: change them first."
        )
    lines.extend(f"op.execute({statement!r})" for statement in op.statements())
    lines.append("")
    return lines


@renderers.dispatch_for(CreateEnumTypeOp)
def _render_create_enum(autogen_context: AutogenContext, op: CreateEnumTypeOp) -> str:
    values = "".join(f"{value!r}, " for value in op.values)
    type_ = f"sa.Enum({values}name={op.name!r}{_schema_arg(op.schema)})"
    return f"{type_}.create(op.get_bind(), checkfirst=True)"


@renderers.dispatch_for(DropEnumTypeOp)
def _render_drop_enum(autogen_context: AutogenContext, op: DropEnumTypeOp) -> str:
    type_ = f"sa.Enum(name={op.name!r}{_schema_arg(op.schema)})"
    return f"{type_}.drop(op.get_bind(), checkfirst=True)"


@renderers.dispatch_for(NothingOp)
def _render_nothing(autogen_context: AutogenContext, op: NothingOp) -> list[str]:
    return []


def apply_enum_changes(
    context: MigrationContext,
    metadata: MetaData,
    upgrade_ops: ops.UpgradeOps,
) -> None:
    """Add the enum operations autogenerate leaves out to ``upgrade_ops`` (see module docs)."""
    connection = context.connection
    if connection is None:
        return
    declared = declared_enums(metadata)
    if connection.dialect.name == "postgresql":
        _alter_changed_values(connection, declared, upgrade_ops)
    existing = _types_in_use(connection) | _types_kept(declared, upgrade_ops)
    _create_types_for_added_columns(declared, upgrade_ops, existing)
    _drop_types_of_dropped_tables(declared, upgrade_ops)


def finish_downgrade(
    metadata: MetaData, upgrade_ops: ops.UpgradeOps, downgrade_ops: ops.OpContainer
) -> None:
    """Drop, at the end of the downgrade, enum types the upgrade's new tables brought."""
    declared = declared_enums(metadata)
    created = {op.table_name for op in upgrade_ops.ops if isinstance(op, ops.CreateTableOp)}
    still_used = {
        name
        for name, (_, _, uses) in declared.items()
        if any(table not in created for table, _ in uses)
    }
    for name, (values, schema, uses) in sorted(declared.items()):
        if name not in still_used and any(table in created for table, _ in uses):
            downgrade_ops.ops.append(DropEnumTypeOp(name, values, schema=schema, restore=False))


def declared_enums(metadata: MetaData) -> Declared:
    """Return the named native enums the models use (see :data:`Declared`)."""
    found: Declared = {}
    for table in metadata.sorted_tables:
        for column in table.columns:
            type_ = column.type
            if not isinstance(type_, Enum) or not type_.native_enum or not type_.name:
                continue
            entry = found.setdefault(str(type_.name), (list(type_.enums), type_.schema, []))
            entry[2].append((table.name, column.name))
    return found


def _alter_changed_values(
    connection: Connection,
    declared: Declared,
    upgrade_ops: ops.UpgradeOps,
) -> None:
    inspector: Any = inspect(connection)
    default_schema = connection.dialect.default_schema_name
    changes: list[ops.MigrateOperation] = []
    for reflected in inspector.get_enums():
        name = reflected["name"]
        if name not in declared:
            continue
        values, schema, _ = declared[name]
        if list(reflected["labels"]) == values or (schema or default_schema) != reflected["schema"]:
            continue
        columns = _enum_columns(connection, name, reflected["schema"])
        old_values = list(reflected["labels"])
        changes.append(AlterEnumOp(name, old_values, values, schema=schema, columns=columns))
    upgrade_ops.ops[0:0] = changes


def _enum_columns(connection: Connection, name: str, schema: str) -> tuple[EnumColumn, ...]:
    rows = connection.execute(
        text(
            "SELECT c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_type t ON t.oid = a.atttypid "
            "JOIN pg_namespace n ON n.oid = t.typnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE t.typname = :name AND n.nspname = :schema AND c.relkind = 'r' "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum"
        ),
        {"name": name, "schema": schema},
    )
    return tuple(EnumColumn(table, column, default) for table, column, default in rows)


def _types_in_use(connection: Connection) -> set[str]:
    if connection.dialect.name == "postgresql":
        inspector: Any = inspect(connection)
        return {enum["name"] for enum in inspector.get_enums()}
    return set()


def _types_kept(
    declared: Declared,
    upgrade_ops: ops.UpgradeOps,
) -> set[str]:
    # Without reflection of enum types (anything but PostgreSQL), a type exists
    # already when a column this migration does not add uses it.
    added = {
        (op.table_name, column.name)
        for op in upgrade_ops.ops
        if isinstance(op, ops.CreateTableOp)
        for column in op.to_table().columns
    }
    added |= {
        (container.table_name, op.column.name)
        for container in upgrade_ops.ops
        if isinstance(container, ops.ModifyTableOps)
        for op in container.ops
        if isinstance(op, ops.AddColumnOp)
    }
    return {name for name, (_, _, uses) in declared.items() if any(u not in added for u in uses)}


def _create_types_for_added_columns(
    declared: Declared,
    upgrade_ops: ops.UpgradeOps,
    existing: set[str],
) -> None:
    created_by_tables = {
        str(column.type.name)
        for op in upgrade_ops.ops
        if isinstance(op, ops.CreateTableOp)
        for column in op.to_table().columns
        if isinstance(column.type, Enum) and column.type.name
    }
    done = existing | created_by_tables
    for index, container in reversed(list(enumerate(upgrade_ops.ops))):
        if not isinstance(container, ops.ModifyTableOps):
            continue
        for op in container.ops:
            if not isinstance(op, ops.AddColumnOp):
                continue
            type_ = op.column.type
            name = str(type_.name) if isinstance(type_, Enum) and type_.native_enum else ""
            if name and name in declared and name not in done:
                values, schema, _ = declared[name]
                upgrade_ops.ops.insert(index, CreateEnumTypeOp(name, values, schema=schema))
                done.add(name)


def _drop_types_of_dropped_tables(
    declared: Declared,
    upgrade_ops: ops.UpgradeOps,
) -> None:
    for op in list(upgrade_ops.ops):
        if not isinstance(op, ops.DropTableOp):
            continue
        table: Table = op.to_table()
        for column in table.columns:
            type_ = column.type
            if isinstance(type_, Enum) and type_.name and str(type_.name) not in declared:
                drop = DropEnumTypeOp(str(type_.name), list(type_.enums), restore=False)
                upgrade_ops.ops.insert(upgrade_ops.ops.index(op) + 1, drop)
                declared = {**declared, str(type_.name): ([], None, [])}


def _ident(name: str) -> str:
    # Quoted only when PostgreSQL needs it (keywords, capitals), as SQLAlchemy does
    # when it creates the type, so the rendered SQL stays readable.
    return str(_preparer().quote(name))


@functools.cache
def _preparer() -> Any:
    return PGDialect().identifier_preparer  # type: ignore[no-untyped-call]


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _schema_arg(schema: str | None) -> str:
    return f", schema={schema!r}" if schema else ""


__all__ = [
    "AlterEnumOp",
    "CreateEnumTypeOp",
    "Declared",
    "DropEnumTypeOp",
    "EnumColumn",
    "NothingOp",
    "apply_enum_changes",
    "declared_enums",
    "finish_downgrade",
]
