"""The session: a dict that remembers whether it was read, changed, or must get a new key."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any


class Session(MutableMapping[str, Any]):
    """The data a site keeps for one visitor between requests, as a ``dict``.

    Values must be JSON types (``str``, numbers, ``bool``, ``None``, lists and dicts
    with string keys): every store keeps JSON, never pickle, so a leaked or forged
    payload cannot run code. A tuple comes back as a list.

    The store reads three flags after the response is made: :attr:`accessed` (add
    ``Vary: Cookie``), :attr:`modified` (write the session), and whether
    :meth:`cycle_key` was called. Changing a nested value in place (``session["cart"]
    .append(x)``) is not seen: assign it again, or set ``session.modified = True``.
    """

    __slots__ = (
        "_data",
        "_flashes",
        "accessed",
        "cycled",
        "had_cookie",
        "is_new",
        "issued_at",
        "key",
        "modified",
        "renew",
    )

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        issued_at: float | None = None,
        had_cookie: bool = False,
    ) -> None:
        self._data: dict[str, Any] = data if data is not None else {}
        self._flashes: list[tuple[str, str]] | None = None
        #: The store's identifier for this session (server-side stores), else ``None``.
        self.key = key
        #: When the cookie that carried this session was signed (epoch seconds).
        self.issued_at = issued_at
        #: Whether the request brought no valid session (absent, tampered or expired).
        self.is_new = issued_at is None
        #: Whether the request carried a session cookie at all (valid or not).
        self.had_cookie = had_cookie
        #: Whether the application read or wrote the session in this request.
        self.accessed = False
        #: Whether the session must be written back.
        self.modified = False
        #: Whether the session must be stored under a new key (login, logout).
        self.cycled = False
        #: Whether the cookie must be re-issued even if unchanged (key rotation, age).
        self.renew = False

    # -- the mapping -----------------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        self.accessed = True
        return self._data[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self.accessed = self.modified = True
        self._data[name] = value

    def __delitem__(self, name: str) -> None:
        self.accessed = self.modified = True
        del self._data[name]

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return iter(self._data)

    def __len__(self) -> int:
        self.accessed = True
        return len(self._data)

    def __contains__(self, name: object) -> bool:
        self.accessed = True
        return name in self._data

    def get(self, name: str, default: Any = None) -> Any:
        """Return the value for ``name``, or ``default`` when it is not set."""
        self.accessed = True
        return self._data.get(name, default)

    def clear(self) -> None:
        """Remove every value (the store then deletes the session)."""
        self.accessed = self.modified = True
        self._data.clear()

    # -- lifecycle -------------------------------------------------------------------

    def cycle_key(self) -> None:
        """Keep the data under a new key: call it when a user logs in.

        A server-side store deletes the old row and stores the data under a fresh
        random key, so a session id planted before login (session fixation) is
        worthless after it. The cookie store re-signs and re-issues the cookie.
        """
        self.accessed = self.modified = self.cycled = True

    def invalidate(self) -> None:
        """Forget everything and drop the key: call it when a user logs out.

        The stored session is deleted and the cookie removed; anything stored
        after this in the same request starts a new session under a new key.
        """
        self.clear()
        self.cycled = True

    def to_dict(self) -> dict[str, Any]:
        """Return a shallow copy of the data (what the store will write)."""
        self.accessed = True
        return dict(self._data)

    @property
    def data(self) -> dict[str, Any]:
        """The data itself, for stores: reading it does not count as an access."""
        return self._data

    def __repr__(self) -> str:
        flags = [
            name for name in ("is_new", "accessed", "modified", "cycled") if getattr(self, name)
        ]
        return f"<Session {sorted(self._data)} {' '.join(flags)}>".replace(" >", ">")


__all__ = ["Session"]
