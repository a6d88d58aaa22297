"""Read statements compiled once and run on asyncpg's prepared statements, with no BEGIN.

SQLAlchemy spends most of a small query's time in Python: a cache key for the
statement, an execution context, a cursor adapter, a result object -- several
hundred microseconds against about a hundred for asyncpg's ``fetch`` (measured,
see bench/db/measure.py). And the first statement on a connection opens a
transaction (BEGIN), which the pool ends with ROLLBACK: three round trips for
one read.

This module keeps, per dialect, a *plan* for each read statement: the SQL
compiled once, the order of its parameters and their processors, and the result
columns. A plan runs straight on the asyncpg connection (asyncpg prepares the
statement once per connection and caches it). A read that is not part of a
transaction the caller opened runs without one, as PostgreSQL's autocommit
would: at READ COMMITTED every statement sees a fresh snapshot anyway, so the
answer is the same, and nothing is left to roll back. The first write still
begins a transaction as before (SQLAlchemy's own path runs every write).

Only plain reads qualify: a ``SELECT`` without ``FOR UPDATE``/``FOR SHARE``,
without expanding (``IN``) or literal-rendered parameters, whose functions are
side-effect free (``count``, ``lower`` ...; a ``SELECT nextval(...)`` or a call
to a user function takes the normal path, inside a transaction). Everything else
-- and everything on a connection with event listeners (the N+1 detector,
``echo``), a schema translate map or execution options -- goes through
SQLAlchemy unchanged.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Engine
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql import Select, visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ClauseElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.util import LRUCache
from sqlalchemy.util.concurrency import greenlet_spawn

#: Functions a read may call and still skip the transaction: they change nothing.
SAFE_FUNCTIONS = frozenset(
    {
        "abs", "avg", "ceil", "ceiling", "char_length", "character_length", "coalesce",
        "concat", "count", "current_date", "current_time", "current_timestamp", "date",
        "date_trunc", "extract", "floor", "greatest", "least", "length", "localtime",
        "localtimestamp", "lower", "ltrim", "max", "min", "now", "nullif", "round",
        "rtrim", "sum", "trim", "upper", "array_agg", "string_agg", "json_agg",
        "jsonb_agg", "bool_and", "bool_or", "every", "row_number", "rank", "dense_rank",
    }
)  # fmt: skip
#: Isolation levels at which a lone read needs no transaction (same answer either way).
_LAZY_LEVELS = frozenset({None, "read_committed", "read_uncommitted", "autocommit"})
#: Connection execution options that leave a plan's SQL and meaning unchanged.
_HARMLESS_OPTIONS = frozenset({"isolation_level", "logging_token", "compiled_cache"})
_PLAN_CACHE_SIZE = 500
_MISSING = object()


class Plan:
    """A read statement compiled for one dialect: SQL, parameter order, result columns."""

    __slots__ = ("columns", "compiled", "entity", "metadata", "names", "processors", "sql")

    def __init__(self, compiled: SQLCompiler, dialect: Dialect) -> None:
        self.compiled = compiled
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        bind_processors: Mapping[str, Any] = compiled._bind_processors
        self.processors: tuple[Callable[[Any], Any] | None, ...] = tuple(
            bind_processors.get(name) for name in self.names
        )
        #: (key, column objects, result processor) of every result column, in order.
        self.columns = [
            (entry.keyname, entry.objects, entry.type._cached_result_processor(dialect, None))
            for entry in compiled._result_columns
        ]
        processors = [processor for _, _, processor in self.columns]
        self.metadata = SimpleResultMetaData(
            [key for key, _, _ in self.columns],
            _processors=processors if any(processors) else None,
        )
        #: What the ORM path knows about the plan's entity (set by it; False: none).
        self.entity: Any = None

    def arguments(
        self, params: Mapping[str, Any] | None, extracted: Sequence[BindParameter[Any]] | None
    ) -> list[Any]:
        """Return the positional arguments for one execution."""
        values = self.compiled.construct_params(
            params, extracted_parameters=extracted, escape_names=False
        )
        return [
            value if processor is None else processor(value)
            for value, processor in zip(
                [values[name] for name in self.names], self.processors, strict=True
            )
        ]


class _Plans:
    """The plans of one dialect: by statement object (weakly), then by cache key."""

    __slots__ = ("by_key", "by_statement")

    def __init__(self) -> None:
        self.by_statement: weakref.WeakKeyDictionary[ClauseElement, tuple[Any, Any]] = (
            weakref.WeakKeyDictionary()
        )
        self.by_key: LRUCache[Any, Plan | None] = LRUCache(_PLAN_CACHE_SIZE)


def _plans(dialect: Dialect) -> _Plans:
    found: _Plans | None = dialect.__dict__.get("_satchel_plans")
    if found is None:
        found = _Plans()
        dialect.__dict__["_satchel_plans"] = found
    return found


def plan_for(
    statement: Any, dialect: Dialect
) -> tuple[Plan, Sequence[BindParameter[Any]] | None] | None:
    """Return the plan of ``statement`` and the parameters it carries, or None (not a plain read).

    A statement object seen before is found by identity; a new object of a known
    shape by SQLAlchemy's cache key (its literal values become the parameters).
    """
    plans = _plans(dialect)
    try:
        known = plans.by_statement.get(statement)
    except TypeError:  # not weak-referenceable: not a statement object
        return None
    if known is not None:
        return known[0], known[1]
    if not isinstance(statement, Select):
        return None
    cache_key = statement._generate_cache_key()
    if cache_key is None:  # SQLAlchemy cannot cache it either
        return None
    plan: Any = plans.by_key.get(cache_key.key, _MISSING)
    if plan is _MISSING:
        plan = _compile(statement, dialect, cache_key)
        plans.by_key[cache_key.key] = plan
        # The statement compiled carries the compiled values, and a statement never
        # changes: a module-level one is found by identity from now on. (Others of
        # the same shape, often built per request, are not remembered: a weak
        # reference costs more than it saves for an object used once.)
        plans.by_statement[statement] = (plan, None)
        return (plan, None) if plan is not None else None
    return (plan, cache_key.bindparams) if plan is not None else None


def _compile(statement: Select[Any], dialect: Dialect, cache_key: Any) -> Plan | None:
    if not is_plain_read(statement):
        return None
    compiled = dialect.statement_compiler(dialect, statement, cache_key=cache_key)
    if compiled.literal_execute_params or compiled.post_compile_params or compiled.returning:
        return None
    if any(bind.expanding for bind in compiled.binds.values()):
        return None
    return Plan(compiled, dialect)


def is_plain_read(statement: Select[Any]) -> bool:
    """Return whether ``statement`` only reads: no locking clause, no unknown functions."""
    if statement._for_update_arg is not None or statement._execution_options:
        return False
    for element in visitors.iterate(statement):
        if isinstance(element, Select) and element._for_update_arg is not None:
            return False
        if isinstance(element, FunctionElement):
            name = getattr(element, "name", "").lower()
            if name not in SAFE_FUNCTIONS:
                return False
    return True


def driver_connection(connection: Connection) -> Any:
    """Return the asyncpg adapter under ``connection`` if the fast path may use it, else None.

    The connection must be an asyncpg one with no event listeners and no echo
    (so the N+1 detector and SQL logging see every statement), and no execution
    options that change SQL.
    """
    if connection._has_events or connection.engine._has_events or connection._echo:
        return None
    if connection.invalidated:
        return None
    if connection.dialect.driver != "asyncpg":
        return None
    options = connection._execution_options
    if options and not options.keys() <= _HARMLESS_OPTIONS:
        return None
    fairy = connection._dbapi_connection
    return fairy.dbapi_connection if fairy is not None else None


def engine_ready(engine: Engine) -> bool:
    """Whether reads may borrow ``engine``'s pooled connections directly (same rules)."""
    if engine._has_events or engine.echo or engine.dialect.driver != "asyncpg":
        return False
    options = engine._execution_options
    return not options or options.keys() <= _HARMLESS_OPTIONS


def needs_begin(adapter: Any, in_transaction: bool) -> bool | None:
    """Whether a read must BEGIN first: True, False, or None when the fast path cannot run.

    A read inside a transaction the caller opened belongs in it (BEGIN is sent
    then, if the driver has not sent it yet). A read outside one needs none at
    the isolation levels where every statement sees a fresh snapshot anyway.
    """
    if adapter._transaction is not None or adapter.isolation_level == "autocommit":
        return False
    if in_transaction:
        return True
    if adapter.isolation_level not in _LAZY_LEVELS or adapter.readonly or adapter.deferrable:
        return None
    return False


async def fetch(connection: Connection, adapter: Any, plan: Plan, args: list[Any],
                begin: bool) -> list[Any]:  # fmt: skip
    """Run ``plan`` on the asyncpg connection; driver errors become SQLAlchemy's."""
    try:
        if begin:
            await adapter._start_transaction()
        return await adapter._connection.fetch(plan.sql, *args)  # type: ignore[no-any-return]
    except Exception as exc:
        await greenlet_spawn(_translate, connection, adapter, exc, plan.sql, args)
        raise  # pragma: no cover - _translate always raises
    except BaseException as exc:
        # Cancelled mid-statement: the driver may still be waiting for the answer, so
        # the connection must never serve anyone again (SQLAlchemy does the same).
        connection.invalidate(exc)
        raise


async def fetch_borrowed(engine: Engine, plan: Plan, args: list[Any]) -> list[Any]:
    """Run ``plan`` on a connection borrowed from ``engine``'s pool for this one read.

    Checked out, used and checked in at once, like an asyncpg pool user does: a
    read outside a transaction holds no connection between statements, and
    never a second one.
    """
    fairy = await greenlet_spawn(engine.raw_connection)
    try:
        adapter: Any = fairy.dbapi_connection
        try:
            return await adapter._connection.fetch(plan.sql, *args)  # type: ignore[no-any-return]
        except Exception as exc:
            await greenlet_spawn(_translate_borrowed, engine, fairy, adapter, exc)
            raise  # pragma: no cover - _translate_borrowed always raises
        except BaseException as exc:
            fairy.invalidate(exc)  # cancelled mid-statement: see fetch()
            raise
    finally:
        # No greenlet needed: a borrowed connection never begins a transaction, so
        # giving it back (a no-op rollback, a queue put) does no I/O.
        fairy.close()


def _translate_borrowed(engine: Engine, fairy: Any, adapter: Any, exc: Exception) -> None:
    try:
        adapter._handle_exception(exc)
    except Exception as dbapi_error:
        dialect = engine.dialect
        gone = isinstance(dbapi_error, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
            dbapi_error, adapter, None
        )
        if gone:
            fairy.invalidate(dbapi_error)
        Connection._handle_dbapi_exception_noconnection(
            dbapi_error, dialect, engine, is_disconnect=gone
        )
    raise exc  # pragma: no cover - _handle_exception always raises


def _translate(connection: Connection, adapter: Any, exc: Exception, sql: str,
               args: list[Any]) -> None:  # fmt: skip
    # The driver's error becomes a DBAPI error (asyncpg's adapter), then
    # SQLAlchemy's, which also invalidates the pool when the server is gone.
    try:
        adapter._handle_exception(exc)
    except Exception as dbapi_error:
        connection._handle_dbapi_exception(dbapi_error, sql, tuple(args), None, None)
    raise exc  # pragma: no cover - _handle_exception always raises


class FastResult(IteratorResult[Any]):
    """The result of a fast read: a buffered :class:`~sqlalchemy.engine.Result`."""

    def __init__(self, metadata: SimpleResultMetaData, rows: list[Any]) -> None:
        super().__init__(metadata, iter(rows))
        #: Rows returned (what ``CursorResult.rowcount`` says for a SELECT on asyncpg).
        self.rowcount = len(rows)

    returns_rows = True


__all__ = [
    "SAFE_FUNCTIONS",
    "FastResult",
    "Plan",
    "driver_connection",
    "engine_ready",
    "fetch",
    "fetch_borrowed",
    "is_plain_read",
    "needs_begin",
    "plan_for",
]
