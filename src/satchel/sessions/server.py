"""What the server-side stores share: a signed random key in the cookie, data on the server.

The cookie holds only a random 32-byte key, signed and timestamped; the store
keeps the SHA-256 of the key (a leaked table or Redis dump cannot be replayed as
cookies) with the JSON data and an expiry. Nothing is stored for a visitor until
the application puts something in the session.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from satchel.exceptions import ImproperlyConfigured
from satchel.sessions.session import Session
from satchel.sessions.store import MAX_INCOMING_COOKIE, SESSION_JSON_HINT, SessionStore

if TYPE_CHECKING:
    from satchel.http.request import Request
    from satchel.http.response import Response

logger = logging.getLogger("satchel.sessions")


def hash_key(key: str) -> str:
    """Return what the store keeps for session ``key``: its SHA-256, in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """Return a fresh random session key (32 random bytes, URL-safe text)."""
    return secrets.token_urlsafe(32)


def dump_data(data: dict[str, Any]) -> bytes:
    """Return the session data as JSON bytes, with a clear error for non-JSON values."""
    try:
        return orjson.dumps(data)
    except TypeError as exc:  # orjson's JSONEncodeError is a TypeError
        raise TypeError(f"{SESSION_JSON_HINT} ({exc})") from exc


def load_data(payload: bytes | str | None) -> dict[str, Any] | None:
    """Return the stored JSON as a dict, or ``None`` when it is missing or not a dict."""
    if payload is None:
        return None
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


class ServerSideStore(SessionStore):
    """Base of the stores that keep session data on the server (database, Redis).

    Subclasses implement :meth:`fetch`, :meth:`insert`, :meth:`update` and
    :meth:`delete`, each given the hashed key.
    """

    preloads: ClassVar[bool] = True

    # -- storage, by hashed key ----------------------------------------------------------

    async def fetch(self, hashed: str) -> dict[str, Any] | None:
        """Return the unexpired data stored under ``hashed``, or ``None``."""
        raise NotImplementedError

    async def insert(self, hashed: str, payload: bytes) -> None:
        """Store a new session that expires ``max_age`` seconds from now."""
        raise NotImplementedError

    async def update(self, hashed: str, payload: bytes) -> bool:
        """Rewrite an unexpired session and push its expiry; ``False`` if it is gone."""
        raise NotImplementedError

    async def delete(self, hashed: str) -> None:
        """Delete the session stored under ``hashed`` (no error if there is none)."""
        raise NotImplementedError

    # -- the session's life in a request -------------------------------------------------

    def load(self, request: Request) -> Session:
        """Return a new empty session (the middleware already fetched any stored one)."""
        if request.cookies.get(self.cookie.name):
            raise ImproperlyConfigured(
                "this request did not pass through the sessions middleware (a WebSocket?), "
                "so its server-side session was not fetched: "
                "`await satchel.sessions.load_session(request)` first"
            )
        return Session()

    async def preload(self, request: Request, raw: str) -> Session:
        """Fetch the session whose signed key is the cookie value ``raw``."""
        found = self.unsign_key(raw) if len(raw) <= MAX_INCOMING_COOKIE else None
        if found is None:
            return Session(had_cookie=True)
        key, signed_at, old_secret = found
        data = await self.fetch(hash_key(key))
        if data is None:
            return Session(had_cookie=True)  # expired, cleared, or logged out elsewhere
        session = Session(data, key=key, issued_at=signed_at, had_cookie=True)
        session.renew = old_secret
        return session

    async def save(self, request: Request, response: Response, session: Session) -> None:
        """Write the session under its key (a new one if cycled) and set the cookie."""
        key = session.key
        if session.cycled and key is not None:
            await self.delete(hash_key(key))
            key = session.key = None
        data = session.data
        if not data:
            if key is not None:
                await self.delete(hash_key(key))
                session.key = None
            if session.had_cookie:
                self.delete_cookie(response)
            return
        payload = dump_data(data)
        if key is None:
            key = new_key()
            await self.insert(hash_key(key), payload)
        elif not await self.update(hash_key(key), payload):
            # Deleted while this request ran (a logout in another tab, or expiry):
            # writing it back would undo the logout, so the changes are dropped.
            logger.info("session vanished during the request; changes not saved")
            session.key = None
            self.delete_cookie(response)
            return
        session.key = key
        self.set_cookie(response, self.sign_key(key))


__all__ = ["ServerSideStore", "dump_data", "hash_key", "load_data", "new_key"]
