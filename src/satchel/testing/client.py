"""The sync test client: an ``httpx.Client`` whose transport runs an ASGI app.

The app runs on one event loop in a background thread that lives as long as the
client, so anything the app ties to its loop (database pools, ``asyncio.Lock``)
keeps working from one request to the next.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Coroutine, Iterator, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from satchel.testing._asgi import HTTPExchange, Lifespan, http_scope, websocket_scope
from satchel.testing.websocket import DEFAULT_TIMEOUT, WebSocketChannel, WebSocketTestSession
from satchel.types import ASGIApp

T = TypeVar("T")

#: Seconds ``close()`` waits for the app's leftover tasks and worker threads.
_STOP_TIMEOUT = 10.0


class _LoopHandle:
    """What the loop's owner and its finalizer share: the loop, its thread, a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.closed = False


class _LoopThread:
    """One event loop in a daemon thread, started on first use, stopped by :meth:`stop`.

    Streams and WebSocket sessions hold the portal too, so the loop lives while any
    of them (or the client) does, and is stopped once the last one is collected.
    """

    def __init__(self) -> None:
        self._handle = _LoopHandle()
        self._finalizer = weakref.finalize(self, _stop_loop, self._handle)
        # At interpreter exit the daemon thread just dies; waiting on the app there
        # could only hang the exit.
        self._finalizer.atexit = False

    @property
    def closed(self) -> bool:
        """Return whether the loop was stopped for good."""
        return self._handle.closed

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and block until it returns (or raises)."""
        try:
            loop = self._start()
        except BaseException:
            coro.close()
            raise
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def stop(self) -> None:
        """Cancel what is left on the loop, stop it and join the thread."""
        self._finalizer()

    def _start(self) -> asyncio.AbstractEventLoop:
        handle = self._handle
        with handle.lock:
            if handle.closed:
                raise RuntimeError("The TestClient is closed.")
            if threading.current_thread() is handle.thread:
                # Blocking the loop's own thread on the loop would deadlock.
                raise RuntimeError("The app cannot call its own TestClient.")
            if handle.loop is None:
                handle.loop = asyncio.new_event_loop()
                handle.thread = threading.Thread(
                    target=_run_loop, args=(handle.loop,), name="satchel-testclient", daemon=True
                )
                handle.thread.start()
            return handle.loop


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def _stop_loop(handle: _LoopHandle) -> None:
    with handle.lock:
        handle.closed = True
        loop, thread = handle.loop, handle.thread
        handle.loop = handle.thread = None
    if loop is None or thread is None:
        return
    if threading.current_thread() is thread:
        # Collected on the loop's own thread: waiting for the loop would deadlock.
        loop.call_soon(loop.stop)
        return
    wound_down = asyncio.run_coroutine_threadsafe(_wind_down(), loop)
    try:
        wound_down.result(timeout=_STOP_TIMEOUT)
    except TimeoutError:
        raise RuntimeError(
            f"The app's tasks or worker threads were still running {_STOP_TIMEOUT} s"
            " after the TestClient closed; they were abandoned."
        ) from None
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=_STOP_TIMEOUT)
        if not thread.is_alive():
            loop.close()


async def _wind_down() -> None:
    """Cancel the app's leftover tasks and close async generators and the executor."""
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    loop = asyncio.get_running_loop()
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, portal: _LoopThread, exchange: HTTPExchange) -> None:
        self._portal = portal
        self._exchange = exchange

    def __iter__(self) -> Iterator[bytes]:
        while (chunk := self._portal.call(self._exchange.next_chunk())) is not None:
            yield chunk

    def close(self) -> None:
        if not self._portal.closed:
            self._portal.call(self._exchange.aclose())


class _ASGITransport(httpx.BaseTransport):
    """Hand each request to the app on the portal's loop; stop the loop on close."""

    def __init__(
        self,
        app: ASGIApp,
        portal: _LoopThread,
        *,
        raise_server_exceptions: bool,
        root_path: str,
        client: tuple[str, int],
        enforce_csrf_checks: bool = False,
    ) -> None:
        self.app = app
        self.portal = portal
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.client = client
        self.enforce_csrf_checks = enforce_csrf_checks
        self.state: dict[str, Any] | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run the app for ``request``; the body streams from the app as it is read."""
        body = request.read()
        scope = http_scope(
            request,
            root_path=self.root_path,
            client=self.client,
            enforce_csrf_checks=self.enforce_csrf_checks,
        )
        exchange = HTTPExchange(
            self.app,
            scope,
            body,
            request=request,
            raise_server_exceptions=self.raise_server_exceptions,
            state=self.state,
        )
        self.portal.call(exchange.start())
        return httpx.Response(
            exchange.status_code or 500,
            headers=exchange.headers,
            stream=_ResponseStream(self.portal, exchange),
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )

    def close(self) -> None:
        """Stop the app's event loop and thread."""
        self.portal.stop()


class TestClient(httpx.Client):
    """Send requests to an ASGI app without a server; a full ``httpx.Client``.

    The app runs on one event loop in a background thread, started on the first
    request (or on ``with``) and kept until the client closes. Used as
    ``with TestClient(app) as client:``, entering runs the app's lifespan startup
    (raising :class:`~satchel.testing.LifespanFailed` if it fails) and leaving runs
    shutdown; without ``with`` lifespan never runs. If the app raises,
    ``raise_server_exceptions=True`` re-raises the error in the test; ``False``
    returns what the app sent, or an empty 500 if it sent nothing. CSRF checks
    are skipped (as in Django's test client) unless ``enforce_csrf_checks=True``.

    ``root_path`` is passed to the app as is and ``path`` is what you request, so
    request the path below the mount point.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        headers: Mapping[str, str] | None = None,
        cookies: httpx.Cookies | dict[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        enforce_csrf_checks: bool = False,
    ) -> None:
        self.app = app
        self._asgi = _ASGITransport(
            app,
            _LoopThread(),
            raise_server_exceptions=raise_server_exceptions,
            root_path=root_path,
            client=client,
            enforce_csrf_checks=enforce_csrf_checks,
        )
        self._lifespan: Lifespan | None = None
        super().__init__(
            base_url=base_url,
            headers={"user-agent": "testclient", **(headers or {})},
            cookies=cookies,
            follow_redirects=follow_redirects,
            transport=self._asgi,
            # No time limit by default: a test may sit at a breakpoint in the app.
            timeout=None,
        )

    def __enter__(self) -> Self:
        super().__enter__()
        try:
            self._lifespan = self._asgi.portal.call(_start_lifespan(self.app))
        except BaseException:
            self.close()
            raise
        if self._lifespan.running:
            self._asgi.state = self._lifespan.state
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        try:
            if lifespan is not None:
                self._asgi.portal.call(lifespan.shutdown())
        finally:
            self._asgi.state = None
            super().__exit__(exc_type, exc_value, traceback)

    def websocket_connect(
        self,
        url: str,
        subprotocols: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> WebSocketTestSession:
        """Return a session that opens a WebSocket to ``url`` when entered.

        The handshake carries the client's headers and cookies. Each receive waits
        at most ``timeout`` seconds (``None``: forever).
        """
        request = self.build_request("GET", url, headers=headers)
        scope = websocket_scope(
            request,
            root_path=self._asgi.root_path,
            client=self._asgi.client,
            subprotocols=subprotocols or [],
            state=self._asgi.state,
        )
        channel = WebSocketChannel(
            self.app,
            scope,
            timeout=timeout,
            raise_server_exceptions=self._asgi.raise_server_exceptions,
        )
        return WebSocketTestSession(channel, self._asgi.portal)


async def _start_lifespan(app: ASGIApp) -> Lifespan:
    # Built on the app's loop so its queues belong to that loop.
    lifespan = Lifespan(app)
    await lifespan.startup()
    return lifespan
