"""The public surface of `satchel.db` is pinned: a change here is a deliberate API change."""

import sqlalchemy.ext.asyncio
import sqlalchemy.orm

import satchel.db

EXPECTED = {
    "NAMING_CONVENTION",
    "AsyncSession",
    "DataRejected",
    "Database",
    "DatabaseUnavailable",
    "IntegrityConflict",
    "KeysetPage",
    "LazyLoadError",
    "Model",
    "Page",
    "Session",
    "TimestampMixin",
    "UTCDateTime",
    "get_or_404",
    "is_retryable",
    "keyset_paginate",
    "paginate",
    "retry_on_conflict",
}


def test_exported_names():
    assert set(satchel.db.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(satchel.db, name) is not None


def test_session_types_are_sqlalchemys_own():
    """Handlers annotate with these; a user importing them from SQLAlchemy gets the same."""
    assert satchel.db.AsyncSession is sqlalchemy.ext.asyncio.AsyncSession
    assert satchel.db.Session is sqlalchemy.orm.Session


def test_http_errors_are_http_exceptions():
    from satchel.exceptions import HTTPException

    for name in ("DataRejected", "DatabaseUnavailable", "IntegrityConflict"):
        error = getattr(satchel.db, name)()
        assert isinstance(error, HTTPException)
    statuses = [satchel.db.IntegrityConflict.status_code, satchel.db.DataRejected.status_code]
    assert statuses == [409, 400]
