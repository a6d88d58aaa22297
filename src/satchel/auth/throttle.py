"""Throttle repeated attempts (logins) per key: a memory store or a shared Redis store.

::

    per_user = Throttle(store, scope="login-user", limit=5, window=300)
    per_addr = Throttle(store, scope="login-addr", limit=50, window=300)
    user_hit = await per_user.hit(username)      # the normalised username
    addr_hit = await per_addr.hit(client_address)
    if not (user_hit.allowed and addr_hit.allowed):
        ...  # 429 with Retry-After: max(user_hit.retry_after, addr_hit.retry_after)
    ...  # check the password; on success: await per_user.reset(username)

Counting is a fixed window: the first hit opens a window of ``window`` seconds; hits
after the ``limit``-th are refused until it closes. With ``lockout`` set, going over the
limit instead locks the key for ``lockout`` seconds from that moment. Count every
attempt, not only failures, and reset the per-user key on success; don't reset the
per-address key (or one attacker's own account would reset their address's count).

``MemoryThrottleStore`` is for one process: it tracks at most ``max_keys`` keys and
forgets the least recently hit one beyond that, so a flood of distinct keys costs bounded
memory (and can only make the store forget keys, which the per-address throttle covers).
``RedisThrottleStore`` shares counts across processes and hosts: each hit is one atomic
Lua script (INCR, and PEXPIRE when the window opens or the lockout starts). Keys are
stored as ``<prefix><sha256 of scope and key>``, so no username lands in Redis.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis


class ThrottleResult(NamedTuple):
    """The answer to one hit: allowed or not, and seconds to wait when not."""

    allowed: bool
    retry_after: int
    hits: int = 0


class ThrottleStore(Protocol):
    """Where hit counts live."""

    async def hit(
        self, key: str, window: float, limit: int, lockout: float | None
    ) -> tuple[int, float]:
        """Count a hit on ``key``; return the count and the seconds until it resets."""
        ...

    async def reset(self, key: str) -> None:
        """Forget ``key``."""
        ...


class MemoryThrottleStore:
    """Counts in this process's memory, at most ``max_keys`` of them."""

    def __init__(
        self, *, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be positive, got {max_keys}")
        self.max_keys = max_keys
        self._clock = clock
        self._entries: OrderedDict[str, list[float]] = OrderedDict()  # key -> [count, expires]
        self._lock = threading.Lock()  # also usable from sync code in threads

    def __len__(self) -> int:
        return len(self._entries)

    async def hit(
        self, key: str, window: float, limit: int, lockout: float | None
    ) -> tuple[int, float]:
        """Count a hit; the least recently hit key goes when the store is full."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[1] <= now:
                entry = [1, now + window]
                self._entries[key] = entry
                while len(self._entries) > self.max_keys:
                    self._entries.popitem(last=False)
            else:
                entry[0] += 1
                if lockout is not None and entry[0] == limit + 1:
                    entry[1] = now + lockout
            self._entries.move_to_end(key)
            return int(entry[0]), entry[1] - now

    async def reset(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._entries.pop(key, None)


# KEYS[1]: counter. ARGV: window ms, limit, lockout ms ("" for none).
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
elseif ARGV[3] ~= '' and count == tonumber(ARGV[2]) + 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  ttl = tonumber(ARGV[3])
end
return {count, ttl}
"""


class RedisThrottleStore:
    """Counts in Redis, shared by every process that uses the same server and prefix.

    Pass a ``redis.asyncio.Redis`` client, or a URL to make one (closed by ``aclose``).
    """

    def __init__(self, redis: Redis | str, *, prefix: str = "satchel:throttle:") -> None:
        if isinstance(redis, str):
            # Imported here: redis is the optional "redis" extra, needed only for this store.
            from redis.asyncio import from_url

            self.client: Redis = from_url(redis)
            self._owns_client = True
        else:
            self.client = redis
            self._owns_client = False
        self.prefix = prefix
        self._script = self.client.register_script(_HIT_SCRIPT)

    def _key(self, key: str) -> str:
        return self.prefix + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    async def hit(
        self, key: str, window: float, limit: int, lockout: float | None
    ) -> tuple[int, float]:
        """Count a hit atomically on the server."""
        lockout_ms = "" if lockout is None else max(1, int(lockout * 1000))
        args = [max(1, int(window * 1000)), limit, lockout_ms]
        count, ttl_ms = await self._script(keys=[self._key(key)], args=args)
        return int(count), int(ttl_ms) / 1000

    async def reset(self, key: str) -> None:
        """Forget ``key``."""
        await self.client.delete(self._key(key))

    async def aclose(self) -> None:
        """Close the client if this store made it."""
        if self._owns_client:
            await self.client.aclose()


class Throttle:
    """Allow ``limit`` hits per key in ``window`` seconds, then refuse with a wait time."""

    def __init__(
        self,
        store: ThrottleStore,
        *,
        limit: int = 5,
        window: float = 300,
        lockout: float | None = None,
        scope: str = "login",
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if window <= 0 or (lockout is not None and lockout <= 0):
            raise ValueError("window and lockout must be positive numbers of seconds")
        self.store, self.limit, self.window, self.lockout = store, limit, window, lockout
        self.scope = scope

    def _key(self, key: str) -> str:
        return f"{self.scope}\0{key}"

    async def hit(self, key: str) -> ThrottleResult:
        """Count an attempt for ``key`` and say whether it may go ahead."""
        count, ttl = await self.store.hit(self._key(key), self.window, self.limit, self.lockout)
        if count <= self.limit:
            return ThrottleResult(True, 0, count)
        return ThrottleResult(False, max(1, math.ceil(ttl)), count)

    async def reset(self, key: str) -> None:
        """Forget the attempts for ``key`` (after a successful login)."""
        await self.store.reset(self._key(key))


__all__ = [
    "MemoryThrottleStore",
    "RedisThrottleStore",
    "Throttle",
    "ThrottleResult",
    "ThrottleStore",
]
