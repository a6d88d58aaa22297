"""The database battery: SQLAlchemy 2 models and sessions for each request.

::

    from satchel import App
    from satchel.db import AsyncSession, Database, Model

    db = Database("sqlite:///app.db")
    app = App(database=db)

    @app.get("/posts/{id:int}")
    async def show(id: int, session: AsyncSession) -> dict:
        post = await get_or_404(session, Post, id)
        return {"title": post.title}

``Session`` and ``AsyncSession`` are SQLAlchemy's own classes: annotate a
handler parameter with one and it gets a session for the request, committed
when the handler returns and rolled back when it raises. See docs/database.md.
"""

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from satchel.db.database import Database
from satchel.db.errors import DatabaseUnavailable, DataRejected, IntegrityConflict, is_retryable
from satchel.db.model import NAMING_CONVENTION, Model, TimestampMixin
from satchel.db.pagination import KeysetPage, Page, get_or_404, keyset_paginate, paginate
from satchel.db.retry import retry_on_conflict
from satchel.db.sessions import LazyLoadError
from satchel.db.types import UTCDateTime

__all__ = [
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
]
