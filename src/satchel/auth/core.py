"""``Auth``: accounts on one app — who is asking, logging in and out, users and tokens.

``Auth(app)`` registers everything itself when it is made: the login, logout, password
change and reset pages (a module named ``auth``), a middleware that loads the request's
user, the error handler that sends browsers to the login page, and startup/shutdown
hooks. It must be made before the app starts serving.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from satchel.auth import apitokens
from satchel.auth import checks as _checks  # noqa: F401 - importing registers the checks
from satchel.auth.accounts import AccountInvalid, Accounts
from satchel.auth.anonymous import ANONYMOUS, REFUSED_TOKEN, AnonymousUser
from satchel.auth.backend import sessions as login_session
from satchel.auth.backend import users as queries
from satchel.auth.guards import NotAuthenticated
from satchel.auth.limits import LoginLimits, LoginThrottle
from satchel.auth.models import User
from satchel.auth.normalize import (
    UsernameValidator,
    default_username_validator,
)
from satchel.auth.passwords import DEFAULT_HASHER, PasswordHasher
from satchel.auth.throttle import ThrottleStore
from satchel.auth.tokens import DEFAULT_API_PREFIX, ResetTokens
from satchel.auth.validators import PasswordValidator
from satchel.exceptions import ImproperlyConfigured
from satchel.handlers.errors import http_exception_response, prefers_html
from satchel.http.response import RedirectResponse, Response

if TYPE_CHECKING:
    from satchel.app import App
    from satchel.auth.mail import EmailBackend
    from satchel.http.request import Request
    from satchel.scaffold import CallNext

logger = logging.getLogger("satchel.auth")

#: How long a login without "remember me" lasts (seconds); with it, the session's own
#: ``session_max_age`` (two weeks by default, renewed while the visitor is active).
DEFAULT_LOGIN_MAX_AGE = 12 * 3600


class Auth(Accounts):
    """Accounts for ``app``; ``app.extensions["auth"]`` is this object.

    Options: ``prefix`` for the pages (``"/accounts"`` gives ``/accounts/login``);
    ``user_model`` (a subclass of :class:`User` with more columns); ``hasher`` (a
    :class:`PasswordHasher`); ``password_validators`` and ``username_validator``;
    ``views=False`` for an API without HTML pages; ``login_redirect`` (where a login
    without ``next`` goes); ``login_max_age`` (seconds a login without "remember me"
    lasts); ``reset_max_age`` (seconds a reset link works); ``throttle_store``
    (``"memory"``, ``"redis"`` or a store), ``limits`` (:class:`LoginLimits`) and
    ``throttle_prefix`` (of the Redis keys);
    ``token_prefix`` for API tokens; ``site_url`` (the origin put in reset mails,
    default: the request's); ``mail_backend`` (default: from the ``email_*`` settings).
    """

    def __init__(
        self,
        app: App,
        *,
        prefix: str = "",
        user_model: type[User] = User,
        hasher: PasswordHasher | None = None,
        password_validators: Sequence[PasswordValidator] | None = None,
        username_validator: UsernameValidator = default_username_validator,
        views: bool = True,
        login_redirect: str = "/",
        login_max_age: int = DEFAULT_LOGIN_MAX_AGE,
        reset_max_age: int = 3600,
        throttle_store: str | ThrottleStore | None = None,
        limits: LoginLimits | None = None,
        throttle_prefix: str = "satchel:throttle:",
        token_prefix: str = DEFAULT_API_PREFIX,
        site_url: str | None = None,
        mail_backend: EmailBackend | None = None,
    ) -> None:
        if getattr(app, "_frozen", False) or getattr(app, "locked", False):
            raise ImproperlyConfigured(
                "Auth(app) must be created before the app starts serving (at import time, "
                "next to App(...)): it adds routes, a middleware and error handlers"
            )
        if app.extensions.get("auth") is not None:
            raise ImproperlyConfigured("this app already has accounts: create Auth(app) once")
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ImproperlyConfigured(f"Auth prefix {prefix!r} must start and not end with '/'")
        if not (isinstance(user_model, type) and issubclass(user_model, User)):
            raise ImproperlyConfigured("user_model must be satchel.auth.User or a subclass of it")
        if login_max_age <= 0 or reset_max_age <= 0:
            raise ImproperlyConfigured("login_max_age and reset_max_age must be positive")
        self.app = app
        self.prefix = prefix
        self.user_model = user_model
        self.hasher = hasher or DEFAULT_HASHER
        self.password_validators = password_validators
        self.username_validator = username_validator
        self.login_redirect = login_redirect
        self.login_max_age = login_max_age
        self.token_prefix = token_prefix
        self.site_url = site_url.rstrip("/") if site_url else None
        self._mail_backend = mail_backend
        settings = app.settings
        store = throttle_store or getattr(settings, "auth_throttle_store", None) or "memory"
        self.throttle = LoginThrottle(
            store, limits or LoginLimits(), settings.redis_url, throttle_prefix
        )
        self.reset_tokens = ResetTokens(self._keys(oldest_first=True), max_age=reset_max_age)
        self._secrets = self._keys(oldest_first=False)
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Path of the login page (``None`` with ``views=False``: refusals are always 401).
        self.login_path: str | None = prefix + "/login" if views else None
        app.extensions["auth"] = self
        app.middleware(self._middleware())
        app.error_handler(NotAuthenticated)(self._not_authenticated)
        app.on_startup(self._startup)
        app.on_shutdown(self._shutdown)
        if views:
            # Imported here: the views load jinja2 and forms, which an API-only app skips.
            from satchel.auth.views import build_module

            app.include(build_module(self))

    def _keys(self, *, oldest_first: bool) -> list[str]:
        settings = self.app.settings
        keys = [settings.secret_key.get_secret_value()]
        keys.extend(key.get_secret_value() for key in settings.secret_key_fallbacks)
        return list(reversed(keys)) if oldest_first else keys

    # -- plumbing --------------------------------------------------------------------

    @property
    def mail_backend(self) -> EmailBackend:
        """The backend reset mails go through (from the ``email_*`` settings by default)."""
        if self._mail_backend is None:
            # Imported here: only apps that send mail load the backends.
            from satchel.auth.mail import backend_from_settings

            self._mail_backend = backend_from_settings(self.app.settings)
        return self._mail_backend

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``work`` in the background; shutdown waits for it (mail sending)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _startup(self) -> None:
        self.database  # noqa: B018 - a missing database should stop the server now
        if self.login_path is not None and self.app.extensions.get("sessions") is None:
            raise ImproperlyConfigured(
                "the login pages need sessions: leave sessions_enabled on, "
                "or use Auth(app, views=False)"
            )
        # The fixed hash for unknown users is made now, not by the first such login.
        await self.run_sync(self.hasher.prepare)

    async def _shutdown(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        await self.throttle.aclose()

    # -- who is asking ---------------------------------------------------------------

    def _middleware(self) -> Callable[..., Any]:
        authenticate = self._authenticate

        async def load_user(request: Request, call_next: CallNext) -> Response:
            if request._user is None:
                route = request.route
                if route is None or _preloads(route):
                    request._user = await authenticate(request)
            return await call_next(request)

        return load_user

    def load_user(self, request: Request) -> Any:
        """Return the user of a request the middleware did not load (``request.user`` calls it).

        That is a WebSocket, a static file, or a route with ``load_user=False``: anonymous
        when the request carries no login, else an error saying to ``await get_user``.
        """
        header = request.headers.get("authorization") or ""
        has_login = header[:7].lower() == "bearer "
        if not has_login and self.app.extensions.get("sessions") is not None:
            has_login = login_session.has_login(request.session.data)
        if has_login:
            raise ImproperlyConfigured(
                "request.user was not loaded for this request (a WebSocket, a static file, "
                "or a route with load_user=False): use `user = await auth.get_user(request)`"
            )
        return ANONYMOUS

    async def get_user(self, request: Request) -> Any:
        """Return the request's user, loading it (one query) if it is not loaded yet."""
        user = request._user
        if user is None:
            user = request._user = await self._authenticate(request)
        return user

    async def _authenticate(self, request: Request) -> Any:
        header = request.headers.get("authorization")
        if header is not None and header[:7].lower() == "bearer ":
            user = await apitokens.user_for_bearer(self, header)
            return user if user is not None else REFUSED_TOKEN
        store = self.app.extensions.get("sessions")
        if store is None:
            return ANONYMOUS
        if request._session is None and not request.cookies.get(store.cookie.name):
            return ANONYMOUS  # no cookie: nothing to decode, nobody to look up
        session = request.session
        data = session.data
        if not login_session.has_login(data):
            return ANONYMOUS
        user_id = login_session.logged_in_id(data)
        user = await self._fetch(user_id) if isinstance(user_id, int | str) else None
        matched = None
        if user is not None and user.is_active:
            matched = login_session.hash_matches(
                data.get(login_session.HASH_KEY), user.password, self._secrets
            )
        if matched is None:
            login_session.forget(session)  # ended, deleted, deactivated or password changed
            return ANONYMOUS
        if matched > 0:  # made with a key that has since been rotated out
            session[login_session.HASH_KEY] = self.session_hash(user)
        session.accessed = True  # the page depends on who is logged in: Vary: Cookie
        return user

    async def _fetch(self, user_id: Any) -> Any:
        async with self.reading() as db:
            query = queries.user_by_id(self.user_model)
            return (await db.execute(query, {"user_id": user_id})).scalar()

    async def load_permissions(self, user: Any) -> frozenset[str]:
        """Load (once per user object) and return the codenames ``user`` has (one query).

        Superusers and anonymous users need no query: their answers don't depend on rows.
        """
        loaded: frozenset[str] | None = user.loaded_permissions
        if loaded is not None:
            return loaded
        found: frozenset[str] = frozenset()
        if not user.is_superuser and user.is_active:
            async with self.reading() as db:
                rows = await db.execute(queries.user_codenames(), {"user_id": user.id})
                found = frozenset(rows.scalars())
        user._satchel_permissions = found
        return found

    async def _not_authenticated(self, request: Request, exc: NotAuthenticated) -> Response:
        accept = request.headers.get("accept", "")
        header = request.headers.get("authorization") or ""
        if (
            self.login_path is not None
            and not exc.invalid_token
            and header[:7].lower() != "bearer "
            and prefers_html(accept)
        ):
            target = request.root_path + request.path
            if request.query_string:
                target += "?" + request.query_string
            query = urlencode({"next": target})
            return RedirectResponse(f"{request.root_path}{self.login_path}?{query}", 303)
        return http_exception_response(exc, accept)

    def __repr__(self) -> str:
        return f"<Auth prefix={self.prefix!r} user_model={self.user_model.__name__}>"


def _preloads(route: Any) -> bool:
    """Return whether the middleware loads the user for ``route`` (decided once per route)."""
    options = route.options
    decided = options.get("_auth_preload")
    if decided is None:
        # Static files never need the user: a logged-in visitor's images cost no query.
        static = getattr(route.endpoint, "__name__", "") == "serve_static"
        decided = options["_auth_preload"] = (
            options.get("load_user", True) is not False and not static
        )
    return bool(decided)


__all__ = ["DEFAULT_LOGIN_MAX_AGE", "AccountInvalid", "AnonymousUser", "Auth"]
