"""Build the sync and async engines for one database URL.

One URL names the database; the drivers follow from it: SQLite uses sqlite3
and aiosqlite, PostgreSQL psycopg and asyncpg, MariaDB/MySQL PyMySQL and
asyncmy. Every engine turns any failure to connect into a driver
``OperationalError`` marked as such (asyncpg raises a bare ``OSError``), so the
request layer can answer 503 for all of them alike.

Pooled connections are pinged before use when they sat idle for
``database_pool_pre_ping`` seconds (default 1), so the pool heals after the
database restarts. SQLAlchemy's own ``pool_pre_ping`` pings on *every*
checkout, which on asyncpg is three round trips (BEGIN, a query, ROLLBACK) on
top of the request's own -- more than the query itself. A connection used a
moment ago is almost surely alive; if it is not, the failed query invalidates
the whole pool (a 503 for that request) and the next request reconnects.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from satchel.db.errors import CONNECT_FAILED
from satchel.exceptions import ImproperlyConfigured

_SYNC_DRIVERS = {
    "sqlite": "pysqlite",
    "postgresql": "psycopg",
    "mysql": "pymysql",
    "mariadb": "pymysql",
    "oracle": "oracledb",
}
_ASYNC_DRIVERS = {
    "sqlite": "aiosqlite",
    "postgresql": "asyncpg",
    "mysql": "asyncmy",
    "mariadb": "asyncmy",
    "oracle": "oracledb_async",
}
_ASYNC_ONLY = frozenset({"aiosqlite", "asyncpg", "asyncmy", "aiomysql", "psycopg_async"})
_EXTRAS = {"psycopg": "postgres", "asyncpg": "postgres", "pymysql": "mysql", "asyncmy": "mysql"}

#: Seconds a SQLite connection waits for another writer's lock before "database is locked".
SQLITE_BUSY_TIMEOUT = 5.0


def parse_url(url: str | URL) -> URL:
    """Return ``url`` as a SQLAlchemy URL, with ``postgres://`` read as ``postgresql://``."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ImproperlyConfigured(f"invalid database URL: {exc}") from None
    if parsed.drivername.split("+")[0] == "postgres":  # Heroku-style URLs
        parsed = parsed.set(drivername="postgresql" + parsed.drivername[len("postgres") :])
    return parsed


def is_memory_sqlite(url: URL) -> bool:
    """Return whether ``url`` is an in-memory SQLite database."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def resolve_url(url: URL, root_path: str | None) -> URL:
    """Return ``url`` ready to connect: SQLite paths made absolute, memory made shareable.

    A relative SQLite file lives in ``root_path`` (the project). An in-memory
    database becomes a named shared-cache one, so the sync and async engines
    (two drivers, two connections) see the same tables.
    """
    if url.get_backend_name() != "sqlite":
        return url
    if is_memory_sqlite(url):
        query = {**url.query, "mode": "memory", "cache": "shared", "uri": "true"}
        return url.set(database=f"file:satchel-{uuid.uuid4().hex}", query=query)
    database = url.database or ""
    if database.startswith("file:") or os.path.isabs(database):
        return url
    base = root_path if root_path is not None else os.getcwd()
    return url.set(database=os.path.join(base, database))


def driver_url(url: URL, *, is_async: bool) -> URL:
    """Return ``url`` with the sync or async driver for its database."""
    backend = url.get_backend_name()
    driver = url.get_driver_name() if "+" in url.drivername else None
    if driver is not None and (driver in _ASYNC_ONLY) == is_async:
        return url
    table = _ASYNC_DRIVERS if is_async else _SYNC_DRIVERS
    if backend not in table:
        if driver is None:
            return url
        raise ImproperlyConfigured(
            f"no {'async' if is_async else 'sync'} driver known for {url.drivername!r}: "
            f"use one of {', '.join(sorted(table))}"
        )
    return url.set(drivername=f"{backend}+{table[backend]}")


def engine_options(
    url: URL, settings: Any, *, is_async: bool, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return ``create_engine`` keyword arguments for ``url`` from the settings."""
    backend = url.get_backend_name()
    driver = url.get_driver_name()
    ping_after = settings.database_pool_pre_ping
    options: dict[str, Any] = {"pool_pre_ping": ping_after == 0, "echo": settings.database_echo}
    connect_args: dict[str, Any] = {}
    timeout = settings.database_connect_timeout
    if backend == "sqlite":
        connect_args["timeout"] = SQLITE_BUSY_TIMEOUT
        if url.query.get("mode") == "memory":
            # One connection per engine keeps the shared in-memory database alive.
            options["poolclass"] = StaticPool
            connect_args["check_same_thread"] = False
    elif driver == "asyncpg":
        connect_args["timeout"] = timeout
    elif driver in ("psycopg", "pymysql", "asyncmy"):
        connect_args["connect_timeout"] = max(1, round(timeout))
    if "poolclass" not in options:
        options["pool_size"] = settings.database_pool_size
        options["max_overflow"] = settings.database_max_overflow
        options["pool_timeout"] = settings.database_pool_timeout
        if settings.database_pool_recycle >= 0:
            options["pool_recycle"] = settings.database_pool_recycle
    if backend in ("mysql", "mariadb") and "charset" not in url.query:
        connect_args["charset"] = "utf8mb4"
    options["connect_args"] = connect_args
    if extra:
        merged_args = {**connect_args, **dict(extra.get("connect_args", {}))}
        options.update(extra)
        options["connect_args"] = merged_args
    return options


def create_sync(url: URL, options: dict[str, Any], ping_after: float = -1) -> Engine:
    """Create the sync engine for ``url`` (a driver URL) with Satchel's connection hooks."""
    try:
        engine = create_engine(url, **options)
    except ImportError as exc:
        raise _missing_driver(url, exc) from exc
    install_hooks(engine, ping_after)
    return engine


def create_async(url: URL, options: dict[str, Any], ping_after: float = -1) -> AsyncEngine:
    """Create the async engine for ``url`` (a driver URL) with Satchel's connection hooks."""
    try:
        engine = create_async_engine(url, **options)
    except ImportError as exc:
        raise _missing_driver(url, exc) from exc
    install_hooks(engine.sync_engine, ping_after)
    return engine


def _missing_driver(url: URL, exc: ImportError) -> ImproperlyConfigured:
    driver = url.get_driver_name()
    extra = _EXTRAS.get(driver)
    hint = f"pip install 'satchel[{extra}]'" if extra else f"install the {driver} package"
    return ImproperlyConfigured(f"the database driver {driver!r} is not installed ({exc}): {hint}")


def install_hooks(engine: Engine, ping_after: float = -1) -> None:
    """Add Satchel's connection hooks to ``engine`` (sync, or an async one's ``sync_engine``).

    ``ping_after`` > 0 pings connections idle that long at checkout (0 is left to
    SQLAlchemy's ``pool_pre_ping``; below 0, never).
    """
    event.listen(engine, "do_connect", _connect)
    if ping_after > 0:
        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", _idle_pinger(engine.dialect, ping_after))
    if engine.dialect.name == "sqlite":
        memory = engine.url.query.get("mode") == "memory"
        event.listen(engine, "connect", _sqlite_on_connect_memory if memory else _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin)


def _connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
    """Open a DBAPI connection, turning any failure into a marked ``OperationalError``."""
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as exc:
        dbapi = dialect.loaded_dbapi
        if isinstance(exc, dbapi.Error):
            try:
                setattr(exc, CONNECT_FAILED, True)
            except AttributeError:  # an error class with __slots__: wrap it instead
                pass
            else:
                raise
        wrapped = dbapi.OperationalError(f"could not connect: {type(exc).__name__}: {exc}")
        setattr(wrapped, CONNECT_FAILED, True)
        raise wrapped from exc


_LAST_CHECKIN = "satchel_last_checkin"


def _note_checkin(dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_LAST_CHECKIN] = time.monotonic()


def _idle_pinger(dialect: Any, ping_after: float) -> Any:
    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        last = record.info.get(_LAST_CHECKIN)
        if last is None or time.monotonic() - last < ping_after:
            return  # new, or used a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            dbapi = dialect.loaded_dbapi
            if isinstance(exc, dbapi.Error) and dialect.is_disconnect(exc, dbapi_connection, None):
                # The pool drops every connection older than this one and connects anew.
                raise InvalidatePoolError(f"connection found dead on checkout: {exc}") from exc
            raise

    return ping_if_idle


def _sqlite_setup(dbapi_connection: Any, pragmas: tuple[str, ...]) -> None:
    # SQLAlchemy emits BEGIN itself (see _sqlite_begin): sqlite3's own transaction
    # handling skips BEGIN before SELECT, SAVEPOINT and DDL, which breaks
    # savepoints and makes migrations non-transactional.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in pragmas:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_on_connect(dbapi_connection: Any, record: Any) -> None:
    _sqlite_setup(
        dbapi_connection,
        (
            "PRAGMA foreign_keys=ON",
            "PRAGMA journal_mode=WAL",  # readers don't block the writer, nor it them
            "PRAGMA synchronous=NORMAL",  # durable enough under WAL, much faster commits
        ),
    )


def _sqlite_on_connect_memory(dbapi_connection: Any, record: Any) -> None:
    _sqlite_setup(dbapi_connection, ("PRAGMA foreign_keys=ON",))


_BEGIN_MODES = {"DEFERRED": "BEGIN", "IMMEDIATE": "BEGIN IMMEDIATE", "EXCLUSIVE": "BEGIN EXCLUSIVE"}


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front (waiting up to the busy timeout for
    # it). A deferred transaction that reads and then writes fails at once with
    # "database is locked" when another connection wrote in between: SQLite
    # cannot upgrade a stale read snapshot, and the busy timeout does not apply.
    # The ``sqlite_begin`` execution option picks another mode (for read-only work).
    mode = str(connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")).upper()
    statement = _BEGIN_MODES.get(mode)
    if statement is None:
        raise ImproperlyConfigured(f"sqlite_begin must be one of {sorted(_BEGIN_MODES)}")
    connection.exec_driver_sql(statement)


__all__ = [
    "SQLITE_BUSY_TIMEOUT",
    "create_async",
    "create_sync",
    "driver_url",
    "engine_options",
    "install_hooks",
    "is_memory_sqlite",
    "parse_url",
    "resolve_url",
]
