"""Small containers the request hands out: multi-dicts, addresses, state and uploads.

Everything here is plain data with no parsing; :mod:`satchel.http.url` and
:mod:`satchel.http.forms` fill these from the wire.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, Generic, NamedTuple, TypeVar, overload

from satchel.http.headers import Headers

_V = TypeVar("_V")

#: Bytes an upload keeps in memory before it is moved to a temporary file on disk.
DEFAULT_SPOOL_MAX_SIZE = 1024 * 1024


class MultiDict(Mapping[str, _V], Generic[_V]):
    """A read-only mapping where a key may carry several values, in arrival order.

    ``md[key]`` and ``md.get(key)`` return the *first* value (as :class:`Headers`
    does); :meth:`getall` returns every value. Iteration yields each key once.
    """

    __slots__ = ("_dict", "_list")

    def __init__(self, items: Mapping[str, _V] | Iterable[tuple[str, _V]] | None = None) -> None:
        if items is None:
            pairs: list[tuple[str, _V]] = []
        elif isinstance(items, MultiDict):
            pairs = items.multi_items()
        elif isinstance(items, Mapping):
            pairs = list(items.items())
        else:
            pairs = [(k, v) for k, v in items]
        first: dict[str, _V] = {}
        for k, v in pairs:
            if k not in first:
                first[k] = v
        self._list = pairs
        self._dict = first

    @classmethod
    def _wrap(cls, pairs: list[tuple[str, _V]], first: dict[str, _V]) -> Any:
        """Adopt already-built storage without copying (parsers use this on the hot path)."""
        self = cls.__new__(cls)
        self._list = pairs
        self._dict = first
        return self

    def __getitem__(self, key: str) -> _V:
        return self._dict[key]

    @overload
    def get(self, key: str) -> _V | None: ...
    @overload
    def get(self, key: str, default: _V) -> _V: ...
    @overload
    def get(self, key: str, default: Any) -> Any: ...
    def get(self, key: str, default: Any = None) -> Any:
        """Return the first value of ``key``, or ``default`` when it is absent."""
        return self._dict.get(key, default)

    def getall(self, key: str) -> list[_V]:
        """Return every value of ``key`` in arrival order (an empty list when absent)."""
        if key not in self._dict:
            return []
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, _V]]:
        """Return every ``(key, value)`` pair, repeated keys included, in arrival order."""
        return list(self._list)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MultiDict):
            return NotImplemented
        # Order between different keys carries no meaning; order within one key does.
        return self._grouped() == other._grouped()

    __hash__ = None  # type: ignore[assignment]

    def _grouped(self) -> dict[str, list[_V]]:
        grouped: dict[str, list[_V]] = {}
        for k, v in self._list:
            grouped.setdefault(k, []).append(v)
        return grouped

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class QueryParams(MultiDict[str]):
    """The decoded parameters of a query string."""

    __slots__ = ()


class Address(NamedTuple):
    """A network peer or local socket: ``host`` and ``port``."""

    host: str
    port: int


class State:
    """An attribute namespace for values shared along one request or one app.

    ``state.user = u`` stores a value, ``state.user`` reads it back; ``state["user"]``
    and ``"user" in state`` work too. Reading a name never set raises
    ``AttributeError`` (or ``KeyError`` for ``[]``) with a hint on how to set it.
    """

    __slots__ = ("_dict",)

    _dict: dict[str, Any]

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_dict", dict(values) if values else {})

    def __getattr__(self, name: str) -> Any:
        if name == "_dict":
            # Reached only before __init__ ran (e.g. mid-unpickling); avoid recursing.
            raise AttributeError(name)
        try:
            return self._dict[name]
        except KeyError:
            raise AttributeError(
                f"State has no attribute {name!r}; set it first "
                f"(state.{name} = ...), usually in a middleware or provider, "
                f"or read it with getattr(state, {name!r}, default)"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._dict[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self._dict[name]
        except KeyError:
            raise AttributeError(f"State has no attribute {name!r} to delete") from None

    def __getitem__(self, name: str) -> Any:
        return self._dict[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self._dict[name] = value

    def __delitem__(self, name: str) -> None:
        del self._dict[name]

    def __contains__(self, name: object) -> bool:
        return name in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def get(self, name: str, default: Any = None) -> Any:
        """Return the value stored under ``name``, or ``default``."""
        return self._dict.get(name, default)

    def __reduce__(self) -> tuple[type[State], tuple[dict[str, Any]]]:
        # Rebuild through __init__: the default slot-copying path would go through
        # our __setattr__ before ``_dict`` exists.
        return (State, (dict(self._dict),))

    def __repr__(self) -> str:
        return f"State({self._dict!r})"


def _upload_json_schema(schema: Any, handler: Any) -> dict[str, Any]:
    return {"type": "string", "format": "binary"}


class UploadFile:
    """A file uploaded in a multipart form.

    The content lives in a :class:`tempfile.SpooledTemporaryFile`: in memory up to
    ``spool_max_size`` bytes, then on disk. The async methods move disk work off
    the event loop; ``file`` gives the underlying binary file for sync code.
    ``filename`` is what the client claims; never use it as a path unchecked.
    """

    __slots__ = ("content_type", "file", "filename", "headers", "size")

    def __init__(
        self,
        file: IO[bytes] | None = None,
        *,
        filename: str | None = None,
        content_type: str = "application/octet-stream",
        headers: Headers | None = None,
        size: int = 0,
        spool_max_size: int = DEFAULT_SPOOL_MAX_SIZE,
    ) -> None:
        if file is None:
            file = tempfile.SpooledTemporaryFile(max_size=spool_max_size)  # noqa: SIM115 - owned by self
        self.file: IO[bytes] = file
        self.filename = filename
        self.content_type = content_type
        self.headers = headers if headers is not None else Headers()
        self.size = size

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """Let pydantic models and schemas hold uploads (a binary string in JSON Schema)."""
        from pydantic_core import core_schema  # only models that hold uploads need this

        return core_schema.is_instance_schema(
            cls,
            metadata={"pydantic_js_functions": [_upload_json_schema]},
        )

    @property
    def in_memory(self) -> bool:
        """Whether the content is still held in memory (not yet spooled to disk)."""
        # Only SpooledTemporaryFile can be in memory; any other file is treated as on disk.
        rolled = getattr(self.file, "_rolled", True)
        return not rolled

    async def write(self, data: bytes) -> None:
        """Append ``data`` at the current position and count it in ``size``."""
        self.size += len(data)
        if self.in_memory:
            self.file.write(data)
        else:
            await asyncio.to_thread(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all remaining bytes when ``size`` is negative)."""
        if self.in_memory:
            return self.file.read(size)
        return await asyncio.to_thread(self.file.read, size)

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the read/write position; return the new absolute position."""
        if self.in_memory:
            return self.file.seek(offset, whence)
        return await asyncio.to_thread(self.file.seek, offset, whence)

    async def close(self) -> None:
        """Close the file, deleting its temporary file on disk if there is one."""
        if self.in_memory:
            self.file.close()
        else:
            await asyncio.to_thread(self.file.close)

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, content_type={self.content_type!r}, "
            f"size={self.size})"
        )


class FormData(MultiDict[str | UploadFile]):
    """Parsed form fields: text values as ``str``, uploads as :class:`UploadFile`."""

    __slots__ = ()

    async def close(self) -> None:
        """Close every upload in the form; safe to call more than once."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.close()


__all__ = [
    "DEFAULT_SPOOL_MAX_SIZE",
    "Address",
    "FormData",
    "MultiDict",
    "QueryParams",
    "State",
    "UploadFile",
]
