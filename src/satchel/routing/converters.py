"""Path converters: the ``int`` in ``/users/{id:int}``.

A converter says which text a path segment may hold (``regex``), turns that text
into a value (``convert``, raising ``ValueError`` for "no match") and turns a value
back into text for URL building (``to_url``).
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Any, ClassVar


class Converter:
    """Base class for path converters; subclass it for your own.

    ``priority`` orders converters that could match the same segment: lower is
    tried first, so ``/items/{id:int}`` wins over ``/items/{name}`` for ``/items/3``.
    """

    regex: ClassVar[str] = "[^/]+"
    priority: ClassVar[int] = 50
    #: Whether the value may span several segments (only ``path`` does).
    spans_segments: ClassVar[bool] = False
    #: The Python type ``convert`` returns (used to check handler annotations).
    type: ClassVar[Any] = str

    def convert(self, value: str) -> Any:
        """Return the value for path text ``value``; raise ``ValueError`` if it doesn't fit."""
        return value

    def to_url(self, value: Any) -> str:
        """Return ``value`` as path text (before percent-encoding)."""
        return str(value)

    @property
    def key(self) -> tuple[str, str]:
        """Identify what this converter matches, to detect routes that can't be told apart."""
        return (type(self).__qualname__, self.regex)


class StringConverter(Converter):
    """Any text without a slash (the default)."""

    priority = 90

    def convert(self, value: str) -> str:
        """Return ``value``; an empty segment never matches."""
        if not value:
            raise ValueError("empty")
        return value


class IntConverter(Converter):
    """A non-negative decimal integer (``0``, ``42``; not ``-1`` or ``1.0``)."""

    regex = "[0-9]+"
    priority = 10
    type = int
    #: Longer digit strings do not match: bounded work, no huge ints from URLs.
    max_digits: ClassVar[int] = 19

    def convert(self, value: str) -> int:
        """Return the int; non-digits or more than ``max_digits`` digits don't match."""
        if not value.isdigit() or not value.isascii() or len(value) > self.max_digits:
            raise ValueError(value)
        return int(value)

    def to_url(self, value: Any) -> str:
        """Return the decimal text of an int."""
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"expected a non-negative int, got {value!r}")
        return str(value)


class FloatConverter(Converter):
    """A finite decimal number (``1.5``, ``2``)."""

    regex = r"[0-9]+(?:\.[0-9]+)?"
    priority = 20
    type = float

    def convert(self, value: str) -> float:
        """Return the float; digits with an optional fraction, finite."""
        if len(value) > 64 or not value.isascii():
            raise ValueError(value)
        result = float(value)
        if not math.isfinite(result) or not value.replace(".", "", 1).isdigit():
            raise ValueError(value)
        return result

    def to_url(self, value: Any) -> str:
        """Return the text of a finite, non-negative number."""
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"expected a finite non-negative number, got {value!r}")
        return repr(number) if not number.is_integer() else str(int(number))


class UUIDConverter(Converter):
    """A UUID in its canonical 8-4-4-4-12 hex form."""

    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    priority = 5
    type = uuid.UUID

    def convert(self, value: str) -> uuid.UUID:
        """Return the ``uuid.UUID``."""
        if len(value) != 36:
            raise ValueError(value)
        return uuid.UUID(value)

    def to_url(self, value: Any) -> str:
        """Return the canonical text of a UUID (or of a UUID string)."""
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


class SlugConverter(Converter):
    """ASCII letters, digits, hyphens and underscores."""

    regex = "[-a-zA-Z0-9_]+"
    priority = 30
    _pattern: ClassVar[re.Pattern[str]] = re.compile(regex)

    def convert(self, value: str) -> str:
        """Return the slug; anything else doesn't match."""
        if not self._pattern.fullmatch(value):
            raise ValueError(value)
        return value


class PathConverter(Converter):
    """The rest of the path, slashes included (must be the last part of a route)."""

    regex = ".*"
    priority = 100
    spans_segments = True

    def convert(self, value: str) -> str:
        """Return the remaining path."""
        return value


#: Converters every app knows, by the name used in route templates.
DEFAULT_CONVERTERS: dict[str, Converter] = {
    "str": StringConverter(),
    "int": IntConverter(),
    "float": FloatConverter(),
    "uuid": UUIDConverter(),
    "slug": SlugConverter(),
    "path": PathConverter(),
}

__all__ = [
    "DEFAULT_CONVERTERS",
    "Converter",
    "FloatConverter",
    "IntConverter",
    "PathConverter",
    "SlugConverter",
    "StringConverter",
    "UUIDConverter",
]
