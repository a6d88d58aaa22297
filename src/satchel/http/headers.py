"""Case-insensitive, multi-valued HTTP headers.

Names are stored lower-cased; values keep their case. Request headers are decoded
lazily from the server's raw form; response headers are validated as they are set,
so a CR, LF or NUL can never split a response.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

HeaderItems = Iterable[tuple[str, str]] | Mapping[str, str]


def check_header(name: str, value: str) -> None:
    """Raise ``ValueError`` unless ``name`` is a token and ``value`` has no control characters."""
    if not _TOKEN.match(name):
        raise ValueError(f"invalid header name {name!r}")
    if _BAD_VALUE.search(value):
        raise ValueError(f"header {name!r} has a control character (CR, LF or NUL) in its value")


class Headers(Mapping[str, str]):
    """A read-only, case-insensitive multi-dict of headers.

    ``headers["Accept"]`` is the first value; :meth:`getall` returns every value.
    """

    __slots__ = ("_items",)

    def __init__(self, items: HeaderItems | None = None) -> None:
        if items is None:
            self._items: list[tuple[str, str]] = []
        elif isinstance(items, Mapping):
            self._items = [(k.lower(), v) for k, v in items.items()]
        else:
            self._items = [(k.lower(), v) for k, v in items]

    @classmethod
    def from_raw(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        """Build from ASGI's ``[(b"name", b"value"), ...]`` (names already lower-case)."""
        self = cls.__new__(cls)
        self._items = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw]
        return self

    @classmethod
    def _wrap(cls, items: list[tuple[str, str]]) -> Headers:
        """Wrap an already-normalised list without copying (internal use)."""
        self = cls.__new__(cls)
        self._items = items
        return self

    def __getitem__(self, name: str) -> str:
        name = name.lower()
        for k, v in self._items:
            if k == name:
                return v
        raise KeyError(name)

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    @overload
    def get(self, name: str, default: Any) -> Any: ...
    def get(self, name: str, default: Any = None) -> Any:
        """Return the first value of ``name``, or ``default``."""
        name = name.lower()
        for k, v in self._items:
            if k == name:
                return v
        return default

    def getall(self, name: str) -> list[str]:
        """Return every value of ``name`` in order (empty list when absent)."""
        name = name.lower()
        return [v for k, v in self._items if k == name]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        name = name.lower()
        return any(k == name for k, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for k, _ in self._items:
            if k not in seen:
                seen.add(k)
                yield k

    def __len__(self) -> int:
        return len({k for k, _ in self._items})

    def multi_items(self) -> list[tuple[str, str]]:
        """Return every ``(name, value)`` pair, repeated names included."""
        return list(self._items)

    def raw(self) -> list[tuple[bytes, bytes]]:
        """Return the headers encoded for ASGI."""
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self._items]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return sorted(self._items) == sorted(other._items)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"


class MutableHeaders(Headers):
    """Response headers: settable, and refusing names or values that could split a response."""

    __slots__ = ()

    def __init__(self, items: HeaderItems | None = None) -> None:
        super().__init__(items)
        for k, v in self._items:
            check_header(k, v)

    def __setitem__(self, name: str, value: str) -> None:
        """Set ``name`` to ``value``, replacing every earlier value."""
        check_header(name, value)
        name = name.lower()
        self._items[:] = [(k, v) for k, v in self._items if k != name]
        self._items.append((name, value))

    def __delitem__(self, name: str) -> None:
        name = name.lower()
        self._items[:] = [(k, v) for k, v in self._items if k != name]

    def add(self, name: str, value: str) -> None:
        """Append a value for ``name``, keeping earlier ones (``Set-Cookie``, ``Vary``)."""
        check_header(name, value)
        self._items.append((name.lower(), value))

    def setdefault(self, name: str, value: str) -> str:
        """Set ``name`` unless present; return its (first) value."""
        existing = self.get(name)
        if existing is not None:
            return existing
        self.add(name, value)
        return value

    def update(self, other: HeaderItems) -> None:
        """Set every header of ``other``, replacing values of the same name."""
        items = other.items() if isinstance(other, Mapping) else other
        for k, v in items:
            self[k] = v

    def add_vary(self, *names: str) -> None:
        """Add ``names`` to the ``Vary`` header, once each."""
        current = [v.strip() for v in ",".join(self.getall("vary")).split(",") if v.strip()]
        lowered = {v.lower() for v in current}
        for name in names:
            if name.lower() not in lowered:
                current.append(name)
                lowered.add(name.lower())
        self["vary"] = ", ".join(current)


__all__ = ["Headers", "MutableHeaders", "check_header"]
