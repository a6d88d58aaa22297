"""Sessions: ``request.session``, a dict kept between one visitor's requests.

Installed by default when the app starts (``sessions_enabled=False`` turns it
off). The store comes from ``session_store``: ``"cookie"`` (default, signed
cookie, nothing on the server), ``"database"`` (the ``satchel_session`` table of
the app's database) or ``"redis"`` (``satchel[redis]``). To use a store of your
own, put it in ``app.extensions["sessions"]`` before the app starts.

Flash messages (:func:`flash`, :func:`get_flashed_messages`) live here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from satchel.exceptions import ImproperlyConfigured
from satchel.sessions.cookie import CookieStore
from satchel.sessions.flash import FLASH_KEY, flash, get_flashed_messages
from satchel.sessions.session import Session
from satchel.sessions.store import CookieOptions, SessionCookieTooLarge, SessionStore

if TYPE_CHECKING:
    from satchel.app import App
    from satchel.http.request import Request


def create_store(app: App) -> SessionStore:
    """Return the store ``app.settings.session_store`` names."""
    settings = app.settings
    kind = settings.session_store
    if kind == "database":
        database = app.extensions.get("database")
        if database is None:
            raise ImproperlyConfigured(
                "session_store='database' needs the app's database: "
                "App(database=Database(...)) or database.init_app(app)"
            )
        # Imported here: only apps that keep sessions in the database load SQLAlchemy for it.
        from satchel.sessions.database import DatabaseStore

        return DatabaseStore(settings, database, debug=app.debug)
    if kind == "redis":
        # Imported here: the redis package is an optional extra.
        from satchel.sessions.redis_store import RedisStore

        return RedisStore(settings, debug=app.debug)
    return CookieStore(settings, debug=app.debug)


def install(app: App) -> None:
    """Add sessions to ``app`` (called when it freezes): the store and its middleware.

    The middleware goes first, so it runs outermost: every other middleware, hook
    and handler sees the session, and it is saved after all of them.
    """
    if not app.settings.sessions_enabled:
        return
    store = app.extensions.get("sessions")
    if store is None:
        store = app.extensions["sessions"] = create_store(app)
    elif not isinstance(store, SessionStore):
        raise ImproperlyConfigured(
            f"app.extensions['sessions'] must be a SessionStore, not {type(store).__name__}"
        )
    app.typed_middleware.insert(0, store.middleware())
    app.on_shutdown(store.close)


async def load_session(request: Request) -> Session:
    """Return ``request.session``, fetching it first if a server-side store must.

    Only needed where the sessions middleware does not run (WebSocket handlers);
    HTTP handlers just use ``request.session``.
    """
    if request._session is None and request.app is not None:
        store = request.app.extensions.get("sessions")
        if isinstance(store, SessionStore) and store.preloads:
            raw = request.cookies.get(store.cookie.name)
            if raw:
                request._session = await store.preload(request, raw)
    session: Session = request.session
    return session


def __getattr__(name: str) -> Any:
    # The server-side stores load SQLAlchemy or redis: only on first use.
    if name in ("DatabaseStore", "session_table"):
        from satchel.sessions import database

        return getattr(database, name)
    if name == "RedisStore":
        from satchel.sessions.redis_store import RedisStore

        return RedisStore
    raise AttributeError(f"module 'satchel.sessions' has no attribute {name!r}")


__all__ = [
    "FLASH_KEY",
    "CookieOptions",
    "CookieStore",
    "DatabaseStore",
    "RedisStore",
    "Session",
    "SessionCookieTooLarge",
    "SessionStore",
    "create_store",
    "flash",
    "get_flashed_messages",
    "install",
    "load_session",
    "session_table",
]
