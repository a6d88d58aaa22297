"""The request's ``AsyncSession``, with ``get`` and plain ``select(Model)`` on the fast path.

``session.get(Post, 1)`` and ``session.execute(select(Post).where(...))`` (and
``scalars``/``scalar``) keep their meaning and their results, but a read that
qualifies skips SQLAlchemy's per-statement work: the statement is compiled once
per shape (see :mod:`satchel.db.fastpath`), runs on asyncpg's prepared
statement, and the rows become instances the way SQLAlchemy's loader makes them
(put in the identity map, so a later change is flushed as an ``UPDATE``).
A session that only reads never sends BEGIN, COMMIT or ROLLBACK; the first write
(a flush) begins the transaction, as before.

A read qualifies when its entity is a plain mapped class (one table, one
primary-key column, no inheritance, column attributes loaded with the row,
relationships loaded lazily or never -- ``selectinload`` & co. are options, and
options take the normal path) with no ``load``/``refresh`` event listeners, the
statement has no options, joins, locking or execution options, and the session
has no ``do_orm_execute`` listeners, no per-mapper binds, and runs on asyncpg.
Anything else takes SQLAlchemy's path, unchanged.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import Dialect, Engine, bindparam, select
from sqlalchemy.engine.result import SimpleResultMetaData
from sqlalchemy.orm import Mapper, RelationshipProperty, Session, SynonymProperty
from sqlalchemy.orm.base import instance_state
from sqlalchemy.orm.properties import ColumnProperty
from sqlalchemy.orm.session import SessionTransactionOrigin
from sqlalchemy.sql import FromClause, Select
from sqlalchemy.sql.schema import Column
from sqlalchemy.util.concurrency import greenlet_spawn

from satchel.db.fastpath import (
    FastResult,
    Plan,
    driver_connection,
    engine_ready,
    fetch,
    fetch_borrowed,
    needs_begin,
    plan_for,
)
from satchel.db.sessions import GuardedAsyncSession

_LAZY = frozenset({"select", "raise", "raise_on_sql"})
_NO_ENTITY = object()
#: Whether a mapper's shape qualifies (a configured mapper's shape never changes).
_PLAIN: weakref.WeakKeyDictionary[Mapper[Any], bool] = weakref.WeakKeyDictionary()


class _Entity:
    """How rows of one plan become instances of one mapped class."""

    __slots__ = ("identity_class", "keys", "manager", "mapper", "metadata", "pk_index")

    def __init__(self, mapper: Mapper[Any], columns: list[Any]) -> None:
        self.mapper = mapper
        self.identity_class = mapper._identity_class
        self.manager = mapper.class_manager
        self.keys = tuple(mapper._columntoproperty[column].key for column in columns)
        self.pk_index = columns.index(mapper.primary_key[0])
        #: One column named after the class, as an ORM result has.
        self.metadata = SimpleResultMetaData([mapper.class_.__name__])


def _plain_mapper(mapper: Mapper[Any]) -> bool:
    """Whether SQLAlchemy's loader would do no more for ``mapper`` than fill in columns."""
    dispatch = mapper.class_manager.dispatch
    if dispatch.load or dispatch.refresh:  # listeners may come at any time
        return False
    plain = _PLAIN.get(mapper)
    if plain is None:
        plain = _PLAIN[mapper] = _plain_shape(mapper)
    return plain


def _plain_shape(mapper: Mapper[Any]) -> bool:
    if mapper.inherits is not None or mapper.polymorphic_on is not None or mapper.polymorphic_map:
        return False
    if not isinstance(mapper.local_table, FromClause) or len(mapper.primary_key) != 1:
        return False
    if mapper.local_table is not mapper.persist_selectable or mapper.with_polymorphic:
        return False
    for prop in mapper.attrs:
        if isinstance(prop, ColumnProperty):
            column = prop.columns[0]
            if prop.deferred or len(prop.columns) != 1 or not isinstance(column, Column):
                return False
            if column.table is not mapper.local_table:
                return False
        elif isinstance(prop, RelationshipProperty):
            if prop.lazy not in _LAZY:
                return False
        elif not isinstance(prop, SynonymProperty):
            return False
    return True


def _entities(dialect: Dialect) -> weakref.WeakKeyDictionary[Mapper[Any], Any]:
    found: weakref.WeakKeyDictionary[Mapper[Any], Any] | None = dialect.__dict__.get(
        "_satchel_entities"
    )
    if found is None:
        found = weakref.WeakKeyDictionary()
        dialect.__dict__["_satchel_entities"] = found
    return found


def _get_plan(mapper: Mapper[Any], dialect: Dialect) -> tuple[Plan, _Entity] | None:
    """Return the plan of "this class's row by primary key", or None when it doesn't qualify."""
    entities = _entities(dialect)
    found = entities.get(mapper, _NO_ENTITY)
    if found is not _NO_ENTITY:
        return found  # type: ignore[no-any-return]
    result = None
    if _plain_mapper(mapper):
        columns = [prop.columns[0] for prop in mapper.column_attrs]
        pk = mapper.primary_key[0]
        statement = select(*columns).where(pk == bindparam("pk", type_=pk.type))
        compiled = dialect.statement_compiler(
            dialect, statement, cache_key=statement._generate_cache_key()
        )
        result = (Plan(compiled, dialect), _Entity(mapper, columns))
    entities[mapper] = result
    return result


def _statement_entity(statement: Any) -> Mapper[Any] | None:
    """The mapper of a plain ``select(Model)...`` (one whole entity, no options), else None."""
    if not isinstance(statement, Select) or len(statement._raw_columns) != 1:
        return None
    if statement._propagate_attrs.get("compile_state_plugin") != "orm":
        return None
    if statement._with_options or statement._setup_joins or statement._memoized_select_entities:
        return None
    column = statement._raw_columns[0]
    entity = column._annotations.get("parententity")
    if entity is None or not getattr(entity, "is_mapper", False):
        return None  # a column, an aliased class, a plain table
    if not isinstance(column, FromClause) or not _plain_mapper(entity):
        return None
    return entity  # type: ignore[no-any-return]


def _entity_of(plan: Plan, mapper: Mapper[Any]) -> _Entity | None:
    columns = [objects[0] if objects else None for _, objects, _ in plan.columns]
    if any(column not in mapper._columntoproperty for column in columns):
        return None
    if mapper.primary_key[0] not in columns:
        return None
    return _Entity(mapper, columns)


def _instances(session: Session, entity: _Entity, rows: list[Any], plan: Plan) -> list[Any]:
    """Turn rows into instances in ``session``'s identity map, as SQLAlchemy's loader does."""
    identity_map = session.identity_map
    identity_class, keys, pk_index = entity.identity_class, entity.keys, entity.pk_index
    new_instance = entity.manager.new_instance
    processors = [processor for _, _, processor in plan.columns]
    process = any(processors)
    session_id = session.hash_key
    instances = []
    for row in rows:
        values = (
            [value if p is None else p(value) for value, p in zip(row, processors, strict=True)]
            if process
            else row
        )
        key = (identity_class, (values[pk_index],), None)
        state = identity_map.fast_get_state(key)
        if state is not None:
            instance = state.obj()
            unloaded = state.unloaded
            if unloaded:  # expired attributes are filled in from the row
                dict_ = state.dict
                loaded = [k for k in keys if k in unloaded]
                for k, value in zip(keys, values, strict=True):
                    if k in unloaded:
                        dict_[k] = value
                state._commit(dict_, loaded)
            instances.append(instance)
            continue
        instance = new_instance()
        state = instance_state(instance)
        state.dict.update(zip(keys, values, strict=True))
        state.key = key
        state.identity_token = None
        state.session_id = session_id
        identity_map._add_unpresent(state, key)
        instances.append(instance)
    return instances


class FastAsyncSession(GuardedAsyncSession):
    """The request's ``AsyncSession``: plain reads on the fast path (see the module docs)."""

    async def _read(self, plan: Plan, args: list[Any]) -> list[Any] | None:
        """Run a read plan for this session; None when it must take SQLAlchemy's path.

        With no transaction open, the read borrows a pooled connection for just
        this statement (no BEGIN, nothing held). Inside a transaction it runs on
        the transaction's connection; BEGIN is sent first if the transaction was
        opened explicitly and the driver has not begun it yet.
        """
        sync = self.sync_session
        bind = sync.bind
        if bind is None or sync.binds or sync.dispatch.do_orm_execute:
            return None
        if sync.autoflush and (sync._new or sync._deleted or sync.identity_map._modified):
            await greenlet_spawn(sync._autoflush)
        transaction = sync._transaction
        if transaction is None and isinstance(bind, Engine):
            if not engine_ready(bind):
                return None
            return await fetch_borrowed(bind, plan, args)
        connection = await greenlet_spawn(sync.connection)
        adapter = driver_connection(connection)
        if adapter is None:
            return None
        transaction = sync._transaction
        explicit = (
            transaction is None
            or transaction.nested
            or transaction.origin is not SessionTransactionOrigin.AUTOBEGIN
        )
        begin = needs_begin(adapter, explicit)
        if begin is None:
            return None
        return await fetch(connection, adapter, plan, args, begin)

    async def get(
        self,
        entity: Any,
        ident: Any,
        *,
        options: Any = None,
        populate_existing: bool | None = None,
        with_for_update: Any = None,
        identity_token: Any = None,
        execution_options: Any = None,
        **kw: Any,
    ) -> Any:
        """Return the instance of ``entity`` with primary key ``ident``, or None."""
        normal = (
            options or populate_existing or with_for_update is not None or identity_token
            or execution_options or kw
        )  # fmt: skip
        mapper = getattr(entity, "__mapper__", None)
        bind = self.sync_session.bind
        if not normal and mapper is not None and bind is not None:
            value = ident[0] if type(ident) in (tuple, list) and len(ident) == 1 else ident
            found = _get_plan(mapper, bind.dialect) if value is not None else None
            if found is not None and type(value) not in (tuple, list, dict):
                plan, info = found
                key = (info.identity_class, (value,), None)
                if key not in self.sync_session.identity_map:
                    rows = await self._read(plan, plan.arguments({"pk": value}, None))
                    if rows is not None:
                        return _instances(self.sync_session, info, rows, plan)[0] if rows else None
        extra = {} if execution_options is None else {"execution_options": execution_options}
        return await super().get(
            entity,
            ident,
            options=options,
            populate_existing=populate_existing,
            with_for_update=with_for_update,
            identity_token=identity_token,
            **extra,
            **kw,
        )

    async def execute(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: Any = None,
        bind_arguments: Any = None,
        **kw: Any,
    ) -> Any:
        """Execute ``statement``; a plain ``select(Model)`` read takes the fast path."""
        bind = self.sync_session.bind
        fast = not (execution_options or bind_arguments or kw or isinstance(params, list))
        if fast and bind is not None:
            result = await self._fast_select(statement, params, bind.dialect)
            if result is not None:
                return result
        extra: dict[str, Any] = {} if execution_options is None else {
            "execution_options": execution_options
        }  # fmt: skip
        return await super().execute(
            statement, params, bind_arguments=bind_arguments, **extra, **kw
        )

    async def _fast_select(self, statement: Any, params: Any, dialect: Dialect) -> Any:
        mapper = _statement_entity(statement)
        if mapper is None:
            return None
        found = plan_for(statement, dialect)
        if found is None:
            return None
        plan, extracted = found
        entity = plan.entity
        if entity is None:
            entity = plan.entity = _entity_of(plan, mapper) or False
        if entity is False:
            return None
        rows = await self._read(plan, plan.arguments(params, extracted))
        if rows is None:
            return None
        instances = _instances(self.sync_session, entity, rows, plan)
        return FastResult(entity.metadata, [(obj,) for obj in instances])

    async def scalars(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        """Execute ``statement`` and return the first column of each row."""
        return (await self.execute(statement, params, **kw)).scalars()

    async def scalar(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        """Execute ``statement`` and return the first column of the first row."""
        return (await self.execute(statement, params, **kw)).scalar()


__all__ = ["FastAsyncSession"]
