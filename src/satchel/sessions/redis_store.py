"""The Redis store: one key per session, expired by Redis itself (``satchel[redis]``).

Keys are ``<session_redis_prefix><sha256 of the session key>`` holding the JSON
data, with a TTL of ``session_max_age``. New sessions are written with ``NX`` and
existing ones with ``XX``, so a session deleted by a logout in another tab is
never written back by a request that was still running.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING, Any

from satchel.exceptions import ImproperlyConfigured
from satchel.sessions.server import ServerSideStore, load_data

try:
    import redis.asyncio as aioredis
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImproperlyConfigured(
        "session_store='redis' needs the redis package: pip install 'satchel[redis]'"
    ) from exc

if TYPE_CHECKING:
    from satchel.config import Settings


class RedisStore(ServerSideStore):
    """Keep sessions in Redis (``session_store="redis"``, at ``redis_url``).

    Pass ``client`` to share a ``redis.asyncio.Redis`` you already have; otherwise
    the store opens one per event loop (a Redis connection belongs to the loop
    that opened it) and closes it when the app shuts down.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        client: aioredis.Redis | None = None,
        debug: bool | None = None,
    ) -> None:
        super().__init__(settings, debug=debug)
        self.url = settings.redis_url
        self.prefix = settings.session_redis_prefix
        self._client = client
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def client(self) -> aioredis.Redis:
        """The Redis client for the running event loop."""
        if self._client is not None:
            return self._client
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = aioredis.Redis.from_url(self.url)
        return client

    async def fetch(self, hashed: str) -> dict[str, Any] | None:
        """Return the data stored under ``hashed`` (Redis drops expired keys)."""
        payload: bytes | str | None = await self.client.get(self.prefix + hashed)
        return load_data(payload)

    async def insert(self, hashed: str, payload: bytes) -> None:
        """Store a new session with a TTL of ``max_age``."""
        await self.client.set(self.prefix + hashed, payload, ex=self.max_age, nx=True)

    async def update(self, hashed: str, payload: bytes) -> bool:
        """Rewrite an existing session and reset its TTL; ``False`` if it is gone."""
        done = await self.client.set(self.prefix + hashed, payload, ex=self.max_age, xx=True)
        return bool(done)

    async def delete(self, hashed: str) -> None:
        """Delete the session stored under ``hashed``."""
        await self.client.delete(self.prefix + hashed)

    async def clear_expired(self) -> int:
        """Return 0: Redis deletes expired sessions itself, when their TTL runs out."""
        return 0

    async def close(self) -> None:
        """Close the client this store opened on the running loop."""
        if self._client is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose()


__all__ = ["RedisStore"]
