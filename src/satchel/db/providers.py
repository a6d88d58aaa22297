"""The request-scoped ``AsyncSession`` and ``Session`` providers, and database error responses.

One session per request: committed when the handler returns, rolled back when it
(or anything after the provider) raises, always closed. A session that ran no
query holds no connection, so it is simply dropped: no commit, no pool traffic.
Database errors leave as client-facing errors (409, 400, 503; see
:mod:`satchel.db.errors`), the driver's error as their cause.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from satchel.db.errors import logger, to_http_error
from satchel.handlers.errors import http_exception_response

if TYPE_CHECKING:
    from satchel.db.database import Database
    from satchel.http.request import Request
    from satchel.http.response import Response


def async_session_provider(db: Database) -> Callable[[], AsyncIterator[AsyncSession]]:
    """Return the provider function for ``AsyncSession`` parameters."""

    async def async_session() -> AsyncIterator[AsyncSession]:
        session = db.new_async_session()
        try:
            yield session
        except BaseException as exc:
            if _in_use(session.sync_session):
                await _quietly(session.rollback)
                await _quietly(session.close)
            _raise_translated(exc)
            raise
        if not _in_use(session.sync_session):
            return  # no query ran: nothing to commit, no connection to give back
        try:
            await session.commit()
        except Exception as exc:
            await _quietly(session.rollback)
            _raise_translated(exc)
            raise
        finally:
            await _quietly(session.close)

    return async_session


def sync_session_provider(
    db: Database, run_sync: Callable[..., Awaitable[Any]]
) -> Callable[[], AsyncIterator[Session]]:
    """Return the provider function for ``Session`` parameters.

    The provider itself is async: creating a session does no I/O, and the
    commit or rollback runs in the thread pool only when there is one to do.
    """

    async def session() -> AsyncIterator[Session]:
        created = db.new_session()
        try:
            yield created
        except BaseException as exc:
            if _in_use(created):
                await run_sync(_end_sync, created, False)
            _raise_translated(exc)
            raise
        if _in_use(created):
            try:
                await run_sync(_end_sync, created, True)
            except Exception as exc:
                _raise_translated(exc)
                raise

    return session


async def database_error(request: Request, exc: Exception) -> Response:
    """Answer a database error raised outside a request-scoped session (409, 400, 503).

    Installed by ``init_app`` for SQLAlchemy's errors; anything that is not a
    client-facing error is raised again and becomes the usual 500.
    """
    found = to_http_error(exc)
    if found is None:
        raise exc
    return http_exception_response(found, request.headers.get("accept", ""))


def _in_use(session: Session) -> bool:
    """Whether ``session`` holds a transaction or pending changes (else it touched nothing)."""
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


def _end_sync(session: Session, commit: bool) -> None:
    try:
        if commit:
            try:
                session.commit()
            except Exception:
                _quietly_sync(session.rollback)
                raise
        else:
            _quietly_sync(session.rollback)
    finally:
        _quietly_sync(session.close)


def _quietly_sync(step: Any) -> None:
    try:
        step()
    except Exception as exc:  # the connection may be gone; the first error is what matters
        logger.debug("ignored while cleaning up a session: %r", exc)


async def _quietly(step: Any) -> None:
    try:
        await step()
    except Exception as exc:  # the connection may be gone; the first error is what matters
        logger.debug("ignored while cleaning up a session: %r", exc)


def _raise_translated(exc: BaseException) -> None:
    """Raise the client-facing error for a database ``exc``; return if there is none."""
    if isinstance(exc, Exception):
        found = to_http_error(exc)
        if found is not None:
            raise found from exc


__all__ = ["async_session_provider", "database_error", "sync_session_provider"]
