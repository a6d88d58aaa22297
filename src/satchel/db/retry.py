"""Run a transaction again when the database aborted it for a transient reason."""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from sqlalchemy import exc as sa_exc

from satchel.db.errors import is_retryable

T = TypeVar("T")

logger = logging.getLogger("satchel.db")


@overload
def retry_on_conflict(
    fn: Callable[[], Awaitable[T]], attempts: int = 3, *, session: Any = None, delay: float = 0.02
) -> Awaitable[T]: ...


@overload
def retry_on_conflict(
    fn: Callable[[], T], attempts: int = 3, *, session: Any = None, delay: float = 0.02
) -> T: ...


def retry_on_conflict(
    fn: Callable[[], Any], attempts: int = 3, *, session: Any = None, delay: float = 0.02
) -> Any:
    """Call ``fn()`` and call it again (up to ``attempts`` times in all) on a transient abort.

    Retried: serialization failures and deadlocks (SQLSTATE 40001/40P01,
    MySQL 1213 and lock wait timeout 1205) and a busy SQLite database. Any
    other error, or the last attempt's, propagates. ``fn`` must run the *whole*
    transaction, commit included, because the database has thrown its work
    away. When ``fn`` uses an existing session, pass it as ``session`` and it is
    rolled back before each new attempt. ``fn`` may be async: then await the
    result. Waits ``delay`` seconds, doubled each time, with jitter, in between.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    if inspect.iscoroutinefunction(fn):
        return _retry_async(fn, attempts, session, delay)
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except sa_exc.DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            _log(exc, attempt, attempts)
        if session is not None:
            session.rollback()
        time.sleep(_pause(delay, attempt))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


async def _retry_async(
    fn: Callable[[], Awaitable[T]], attempts: int, session: Any, delay: float
) -> T:
    for attempt in range(1, attempts + 1):
        try:
            return await fn()
        except sa_exc.DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            _log(exc, attempt, attempts)
        if session is not None:
            await session.rollback()
        await asyncio.sleep(_pause(delay, attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def _pause(delay: float, attempt: int) -> float:
    # Jitter keeps two transactions that deadlocked each other from retrying in step.
    return delay * 2.0 ** (attempt - 1) * (0.5 + random.random())


def _log(exc: BaseException, attempt: int, attempts: int) -> None:
    orig = getattr(exc, "orig", exc)
    logger.info("transaction aborted (%s), attempt %d of %d; retrying", orig, attempt, attempts)


__all__ = ["retry_on_conflict"]
