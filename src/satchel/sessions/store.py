"""What every session store shares: the cookie, signing with key rotation, when to write.

A store has two jobs: :meth:`SessionStore.load` turns a request into a
:class:`~satchel.sessions.Session`, and :meth:`SessionStore.finish` (run by the
sessions middleware after the handler, only when the session was touched) adds
``Vary: Cookie`` and writes the session back when it changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from satchel.exceptions import ImproperlyConfigured
from satchel.http.cookies import SameSite
from satchel.sessions.session import Session

if TYPE_CHECKING:
    from satchel.config import Settings
    from satchel.http.request import Request
    from satchel.http.response import Response
    from satchel.sessions.signing import Signing

logger = logging.getLogger("satchel.sessions")

#: Browsers drop a cookie whose name and value pass this many bytes.
MAX_COOKIE_SIZE = 4096

#: A cookie longer than this is not even verified (no work for a flood of junk).
MAX_INCOMING_COOKIE = 8192

SESSION_JSON_HINT = (
    "the session holds a value that is not JSON: store str, int, float, bool, None, "
    "and lists or dicts (with str keys) of those"
)


class SessionCookieTooLarge(ImproperlyConfigured):
    """The session does not fit in a cookie: store less, or use a server-side store."""


@dataclass(frozen=True, slots=True)
class CookieOptions:
    """How the session cookie is set, decided once from the settings."""

    name: str
    max_age: int
    secure: bool | None
    samesite: SameSite
    domain: str | None
    path: str = "/"

    @classmethod
    def from_settings(cls, settings: Settings) -> CookieOptions:
        """Return the cookie options, refusing combinations browsers would reject."""
        name = settings.session_cookie_name
        secure = settings.session_cookie_secure
        domain = settings.session_cookie_domain or None
        if settings.session_cookie_host_prefix:
            # A __Host- cookie is dropped by browsers unless it is Secure, for "/",
            # with no Domain: exactly what makes it immune to subdomain tampering.
            if secure is False:
                raise ImproperlyConfigured(
                    "session_cookie_host_prefix needs Secure cookies: remove "
                    "session_cookie_secure=False (the prefix only works over https)"
                )
            if domain is not None:
                raise ImproperlyConfigured(
                    "session_cookie_host_prefix forbids a Domain: remove session_cookie_domain"
                )
            name = "__Host-" + name
            secure = True
        if settings.session_cookie_samesite == "none" and secure is False:
            raise ImproperlyConfigured(
                "session_cookie_samesite='none' needs Secure cookies: browsers drop the cookie "
                "otherwise (remove session_cookie_secure=False)"
            )
        return cls(name, settings.session_max_age, secure, settings.session_cookie_samesite, domain)


class SessionStore:
    """Base class of the session stores; subclasses load and save the data.

    ``secret_key`` signs what goes into the cookie; ``secret_key_fallbacks`` are
    older keys still accepted, and a cookie signed with one is re-issued with the
    current key the next time the session is used.
    """

    #: Server-side stores fetch the session in the middleware (I/O cannot happen in
    #: the synchronous ``request.session``); the cookie store decodes on first use.
    preloads: ClassVar[bool] = False
    #: Salt that keeps these signatures apart from every other use of the secret key.
    salt: ClassVar[str] = "satchel.sessions"

    def __init__(self, settings: Settings, *, debug: bool | None = None) -> None:
        self.settings = settings
        self.debug = settings.debug if debug is None else debug
        self.cookie = CookieOptions.from_settings(settings)
        self.max_age = settings.session_max_age
        self._secret = settings.secret_key.get_secret_value()
        self._fallbacks = [key.get_secret_value() for key in settings.secret_key_fallbacks]

    # -- signing -----------------------------------------------------------------------

    @cached_property
    def signing(self) -> Signing:
        """The signers, built on first use."""
        # Imported here: itsdangerous loads when the first session is read or written,
        # not when the app starts.
        from satchel.sessions.signing import Signing

        return Signing(self._secret, self._fallbacks, self.salt)

    def sign_data(self, data: dict[str, Any]) -> str:
        """Return ``data`` as JSON, signed and timestamped with the current key."""
        try:
            return self.signing.dumps(data)
        except TypeError as exc:  # orjson's JSONEncodeError is a TypeError
            raise TypeError(f"{SESSION_JSON_HINT} ({exc})") from exc

    def unsign_data(self, value: str) -> tuple[Any, float, bool] | None:
        """Return ``(data, signed_at, signed_with_an_old_key)``, or ``None`` if not valid."""
        return self.signing.loads(value, self.max_age)

    def sign_key(self, key: str) -> str:
        """Return the session key signed and timestamped with the current secret key."""
        return self.signing.sign_key(key)

    def unsign_key(self, value: str) -> tuple[str, float, bool] | None:
        """Return ``(key, signed_at, signed_with_an_old_key)``, or ``None`` if not valid."""
        return self.signing.unsign_key(value, self.max_age)

    # -- the session's life in a request -------------------------------------------------

    def load(self, request: Request) -> Session:
        """Return the request's session (called by ``request.session`` on first use)."""
        raise NotImplementedError

    async def preload(self, request: Request, raw: str) -> Session:
        """Fetch the session named by cookie value ``raw`` (server-side stores)."""
        raise NotImplementedError

    async def save(self, request: Request, response: Response, session: Session) -> None:
        """Write ``session`` and set (or delete) the cookie on ``response``."""
        raise NotImplementedError

    async def finish(self, request: Request, response: Response, session: Session) -> None:
        """Add ``Vary: Cookie`` if the session was used; save it if it must be."""
        if not session.accessed and not session.modified:
            return
        headers = response.headers
        if "vary" in headers:
            headers.add_vary("Cookie")
        else:
            headers.add("vary", "Cookie")  # the common case, without add_vary's parsing
        if session.modified or session.renew or self._aging(session):
            await self.save(request, response, session)

    def _aging(self, session: Session) -> bool:
        # A session in use is re-issued once half its life has passed, so an active
        # visitor is not logged out max_age after login while an idle one still is.
        issued = session.issued_at
        return issued is not None and time.time() - issued > self.max_age / 2

    async def clear_expired(self) -> int:
        """Delete expired sessions; return how many (``satchel sessions clear``)."""
        return 0

    async def close(self) -> None:
        """Release connections (called when the app shuts down)."""

    # -- the cookie ----------------------------------------------------------------------

    def set_cookie(self, response: Response, value: str) -> bool:
        """Put the session cookie on ``response``; refuse one browsers would drop."""
        options = self.cookie
        size = len(options.name) + 1 + len(value)
        if size > MAX_COOKIE_SIZE:
            message = (
                f"the session cookie would be {size} bytes, over the {MAX_COOKIE_SIZE} browsers "
                "keep, so the session was not saved: store less in request.session, or use a "
                "server-side store (session_store='database' or 'redis')"
            )
            if self.debug:
                raise SessionCookieTooLarge(message)
            logger.error("%s", message)
            return False
        response.set_cookie(
            options.name,
            value,
            max_age=options.max_age,
            path=options.path,
            domain=options.domain,
            secure=options.secure,
            httponly=True,
            samesite=options.samesite,
        )
        return True

    def delete_cookie(self, response: Response) -> None:
        """Tell the browser to drop the session cookie."""
        options = self.cookie
        response.delete_cookie(
            options.name,
            path=options.path,
            domain=options.domain,
            secure=options.secure,
            httponly=True,
            samesite=options.samesite,
        )

    def middleware(self) -> Callable[..., Any]:
        """Return the typed middleware that saves this store's sessions."""
        # Imported here: middleware.py needs this module, not the other way round.
        from satchel.sessions.middleware import session_middleware

        return session_middleware(self)


__all__ = [
    "MAX_COOKIE_SIZE",
    "CookieOptions",
    "SessionCookieTooLarge",
    "SessionStore",
]
