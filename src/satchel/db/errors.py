"""Database errors a client may see, and how driver errors map to them.

Driver errors come in many shapes (psycopg, asyncpg, PyMySQL, asyncmy, sqlite3).
:func:`to_http_error` sorts them into the few cases a web app must answer:

* a unique, foreign-key, not-null or check violation -> :class:`IntegrityConflict` (409);
* a value the database refuses (a number out of range, a string too long, a NUL
  character in PostgreSQL text) -> :class:`DataRejected` (400);
* the database is down, unreachable, out of connections, or too busy (locks,
  deadlocks, serialization failures, timeouts) -> :class:`DatabaseUnavailable` (503).

Anything else is a programming error and stays a 500. The messages sent to the
client name no table, constraint or value; the log gets the driver's own text.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import exc as sa_exc

from satchel.exceptions import BadRequest, Conflict, ServiceUnavailable

logger = logging.getLogger("satchel.db")

# PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_PG_UNIQUE, _PG_FOREIGN_KEY, _PG_NOT_NULL, _PG_CHECK = "23505", "23503", "23502", "23514"
#: Transient: a retry of the whole transaction may succeed.
_PG_RETRYABLE = frozenset({"40001", "40P01"})
#: Classes and codes that mean "the server cannot serve you right now".
_PG_UNAVAILABLE_CLASSES = ("08", "53", "57P")
_PG_UNAVAILABLE_CODES = frozenset({"55P03", "57014", "40001", "40P01"})

# MySQL/MariaDB error numbers.
_MY_UNIQUE = frozenset({1062, 1586})
_MY_FOREIGN_KEY = frozenset({1216, 1217, 1451, 1452})
_MY_NOT_NULL = frozenset({1048, 1364})
_MY_CHECK = frozenset({3819, 4025})
_MY_RETRYABLE = frozenset({1213, 1205})
#: Out of range, too long, wrong string or date value, division by zero.
_MY_BAD_VALUE = frozenset({1264, 1292, 1365, 1366, 1406, 1690})
_MY_UNAVAILABLE = frozenset(
    {1040, 1053, 1205, 1213, 1927, 2002, 2003, 2005, 2006, 2013, 2055, 3024, 4031}
)

# SQLite primary result codes (https://www.sqlite.org/rescode.html).
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_SQLITE_UNAVAILABLE = frozenset(
    {_SQLITE_BUSY, _SQLITE_LOCKED, 10, 13, 14}
)  # + IOERR, FULL, CANTOPEN

#: Marks a driver error raised while opening a connection (set by the engines' connect hook).
CONNECT_FAILED = "_satchel_connect_failed"


class IntegrityConflict(Conflict):
    """409: the change breaks a unique, foreign-key, not-null or check constraint.

    ``kind`` is ``"unique"``, ``"foreign_key"``, ``"not_null"``, ``"check"`` or
    ``"integrity"`` (the database did not say); the driver's error is the
    ``__cause__``. Register ``@app.error_handler(IntegrityConflict)`` to answer
    differently (a 400, a form with an error message).
    """

    _DETAILS = {
        "unique": "A record with the same unique value already exists.",
        "foreign_key": "The change refers to a record that does not exist, "
        "or removes one that other records still refer to.",
        "not_null": "A required value is missing.",
        "check": "A value is outside what the data allows.",
        "integrity": "The change conflicts with the data already stored.",
    }

    def __init__(self, kind: str = "integrity", detail: str | None = None) -> None:
        self.kind = kind if kind in self._DETAILS else "integrity"
        super().__init__(detail or self._DETAILS[self.kind])

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON body: status, detail and the kind of conflict."""
        return {**super().to_dict(), "conflict": self.kind}


class DataRejected(BadRequest):
    """400: the database refused a value (out of range, too long, malformed)."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(
            detail or "A value was rejected by the database (out of range, too long, or malformed)."
        )


class DatabaseUnavailable(ServiceUnavailable):
    """503: the database cannot serve the request now (down, unreachable, or too busy).

    Carries ``Retry-After``; the driver's error is the ``__cause__`` (and is logged).
    """

    def __init__(self, detail: str | None = None, retry_after: int = 5) -> None:
        super().__init__(
            detail or "The database is unavailable right now. Please try again shortly.",
            {"Retry-After": str(retry_after)},
        )


def sqlstate(error: BaseException) -> str | None:
    """Return the PostgreSQL SQLSTATE of a (wrapped) driver error, if it has one.

    MySQL drivers carry a SQLSTATE too, but a coarse one: their error number
    (:func:`mysql_errno`) says more and is checked first.
    """
    if mysql_errno(error) is not None:
        return None
    orig = getattr(error, "orig", error)
    for name in ("sqlstate", "pgcode"):
        value = getattr(orig, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def mysql_errno(error: BaseException) -> int | None:
    """Return the MySQL/MariaDB error number of a (wrapped) driver error, if any."""
    orig = getattr(error, "orig", error)
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return args[0]
    return None


def sqlite_code(error: BaseException) -> int | None:
    """Return the primary SQLite result code of a (wrapped) sqlite3 error, if any."""
    orig = getattr(error, "orig", error)
    code = getattr(orig, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def integrity_kind(error: BaseException) -> str | None:
    """Return which kind of constraint ``error`` reports breaking, or ``None`` if none.

    Looks at the error codes, not the class: MariaDB reports a failed CHECK as
    an ``OperationalError``, asyncpg some violations as a bare ``DBAPIError``.
    """
    errno = mysql_errno(error)
    if errno is not None:
        for codes, kind in (
            (_MY_UNIQUE, "unique"),
            (_MY_FOREIGN_KEY, "foreign_key"),
            (_MY_NOT_NULL, "not_null"),
            (_MY_CHECK, "check"),
        ):
            if errno in codes:
                return kind
        return "integrity" if isinstance(error, sa_exc.IntegrityError) else None
    state = sqlstate(error)
    if state is not None:
        kinds = {
            _PG_UNIQUE: "unique",
            _PG_FOREIGN_KEY: "foreign_key",
            _PG_NOT_NULL: "not_null",
            _PG_CHECK: "check",
        }
        return kinds.get(state, "integrity" if state.startswith("23") else None)
    if not isinstance(error, sa_exc.IntegrityError):
        return None
    text = str(getattr(error, "orig", error)).upper()
    for marker, kind in (
        ("UNIQUE CONSTRAINT", "unique"),
        ("PRIMARY KEY", "unique"),
        ("FOREIGN KEY", "foreign_key"),
        ("NOT NULL", "not_null"),
        ("CHECK CONSTRAINT", "check"),
    ):
        if marker in text:
            return kind
    return "integrity"


def is_bad_value(error: BaseException) -> bool:
    """Return whether the database refused a value (SQLSTATE class 22, MySQL's equivalents)."""
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    errno = mysql_errno(error)
    if errno is not None:
        return errno in _MY_BAD_VALUE
    state = sqlstate(error)
    if state is not None:
        return state.startswith("22")
    return isinstance(error, sa_exc.DataError)


def is_retryable(error: BaseException) -> bool:
    """Return whether ``error`` is a serialization failure, deadlock or busy database.

    Those end the transaction through no fault of the code; running the whole
    transaction again usually succeeds.
    """
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    errno = mysql_errno(error)
    if errno is not None:
        return errno in _MY_RETRYABLE
    state = sqlstate(error)
    if state is not None:
        return state in _PG_RETRYABLE
    return sqlite_code(error) in (_SQLITE_BUSY, _SQLITE_LOCKED)


def is_unavailable(error: BaseException) -> bool:
    """Return whether ``error`` means the database cannot serve requests right now."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated or getattr(error.orig, CONNECT_FAILED, False):
        return True
    errno = mysql_errno(error)
    if errno is not None:
        return errno in _MY_UNAVAILABLE
    state = sqlstate(error)
    if state is not None:
        return state in _PG_UNAVAILABLE_CODES or state.startswith(_PG_UNAVAILABLE_CLASSES)
    if isinstance(error, sa_exc.IntegrityError):
        return False
    return sqlite_code(error) in _SQLITE_UNAVAILABLE


def to_http_error(
    error: BaseException,
) -> IntegrityConflict | DataRejected | DatabaseUnavailable | None:
    """Return the client-facing error for a database ``error``, or ``None`` if it is a bug."""
    if not isinstance(error, (sa_exc.DBAPIError, sa_exc.TimeoutError)):
        return None
    kind = integrity_kind(error) if isinstance(error, sa_exc.DBAPIError) else None
    if kind is not None:
        return IntegrityConflict(kind)
    if is_bad_value(error):
        logger.info("database refused a value: %s", getattr(error, "orig", error))
        return DataRejected()
    if is_unavailable(error):
        orig = getattr(error, "orig", None) or error
        logger.warning("database unavailable: %s: %s", type(orig).__name__, orig)
        return DatabaseUnavailable(retry_after=1 if is_retryable(error) else 5)
    return None


__all__ = [
    "CONNECT_FAILED",
    "DataRejected",
    "DatabaseUnavailable",
    "IntegrityConflict",
    "integrity_kind",
    "is_bad_value",
    "is_retryable",
    "is_unavailable",
    "mysql_errno",
    "sqlite_code",
    "sqlstate",
    "to_http_error",
]
