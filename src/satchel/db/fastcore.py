"""The async engine and connections of a :class:`~satchel.db.Database`: plain reads fast.

``async with db.async_engine.connect() as conn`` gives a :class:`FastAsyncConnection`.
It takes a pooled connection only when something needs one -- a write, a
transaction, a statement the fast path does not take. Until then each plain read
(see :mod:`satchel.db.fastpath`) borrows a pooled connection for that statement
alone and runs on asyncpg's prepared statement: no BEGIN, no ROLLBACK when the
block ends, and no connection held while the handler does other work. Once the
connection is taken (``begin()``, ``engine.begin()``, a write, ``run_sync`` ...)
every statement runs on it, reads inside the transaction as before.

Until then ``in_transaction()`` is False and ``get_transaction()`` None (there is
none); ``info`` and other attributes of the DBAPI connection need the connection:
``await conn.get_raw_connection()`` takes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NoReturn

from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction
from sqlalchemy.ext.asyncio.base import asyncstartablecontext

from satchel.db.fastpath import (
    FastResult,
    driver_connection,
    engine_ready,
    fetch,
    fetch_borrowed,
    needs_begin,
    plan_for,
)

_NOT_YET, _TAKEN, _CLOSED = 0, 1, 2


class FastAsyncConnection(AsyncConnection):
    """An ``AsyncConnection`` that takes its pooled connection on first need.

    ``execute``, ``scalar`` and ``scalars`` run plain reads on the fast path and
    everything else as SQLAlchemy does; results are
    :class:`~sqlalchemy.engine.Result` objects either way.
    """

    __slots__ = ("_stage",)

    def __init__(self, async_engine: AsyncEngine, sync_connection: Connection | None = None):
        super().__init__(async_engine, sync_connection)
        self._stage = _TAKEN if sync_connection is not None else _NOT_YET

    async def start(self, is_ctxmanager: bool = False) -> AsyncConnection:
        """Start the connection; the pooled connection itself is taken on first need."""
        if self._stage == _CLOSED:
            raise sa_exc.ResourceClosedError("This connection is closed")
        if self.sync_connection is not None:
            raise sa_exc.InvalidRequestError("connection is already started")
        return self

    async def _take(self) -> Connection:
        """Check the pooled connection out now (if not yet) and return it."""
        if self.sync_connection is None:
            if self._stage == _CLOSED:
                raise sa_exc.ResourceClosedError("This connection is closed")
            await AsyncConnection.start(self)
            self._stage = _TAKEN
        return self._proxied

    @property
    def _proxied(self) -> Connection:
        if self.sync_connection is None:
            self._not_taken()
        return self.sync_connection

    def _not_taken(self) -> NoReturn:
        if self._stage == _CLOSED:
            raise sa_exc.ResourceClosedError("This connection is closed")
        raise sa_exc.InvalidRequestError(
            "this connection takes its pooled connection at the first statement that needs"
            " it, and has none yet: await conn.get_raw_connection() to take it now"
        )

    # -- the fast path ---------------------------------------------------------------

    async def execute(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> Any:
        """Execute ``statement``: a plain read fast, anything else as SQLAlchemy does."""
        if not execution_options and not isinstance(parameters, list):
            rows, plan = await self._fast(statement, parameters)
            if plan is not None:
                return FastResult(plan.metadata, rows)
        await self._take()
        return await super().execute(statement, parameters, execution_options=execution_options)

    async def _fast(self, statement: Any, parameters: Any) -> tuple[Any, Any]:
        sync = self.sync_connection
        if sync is None:
            engine = self.sync_engine
            if self._stage == _CLOSED or not engine_ready(engine):
                return None, None
            found = plan_for(statement, engine.dialect)
            if found is None:
                return None, None
            plan, extracted = found
            return await fetch_borrowed(engine, plan, plan.arguments(parameters, extracted)), plan
        adapter = driver_connection(sync)
        if adapter is None:
            return None, None
        found = plan_for(statement, sync.dialect)
        if found is None:
            return None, None
        begin = needs_begin(adapter, sync._transaction is not None)
        if begin is None:
            return None, None
        plan, extracted = found
        args = plan.arguments(parameters, extracted)
        return await fetch(sync, adapter, plan, args, begin), plan

    # -- everything else takes the connection first ------------------------------------

    def begin(self) -> AsyncTransaction:
        """Begin a transaction (the pooled connection is taken when it starts)."""
        return _Transaction(self)

    def begin_nested(self) -> AsyncTransaction:
        """Begin a nested transaction (SAVEPOINT) on the pooled connection."""
        return _Transaction(self, nested=True)

    async def get_raw_connection(self) -> Any:
        """Return the pooled DBAPI connection, taking it now if not yet."""
        await self._take()
        return await super().get_raw_connection()

    async def invalidate(self, exception: BaseException | None = None) -> None:
        """Invalidate the pooled connection, if one was taken."""
        if self.sync_connection is not None:
            await super().invalidate(exception)

    async def get_isolation_level(self) -> Any:
        """Return the isolation level of the pooled connection (taken now if not yet)."""
        await self._take()
        return await super().get_isolation_level()

    async def execution_options(self, **opt: Any) -> AsyncConnection:
        """Set execution options on the pooled connection (taken now if not yet)."""
        await self._take()
        return await super().execution_options(**opt)

    async def commit(self) -> None:
        """Commit the transaction, if there is one."""
        if self.sync_connection is not None:
            await super().commit()

    async def rollback(self) -> None:
        """Roll the transaction back, if there is one."""
        if self.sync_connection is not None:
            await super().rollback()

    async def close(self) -> None:
        """Give the pooled connection back (if one was taken); the connection is closed."""
        if self.sync_connection is not None:
            await super().close()
        self._stage = _CLOSED

    async def exec_driver_sql(self, *args: Any, **kw: Any) -> Any:
        """Execute a driver-level SQL string on the pooled connection."""
        await self._take()
        return await super().exec_driver_sql(*args, **kw)

    @asyncstartablecontext
    async def stream(
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> AsyncIterator[Any]:
        """Execute and stream the rows (on the pooled connection)."""
        await self._take()
        streaming = AsyncConnection.stream(
            self, statement, parameters, execution_options=execution_options
        )
        async with streaming as result:
            yield result

    async def run_sync(self, fn: Any, *args: Any, **kw: Any) -> Any:
        """Run ``fn(sync_connection, ...)`` on the pooled connection."""
        await self._take()
        return await super().run_sync(fn, *args, **kw)

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        if self.sync_connection is None:
            self._stage = _CLOSED  # nothing taken, nothing to give back
            return
        await super().__aexit__(type_, value, traceback)

    def in_transaction(self) -> bool:
        """Return whether a transaction is in progress (never before the connection is taken)."""
        return self.sync_connection is not None and super().in_transaction()

    def in_nested_transaction(self) -> bool:
        """Return whether a nested transaction is in progress."""
        return self.sync_connection is not None and super().in_nested_transaction()

    def get_transaction(self) -> AsyncTransaction | None:
        """Return the current transaction, if any."""
        return super().get_transaction() if self.sync_connection is not None else None

    def get_nested_transaction(self) -> AsyncTransaction | None:
        """Return the current nested transaction, if any."""
        if self.sync_connection is None:
            return None
        return super().get_nested_transaction()

    @property
    def closed(self) -> bool:
        """Whether this connection is closed."""
        if self.sync_connection is None:
            return self._stage == _CLOSED
        return self.sync_connection.closed

    @property
    def invalidated(self) -> bool:
        """Whether the pooled connection was invalidated (never before it is taken)."""
        return self.sync_connection is not None and self.sync_connection.invalidated

    @property
    def dialect(self) -> Any:
        """The engine's dialect."""
        return self.sync_engine.dialect

    @dialect.setter
    def dialect(self, value: Any) -> None:
        self._proxied.dialect = value

    @property
    def default_isolation_level(self) -> Any:
        """The isolation level the dialect found on first connect."""
        return self.sync_engine.dialect.default_isolation_level


class _Transaction(AsyncTransaction):
    """A transaction of a :class:`FastAsyncConnection`: takes the pooled connection to start."""

    __slots__ = ()

    async def start(self, is_ctxmanager: bool = False) -> AsyncTransaction:
        """Take the pooled connection and begin."""
        connection = self.connection
        assert isinstance(connection, FastAsyncConnection)
        await connection._take()
        return await super().start(is_ctxmanager)


class FastAsyncEngine(AsyncEngine):
    """An ``AsyncEngine`` that hands out :class:`FastAsyncConnection` objects."""

    __slots__ = ()
    _connection_cls = FastAsyncConnection

    def execution_options(self, **opt: Any) -> AsyncEngine:
        """Return a copy of this engine with ``opt`` applied to its connections."""
        return FastAsyncEngine(self.sync_engine.execution_options(**opt))


def fast_engine(engine: AsyncEngine) -> AsyncEngine:
    """Return ``engine`` as a :class:`FastAsyncEngine` (same pool, same sync engine)."""
    if isinstance(engine, FastAsyncEngine):
        return engine
    return FastAsyncEngine(engine.sync_engine)


__all__ = ["FastAsyncConnection", "FastAsyncEngine", "fast_engine"]
