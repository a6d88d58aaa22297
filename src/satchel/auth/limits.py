"""Brute-force limits for the login and password-reset views.

Every login attempt counts against two keys before the password is checked: the
case-folded username (so one account can't be guessed at quickly from many addresses)
and the client address (so one address can't try many accounts). A successful login
resets the username's count; the address's count runs out on its own. A reset request
counts against the client address and the address typed, so a mailbox can't be
flooded. Refusals are ``429`` with ``Retry-After`` and look the same whether or not
the account exists (the keys are what was typed, not what was found).

The counts live in a :class:`~satchel.auth.throttle.ThrottleStore`: memory (one
process; the default) or Redis (``throttle_store="redis"``, at ``settings.redis_url``),
which ``satchel serve --workers N`` and several hosts share.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

from satchel.auth.normalize import LOOKUP_MAX_LENGTH
from satchel.auth.throttle import MemoryThrottleStore, Throttle, ThrottleStore
from satchel.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class LoginLimits:
    """How many attempts are allowed, per what, in how many seconds."""

    #: Login attempts per username in ``window`` seconds.
    per_user: int = 5
    #: Login attempts per client address in ``window`` seconds.
    per_address: int = 50
    window: float = 300
    #: Once over a limit, refuse for this many seconds from then (``None``: till the
    #: window ends).
    lockout: float | None = None
    #: Password-reset requests per client address, and per address typed, in ``reset_window``.
    reset_per_address: int = 10
    reset_per_email: int = 3
    reset_window: float = 3600


def client_address(request: Any) -> str:
    """Return the client's address (the proxy-reported one when the proxy is trusted)."""
    state = request._state
    forwarded = getattr(state, "forwarded_client", None) if state is not None else None
    if forwarded:
        return str(forwarded[0])
    peer = request.client_addr
    return str(peer[0]) if peer else "unknown"


def throttle_key(text: str) -> str:
    """Return ``text`` as a throttle key: itself, or a digest when it is very long."""
    if len(text) <= LOOKUP_MAX_LENGTH:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class LoginThrottle:
    """The throttles of one app, over a store made on first use.

    ``store`` is ``"memory"``, ``"redis"`` (a client on ``redis_url``, one per event
    loop: its connections belong to the loop that opened them) or a store object.
    """

    def __init__(
        self,
        store: str | ThrottleStore,
        limits: LoginLimits,
        redis_url: str,
        redis_prefix: str = "satchel:throttle:",
    ) -> None:
        if isinstance(store, str) and store not in ("memory", "redis"):
            raise ImproperlyConfigured(
                f"throttle_store must be 'memory', 'redis' or a ThrottleStore, not {store!r}"
            )
        self.limits = limits
        self._kind = store
        self._redis_url = redis_url
        self._redis_prefix = redis_prefix
        self._stores: dict[Any, Any] = {}
        if isinstance(store, str) and store == "memory":
            self._fixed: ThrottleStore | None = MemoryThrottleStore()
        elif isinstance(store, str):
            self._fixed = None
        else:
            self._fixed = store

    @property
    def kind(self) -> str:
        """``"memory"``, ``"redis"``, or ``"custom"`` for a store object given."""
        return self._kind if isinstance(self._kind, str) else "custom"

    @property
    def store(self) -> ThrottleStore:
        """The store for the running event loop."""
        if self._fixed is not None:
            return self._fixed
        loop = asyncio.get_running_loop()
        found = self._stores.get(loop)
        if found is None:
            # Imported here: redis is the optional "redis" extra.
            from satchel.auth.throttle import RedisThrottleStore

            for old in [old for old in self._stores if old.is_closed()]:
                del self._stores[old]
            found = self._stores[loop] = RedisThrottleStore(
                self._redis_url, prefix=self._redis_prefix
            )
        return found

    def _throttle(self, scope: str, limit: int, window: float) -> Throttle:
        return Throttle(
            self.store, scope=scope, limit=limit, window=window, lockout=self.limits.lockout
        )

    async def login_attempt(self, user_key: str, address: str) -> int | None:
        """Count a login attempt; return seconds to wait when refused, else ``None``."""
        limits = self.limits
        user = await self._throttle("login-user", limits.per_user, limits.window).hit(
            throttle_key(user_key)
        )
        addr = await self._throttle("login-addr", limits.per_address, limits.window).hit(address)
        if user.allowed and addr.allowed:
            return None
        return max(user.retry_after, addr.retry_after)

    async def login_succeeded(self, user_key: str) -> None:
        """Forget the username's attempts (never the address's)."""
        limits = self.limits
        await self._throttle("login-user", limits.per_user, limits.window).reset(
            throttle_key(user_key)
        )

    async def reset_attempt(self, email_key: str, address: str) -> int | None:
        """Count a password-reset request; return seconds to wait when refused."""
        limits = self.limits
        by_addr = await self._throttle(
            "reset-addr", limits.reset_per_address, limits.reset_window
        ).hit(address)
        by_mail = await self._throttle(
            "reset-mail", limits.reset_per_email, limits.reset_window
        ).hit(throttle_key(email_key))
        if by_addr.allowed and by_mail.allowed:
            return None
        return max(by_addr.retry_after, by_mail.retry_after)

    async def aclose(self) -> None:
        """Close the Redis client of the running loop, if one was made."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - always called from a coroutine
            return
        store = self._stores.pop(loop, None)
        if store is not None:
            await store.aclose()


__all__ = ["LoginLimits", "LoginThrottle", "client_address", "throttle_key"]
