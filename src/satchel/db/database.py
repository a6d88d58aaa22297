"""``Database``: one URL, a sync and an async engine, and sessions for each request."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, MetaData, Table, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from satchel.db import engines, nplusone, providers
from satchel.db.model import Model
from satchel.db.sessions import GuardedAsyncSession, SyncSession, TestBoundAsyncSession
from satchel.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from satchel.app import App
    from satchel.config import Settings


class _AsyncState:
    """The async engine and session factory of one event loop."""

    __slots__ = ("engine", "loop", "maker")

    def __init__(self, loop: asyncio.AbstractEventLoop | None, engine: AsyncEngine) -> None:
        self.loop = loop
        self.engine = engine
        self.maker = async_sessionmaker(engine, class_=GuardedAsyncSession, expire_on_commit=False)


class Database:
    """A database: its URL, engines, and the request-scoped ``Session``/``AsyncSession``.

    ``url`` defaults to the ``database_url`` setting (``SATCHEL_DATABASE_URL``).
    A relative SQLite path is taken from the app's ``root_path``. Engines are
    created on first use; the async one is per event loop (connections belong
    to the loop that opened them). ``engine_options`` go to ``create_engine``
    (and ``create_async_engine``) on top of Satchel's defaults. The N+1 query
    detector follows the ``n_plus_one_detection`` setting, else ``debug``,
    unless ``detect_n_plus_one`` says otherwise.
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        engine_options: Mapping[str, Any] | None = None,
        detect_n_plus_one: bool | None = None,
    ) -> None:
        self._url_arg = engines.parse_url(url) if url is not None else None
        self._engine_options = dict(engine_options or {})
        self._detect_arg = detect_n_plus_one
        self._settings: Settings | None = None
        self._root_path: str | None = None
        self._url: URL | None = None
        self._engine: Engine | None = None
        self._sync_maker: sessionmaker[Session] | None = None
        self._async_states: dict[asyncio.AbstractEventLoop, _AsyncState] = {}
        self._loopless: _AsyncState | None = None
        self._last: _AsyncState | None = None
        self._lock = threading.Lock()
        self._keeper: sqlite3.Connection | None = None
        self._detecting = False
        self._test_bind: Connection | None = None

    def __repr__(self) -> str:
        url = self._url or self._url_arg
        shown = url.render_as_string(hide_password=True) if url is not None else "(from settings)"
        return f"<Database {shown}>"

    # -- configuration ---------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings of the first app this database was set up on (or the environment's)."""
        if self._settings is None:
            # Imported here: only a Database used without an app reads settings itself.
            from satchel.config import load_settings

            self._settings = load_settings()
        return self._settings

    @property
    def url(self) -> URL:
        """The database URL, ready to connect (SQLite paths absolute, no driver chosen)."""
        if self._url is None:
            with self._lock:
                if self._url is None:
                    base = self._url_arg or engines.parse_url(self.settings.database_url)
                    url = engines.resolve_url(base, self._root_path)
                    if url.query.get("mode") == "memory":
                        self._keeper = _keep_memory_database(url)
                    self._url = url
        return self._url

    @property
    def metadata(self) -> MetaData:
        """The metadata every :class:`~satchel.db.Model` subclass registers its table in."""
        return Model.metadata

    def init_app(self, app: App) -> None:
        """Set up ``app``: providers, error responses, shutdown, and N+1 detection in debug.

        ``App(database=db)`` calls this. It registers providers for ``Session``
        and ``AsyncSession`` (one per request, committed when the handler
        returns, rolled back when it raises, always closed), maps integrity
        errors to 409 and an unreachable database to 503, and disposes the
        engines when the app shuts down.
        """
        existing = app.extensions.get("database")
        if existing is self:
            return
        if existing is not None:
            raise ImproperlyConfigured("this app already has a database; one Database per app")
        app.extensions["database"] = self
        if self._settings is None:
            self._settings = app.settings
            if self._engine is None and not self._async_states and self._loopless is None:
                self._root_path = app.root_path
                self._url = None  # resolve again against the app's root path
        app.provider(provides=AsyncSession)(providers.async_session_provider(self))
        app.provider(provides=Session)(providers.sync_session_provider(self, app.run_sync))
        for error in (sa_exc.IntegrityError, sa_exc.DBAPIError, sa_exc.TimeoutError):
            if error not in app.error_handlers:
                app.error_handler(error)(providers.database_error)
        app.on_shutdown(self.async_dispose)
        detect = self._detect_arg
        if detect is None:
            detect = app.settings.n_plus_one_detection
        if detect is None:
            detect = app.debug
        if detect:
            self._enable_detection()
            settings = app.settings
            app.middleware(nplusone.middleware(lambda: settings.n_plus_one_threshold))

    # -- engines ---------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The sync engine (created on first use)."""
        engine = self._engine
        if engine is None:
            url = self.url
            with self._lock:
                if self._engine is None:
                    driver = engines.driver_url(url, is_async=False)
                    options = engines.engine_options(
                        driver, self.settings, is_async=False, extra=self._engine_options
                    )
                    ping_after = self.settings.database_pool_pre_ping
                    created = engines.create_sync(driver, options, ping_after)
                    self._watch(created)
                    self._sync_maker = sessionmaker(
                        created, class_=SyncSession, expire_on_commit=False
                    )
                    self._engine = created
                engine = self._engine
        return engine

    @property
    def async_engine(self) -> AsyncEngine:
        """The async engine of the running event loop (created on first use)."""
        return self._async_state().engine

    def _async_state(self) -> _AsyncState:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        last = self._last
        if last is not None and last.loop is loop:
            return last
        found = self._async_states.get(loop) if loop is not None else self._loopless
        if found is None:
            url = self.url
            with self._lock:
                found = self._async_states.get(loop) if loop is not None else self._loopless
                if found is None:
                    driver = engines.driver_url(url, is_async=True)
                    options = engines.engine_options(
                        driver, self.settings, is_async=True, extra=self._engine_options
                    )
                    ping_after = self.settings.database_pool_pre_ping
                    engine = engines.create_async(driver, options, ping_after)
                    self._watch(engine.sync_engine)
                    found = _AsyncState(loop, engine)
                    if loop is None:
                        self._loopless = found
                    else:
                        # Engines of loops that are gone can never run again (a test
                        # client that closed without running shutdown, for instance).
                        for old in [old for old in self._async_states if old.is_closed()]:
                            del self._async_states[old]
                        self._async_states[loop] = found
        self._last = found
        return found

    def _watch(self, engine: Engine) -> None:
        if self._detecting and not event.contains(
            engine, "before_cursor_execute", nplusone.before_cursor_execute
        ):
            event.listen(engine, "before_cursor_execute", nplusone.before_cursor_execute)

    def _enable_detection(self) -> None:
        self._detecting = True
        existing = [s.engine.sync_engine for s in self._async_states.values()]
        if self._engine is not None:
            existing.append(self._engine)
        if self._loopless is not None:
            existing.append(self._loopless.engine.sync_engine)
        for engine in existing:
            self._watch(engine)

    def dispose(self) -> None:
        """Close the sync engine's pooled connections (the engine stays usable)."""
        if self._engine is not None:
            self._engine.dispose()

    async def async_dispose(self) -> None:
        """Close the pooled connections of the sync engine and this loop's async engine."""
        self.dispose()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - always called from a coroutine
            return
        state = self._async_states.pop(loop, None)
        if self._last is state:
            self._last = None
        if state is not None:
            await state.engine.dispose()

    # -- sessions --------------------------------------------------------------------

    def new_session(self) -> Session:
        """Return a new sync ``Session`` (the caller commits and closes it)."""
        if self._test_bind is not None:
            return SyncSession(
                bind=self._test_bind,
                join_transaction_mode="create_savepoint",
                expire_on_commit=False,
            )
        if self._sync_maker is None:
            self.engine  # noqa: B018 - creates the engine and the session factory
        assert self._sync_maker is not None
        return self._sync_maker()

    def new_async_session(self) -> AsyncSession:
        """Return a new ``AsyncSession`` (the caller commits and closes it)."""
        if self._test_bind is not None:
            # Under test, async sessions join the test's sync connection (and its
            # transaction); the sync driver simply runs inside the greenlet.
            session = TestBoundAsyncSession(
                join_transaction_mode="create_savepoint", expire_on_commit=False
            )
            session.sync_session.bind = self._test_bind
            return session
        return self._async_state().maker()

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a ``Session`` for a script or task: committed at the end, rolled back on error."""
        session = self.new_session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.asynccontextmanager
    async def async_session(self) -> AsyncIterator[AsyncSession]:
        """Yield an ``AsyncSession``: committed at the end, rolled back on error."""
        session = self.new_async_session()
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        finally:
            await session.close()

    # -- schema ----------------------------------------------------------------------

    def create_all(self, tables: Iterable[Any] | None = None) -> None:
        """Create the tables of all models (or of ``tables``: models or tables) that don't exist.

        For development and tests; a real project's schema comes from migrations.
        """
        self.metadata.create_all(self.engine, tables=_tables(tables))

    def drop_all(self, tables: Iterable[Any] | None = None) -> None:
        """Drop the tables of all models (or of ``tables``) that exist."""
        self.metadata.drop_all(self.engine, tables=_tables(tables))

    async def async_create_all(self, tables: Iterable[Any] | None = None) -> None:
        """Create the tables, through the async engine."""
        async with self.async_engine.begin() as conn:
            await conn.run_sync(self.metadata.create_all, tables=_tables(tables))

    async def async_drop_all(self, tables: Iterable[Any] | None = None) -> None:
        """Drop the tables, through the async engine."""
        async with self.async_engine.begin() as conn:
            await conn.run_sync(self.metadata.drop_all, tables=_tables(tables))

    # -- tests -----------------------------------------------------------------------

    @contextlib.contextmanager
    def bind_for_tests(self, connection: Connection | None = None) -> Iterator[Connection]:
        """Run every session on one connection, in a transaction rolled back at the end.

        Request-scoped sessions (sync and async) and ``db.session()`` join the
        connection's transaction through a SAVEPOINT, so their commits and
        rollbacks stay inside the test. Pass a ``connection`` already in a
        transaction to control it yourself; otherwise one is opened (from the
        sync engine) and rolled back and closed afterwards.
        """
        own = connection is None
        conn = self.engine.connect() if connection is None else connection
        if own and conn.dialect.name == "sqlite":
            # A deferred BEGIN: the test may still read through other connections
            # (WAL) while its own transaction holds back every change.
            conn.execution_options(sqlite_begin="DEFERRED")
        transaction = conn.begin() if own else None
        previous, self._test_bind = self._test_bind, conn
        try:
            yield conn
        finally:
            self._test_bind = previous
            if own:
                assert transaction is not None
                if transaction.is_active:
                    transaction.rollback()
                conn.close()


def _tables(items: Iterable[Any] | None) -> list[Table] | None:
    if items is None:
        return None
    return [getattr(item, "__table__", item) for item in items]


def _keep_memory_database(url: URL) -> sqlite3.Connection:
    # A shared in-memory database lives while one connection to it is open: this
    # one keeps it alive for as long as the Database object exists.
    params = "&".join(f"{k}={url.query[k]}" for k in ("mode", "cache"))
    return sqlite3.connect(f"{url.database}?{params}", uri=True, check_same_thread=False)


__all__ = ["Database"]
