"""Find N+1 queries: one request running the same SELECT shape over and over.

On in debug mode. Every SELECT a request sends is reduced to its shape (the
SQL with literals and ``IN`` lists blanked out) and counted. When a shape runs
more than ``n_plus_one_threshold`` times, the request is reported: a warning in
the ``satchel.db`` log and an ``X-Satchel-N-Plus-One`` response header, naming
the statement and the line of *your* code that ran it.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
import sysconfig
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import sqlalchemy

import satchel

logger = logging.getLogger("satchel.db")

HEADER = "X-Satchel-N-Plus-One"

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w$.])-?\d+(?:\.\d+)?\b")
_IN_LIST = re.compile(r"\bIN\s*\((?:[^()]|\([^()]*\))*\)", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

#: Frames from these directories are library code, never "the line that issued it".
_LIBRARY_DIRS = tuple(
    os.path.dirname(os.path.abspath(path)) + os.sep
    for path in (sqlalchemy.__file__, satchel.__file__)
    if path
) + tuple(
    {os.path.abspath(sysconfig.get_paths()[key]) + os.sep for key in ("stdlib", "platstdlib")}
)

_current: contextvars.ContextVar[QueryCounter | None] = contextvars.ContextVar(
    "satchel_query_counter", default=None
)


def shape(statement: str) -> str:
    """Return ``statement`` with literals and ``IN`` lists blanked, whitespace squeezed."""
    text = _STRING.sub("?", statement)
    text = _IN_LIST.sub("IN (...)", text)
    text = _NUMBER.sub("?", text)
    return _SPACE.sub(" ", text).strip()


@dataclass
class Offender:
    """A SELECT shape a request ran too often, and where it was first run too often."""

    shape: str
    count: int
    location: str


@dataclass
class QueryCounter:
    """SELECT shapes counted for one request."""

    threshold: int
    counts: dict[str, int] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)

    def record(self, statement: str) -> None:
        """Count one statement; remember where the shape first went over the threshold."""
        head = statement.lstrip()[:6].upper()
        if head != "SELECT" and not head.startswith("WITH"):
            return
        key = _shape_cached(statement)
        count = self.counts.get(key, 0) + 1
        self.counts[key] = count
        if count == self.threshold + 1:
            self.locations[key] = caller_location()

    def offenders(self) -> list[Offender]:
        """Return the shapes that ran more than the threshold, most frequent first."""
        found = [
            Offender(key, count, self.locations.get(key, "?"))
            for key, count in self.counts.items()
            if count > self.threshold
        ]
        return sorted(found, key=lambda offender: -offender.count)


_SHAPES: dict[str, str] = {}


def _shape_cached(statement: str) -> str:
    # SQLAlchemy reuses compiled SQL strings, so most lookups hit; the cap keeps a
    # stream of literal-laden statements from growing the dict without end.
    found = _SHAPES.get(statement)
    if found is None:
        found = shape(statement)
        if len(_SHAPES) < 2048:
            _SHAPES[statement] = found
    return found


def caller_location() -> str:
    """Return ``file:line`` of the innermost frame outside SQLAlchemy, Satchel and stdlib."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        found = _user_frame(frame)
        if found is not None:
            return found
        frame = _parent_greenlet_frame(frame)
    return "?"


def _user_frame(frame: FrameType | None) -> str | None:
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_LIBRARY_DIRS) and not filename.startswith("<"):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _parent_greenlet_frame(frame: FrameType) -> FrameType | None:
    # Async sessions run their sync work in a greenlet whose stack stops at the
    # greenlet's start; the awaiting code is on the parent greenlet's stack.
    greenlet = sys.modules.get("greenlet")
    if greenlet is None:
        return None
    current = greenlet.getcurrent()
    parent = getattr(current, "parent", None)
    return getattr(parent, "gr_frame", None) if parent is not None else None


def before_cursor_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    """Engine event: count the statement for the current request, if one is being watched."""
    counter = _current.get()
    if counter is not None:
        counter.record(statement)


def start(threshold: int) -> tuple[QueryCounter, contextvars.Token[QueryCounter | None]]:
    """Start counting for the current request."""
    counter = QueryCounter(threshold)
    return counter, _current.set(counter)


def stop(token: contextvars.Token[QueryCounter | None]) -> None:
    """Stop counting for the current request."""
    _current.reset(token)


def describe(offender: Offender) -> str:
    """Return one line for logs and headers: count, statement, location."""
    statement = offender.shape if len(offender.shape) <= 200 else offender.shape[:197] + "..."
    return f'{offender.count}x "{statement}" at {offender.location}'


def middleware(threshold: Callable[[], int]) -> Callable[..., Awaitable[Any]]:
    """Return the typed middleware that watches each request (installed in debug mode)."""

    async def detect_n_plus_one(request: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
        counter, token = start(threshold())
        try:
            response = await call_next(request)
        finally:
            stop(token)
        offenders = counter.offenders()
        if offenders:
            lines = [describe(offender) for offender in offenders]
            logger.warning(
                "N+1 queries in %s %s: %s", request.method, request.path, "; ".join(lines)
            )
            header = lines[0] + (f" (+{len(lines) - 1} more)" if len(lines) > 1 else "")
            response.headers[HEADER] = _header_safe(header)
        return response

    return detect_n_plus_one


def _header_safe(text: str) -> str:
    cleaned = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    return cleaned[:1000]


__all__ = [
    "HEADER",
    "Offender",
    "QueryCounter",
    "before_cursor_execute",
    "caller_location",
    "describe",
    "middleware",
    "shape",
    "start",
    "stop",
]
