"""Session classes: SQLAlchemy's, plus a guard against hidden I/O in async code.

In async code, touching ``post.comments`` when the comments were not loaded
would have to run a query inside a plain attribute access. SQLAlchemy can't
await there and fails with a cryptic ``MissingGreenlet``. The sync session
behind every Satchel ``AsyncSession`` instead raises :class:`LazyLoadError`,
naming the relationship and the fix, before any SQL is sent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util.concurrency import greenlet_spawn, in_greenlet


class LazyLoadError(sa_exc.InvalidRequestError):
    """An async session was asked to load something implicitly (hidden I/O)."""


class SyncSession(Session):
    """The ``Session`` that request-scoped providers and ``db.session()`` hand out."""


class GuardedSession(Session):
    """The sync session behind an ``AsyncSession``: refuses implicit loads.

    Every ``AsyncSession`` method runs its sync counterpart inside a greenlet;
    only an implicit load (a lazy relationship, an expired attribute) reaches
    ``execute`` outside of one.
    """

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Execute a statement, unless this is an implicit load from async code."""
        if not in_greenlet():
            raise _implicit_load_error(args, kwargs)
        return super().execute(*args, **kwargs)


class GuardedAsyncSession(AsyncSession):
    """The ``AsyncSession`` that request-scoped providers and ``db.async_session()`` hand out."""

    sync_session_class = GuardedSession


class TestBoundAsyncSession(GuardedAsyncSession):
    """An ``AsyncSession`` on a *sync* test connection (see ``Database.bind_for_tests``).

    Its work runs in SQLAlchemy's greenlet like any async session's; the sync
    driver simply never awaits. Only ``execute`` needs help: SQLAlchemy closes an
    async session's cursors through the async driver's own method.
    """

    async def execute(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: Any = None,
        bind_arguments: Any = None,
        **kw: Any,
    ) -> Any:
        """Execute ``statement`` on the test connection; rows are fetched at once."""
        options = {**(execution_options or {}), "prebuffer_rows": True}
        return await greenlet_spawn(
            self.sync_session.execute,
            statement,
            params=params,
            execution_options=options,
            bind_arguments=bind_arguments,
            **kw,
        )


def _implicit_load_error(args: tuple[Any, ...], kwargs: dict[str, Any]) -> LazyLoadError:
    statement = args[0] if args else kwargs.get("statement")
    options = kwargs.get("execution_options") or {}
    load_options = options.get("_sa_orm_load_options")
    parent = getattr(load_options, "_lazy_loaded_from", None)
    compile_options = getattr(statement, "_compile_options", None)
    path = getattr(compile_options, "_current_path", None)
    prop = getattr(path, "prop", None) if path is not None else None
    if parent is not None and prop is not None:
        owner = parent.class_.__name__
        attr = f"{owner}.{prop.key}"
        loader = "selectinload" if prop.uselist else "joinedload"
        return LazyLoadError(
            f"{attr} is not loaded, and an async session never loads a relationship "
            f"implicitly (that would be hidden I/O on attribute access). Load it with the "
            f"query: select({owner}).options({loader}({attr})) (or session.get(..., "
            f"options=[{loader}({attr})])); or load it on purpose: "
            f"await {owner.lower()}.awaitable_attrs.{prop.key}"
        )
    refresh = getattr(load_options, "_refresh_state", None)
    if refresh is not None:
        owner = refresh.class_.__name__
        var = owner.lower()
        columns = {attr.key for attr in refresh.mapper.column_attrs}
        missing = sorted(refresh.expired_attributes & columns) or ["..."]
        names = ", ".join(f"{owner}.{key}" for key in missing[:5])
        return LazyLoadError(
            f"{names} not loaded (expired by a commit or rollback, or deferred), and an async "
            f"session never loads attributes implicitly. Reload on purpose: "
            f"await session.refresh({var}), or await {var}.awaitable_attrs.<name>; "
            f"for deferred columns add undefer(...) to the query"
        )
    return LazyLoadError(
        "an async session was asked to run SQL implicitly (outside an await), probably to "
        "load an unloaded relationship or attribute. Load it in the query with "
        "selectinload()/joinedload(), or await obj.awaitable_attrs.<name>"
    )


__all__ = [
    "GuardedAsyncSession",
    "GuardedSession",
    "LazyLoadError",
    "SyncSession",
    "TestBoundAsyncSession",
]
