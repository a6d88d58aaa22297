"""Fetch helpers for handlers: ``get_or_404`` and two kinds of pagination.

Each works with a sync ``Session`` (returns the value) and an ``AsyncSession``
(returns an awaitable)::

    post = await get_or_404(session, Post, id)          # async handler
    page = paginate(session, select(Post).order_by(Post.id), page=2)   # sync handler

``paginate`` numbers pages (``LIMIT``/``OFFSET``; fine until tens of thousands
of rows); ``keyset_paginate`` continues after the last row seen (``WHERE id >
:after``), which stays fast on any table size.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from satchel.exceptions import NotFound, ValidationError

T = TypeVar("T")

#: The largest ``per_page`` a client may ask for unless the call allows more.
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results, numbered from 1."""

    items: list[T]
    page: int
    per_page: int
    #: Rows in all pages, or ``None`` when counting was turned off.
    total: int | None
    has_next: bool

    @property
    def has_prev(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1

    @property
    def pages(self) -> int | None:
        """Number of pages (at least 1), or ``None`` when the total is unknown."""
        if self.total is None:
            return None
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def next_page(self) -> int | None:
        """The next page's number, or ``None`` on the last page."""
        return self.page + 1 if self.has_next else None

    @property
    def prev_page(self) -> int | None:
        """The previous page's number, or ``None`` on the first page."""
        return self.page - 1 if self.has_prev else None

    def to_dict(self) -> dict[str, Any]:
        """Return the page's numbers (not its items) for a JSON response."""
        return {
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
            "pages": self.pages,
            "next_page": self.next_page,
            "prev_page": self.prev_page,
        }


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    """One page of results continuing after a key; ``next_after`` fetches the next one."""

    items: list[T]
    per_page: int
    has_next: bool
    #: Pass as ``after=`` for the next page (``None`` on the last page).
    next_after: Any


def _check(page: int | None, per_page: int, max_per_page: int) -> None:
    errors = []
    if page is not None and (not isinstance(page, int) or page < 1):
        errors.append(
            {"loc": ["query", "page"], "msg": "Page must be 1 or more", "type": "greater_than"}
        )
    if not isinstance(per_page, int) or not 1 <= per_page <= max_per_page:
        errors.append(
            {
                "loc": ["query", "per_page"],
                "msg": f"per_page must be between 1 and {max_per_page}",
                "type": "range",
            }
        )
    if errors:
        raise ValidationError(errors)


def _single_entity(stmt: Select[Any]) -> bool:
    descriptions = stmt.column_descriptions
    return (
        len(descriptions) == 1
        and descriptions[0].get("entity") is not None
        and (descriptions[0].get("expr") is descriptions[0].get("entity"))
    )


def _rows(result: Any, entity: bool, scalar: bool) -> list[Any]:
    if entity:
        # unique(): joined eager loads of collections repeat the parent row.
        return list(result.unique().scalars().all())
    return list(result.scalars().all() if scalar else result.all())


# -- get_or_404 -----------------------------------------------------------------------


@overload
def get_or_404(session: AsyncSession, model: type[T], ident: Any, **kw: Any) -> Awaitable[T]: ...


@overload
def get_or_404(session: Session, model: type[T], ident: Any, **kw: Any) -> T: ...


def get_or_404(session: Any, model: type[T], ident: Any, **kw: Any) -> Any:
    """Return the ``model`` row with primary key ``ident``, or raise ``NotFound`` (404).

    ``kw`` goes to ``session.get`` (``options=[selectinload(...)]``, ``with_for_update``).
    """
    if isinstance(session, AsyncSession):
        return _aget_or_404(session, model, ident, kw)
    found = session.get(model, ident, **kw)
    if found is None:
        raise NotFound(f"{model.__name__} not found")
    return found


async def _aget_or_404(session: AsyncSession, model: type[T], ident: Any, kw: Any) -> T:
    found = await session.get(model, ident, **kw)
    if found is None:
        raise NotFound(f"{model.__name__} not found")
    return found


# -- numbered pages -------------------------------------------------------------------


@overload
def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    page: int = 1,
    per_page: int = 20,
    count: bool = True,
    max_per_page: int = MAX_PER_PAGE,
) -> Awaitable[Page[Any]]: ...


@overload
def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    page: int = 1,
    per_page: int = 20,
    count: bool = True,
    max_per_page: int = MAX_PER_PAGE,
) -> Page[Any]: ...


def paginate(
    session: Any,
    stmt: Select[Any],
    *,
    page: int = 1,
    per_page: int = 20,
    count: bool = True,
    max_per_page: int = MAX_PER_PAGE,
) -> Any:
    """Return page ``page`` of ``stmt``'s results, ``per_page`` rows to a page.

    ``stmt`` should have an ``ORDER BY`` (pages of an unordered query may overlap).
    A single-entity select gives model instances, otherwise rows. ``count=False``
    skips the ``COUNT(*)`` query (``total`` and ``pages`` are then ``None``).
    A ``page`` below 1 or a ``per_page`` outside 1..``max_per_page`` raises a 422
    naming the query parameter.
    """
    _check(page, per_page, max_per_page)
    query = stmt.limit(per_page + 1).offset((page - 1) * per_page)
    counter = select(func.count()).select_from(stmt.order_by(None).subquery()) if count else None
    entity, scalar = _single_entity(stmt), len(stmt.column_descriptions) == 1
    if isinstance(session, AsyncSession):
        return _apaginate(session, query, counter, page, per_page, entity, scalar)
    rows = _rows(session.execute(query), entity, scalar)
    total = session.execute(counter).scalar_one() if counter is not None else None
    return Page(rows[:per_page], page, per_page, total, len(rows) > per_page)


async def _apaginate(
    session: AsyncSession,
    query: Select[Any],
    counter: Select[Any] | None,
    page: int,
    per_page: int,
    entity: bool,
    scalar: bool,
) -> Page[Any]:
    rows = _rows(await session.execute(query), entity, scalar)
    total = (await session.execute(counter)).scalar_one() if counter is not None else None
    return Page(rows[:per_page], page, per_page, total, len(rows) > per_page)


# -- keyset pages ---------------------------------------------------------------------


@overload
def keyset_paginate(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    order_by: Any,
    after: Any = None,
    per_page: int = 20,
    descending: bool = False,
    max_per_page: int = MAX_PER_PAGE,
) -> Awaitable[KeysetPage[Any]]: ...


@overload
def keyset_paginate(
    session: Session,
    stmt: Select[Any],
    *,
    order_by: Any,
    after: Any = None,
    per_page: int = 20,
    descending: bool = False,
    max_per_page: int = MAX_PER_PAGE,
) -> KeysetPage[Any]: ...


def keyset_paginate(
    session: Any,
    stmt: Select[Any],
    *,
    order_by: Any,
    after: Any = None,
    per_page: int = 20,
    descending: bool = False,
    max_per_page: int = MAX_PER_PAGE,
) -> Any:
    """Return up to ``per_page`` rows of ``stmt`` that come after ``after`` in ``order_by``.

    ``order_by`` is a column, or a sequence of columns, whose values are unique
    together (end with the primary key: ``(Post.created_at, Post.id)``); the
    statement's own ordering is replaced by it. ``after`` is the previous
    page's ``next_after`` (a value, or a tuple for several columns); ``None``
    starts at the beginning. Reads only the rows it returns, however deep.
    """
    _check(None, per_page, max_per_page)
    columns: Sequence[Any] = list(order_by) if isinstance(order_by, (list, tuple)) else [order_by]
    if not columns:
        raise ValueError("keyset_paginate needs at least one order_by column")
    query = stmt.order_by(None).order_by(*[c.desc() if descending else c for c in columns])
    if after is not None:
        values = list(after) if len(columns) > 1 else [after]
        if len(values) != len(columns):
            raise ValidationError(
                [{"loc": ["query", "after"], "msg": "Malformed page cursor", "type": "value_error"}]
            )
        key = tuple_(*columns) if len(columns) > 1 else columns[0]
        bound = tuple_(*values) if len(columns) > 1 else values[0]
        query = query.where(key < bound if descending else key > bound)
    query = query.limit(per_page + 1)
    entity, scalar = _single_entity(stmt), len(stmt.column_descriptions) == 1
    if isinstance(session, AsyncSession):
        return _akeyset(session, query, columns, per_page, entity, scalar)
    rows = _rows(session.execute(query), entity, scalar)
    return _keyset_page(rows, columns, per_page, entity)


async def _akeyset(
    session: AsyncSession,
    query: Select[Any],
    columns: Sequence[Any],
    per_page: int,
    entity: bool,
    scalar: bool,
) -> KeysetPage[Any]:
    rows = _rows(await session.execute(query), entity, scalar)
    return _keyset_page(rows, columns, per_page, entity)


def _keyset_page(
    rows: list[Any], columns: Sequence[Any], per_page: int, entity: bool
) -> KeysetPage[Any]:
    has_next = len(rows) > per_page
    items = rows[:per_page]
    next_after = None
    if has_next:
        last = items[-1]
        values = [_value(last, column, entity) for column in columns]
        next_after = tuple(values) if len(values) > 1 else values[0]
    return KeysetPage(items, per_page, has_next, next_after)


def _value(item: Any, column: Any, entity: bool) -> Any:
    if entity:
        return getattr(item, column.key)
    mapping = getattr(item, "_mapping", None)
    if mapping is not None:
        return mapping[column]
    return item  # a single-column select: the item is the value


__all__ = ["MAX_PER_PAGE", "KeysetPage", "Page", "get_or_404", "keyset_paginate", "paginate"]
