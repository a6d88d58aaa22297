"""The async test client: an ``httpx.AsyncClient`` that runs an ASGI app on the caller's loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from satchel.testing._asgi import HTTPExchange, Lifespan, http_scope, websocket_scope
from satchel.testing.websocket import (
    DEFAULT_TIMEOUT,
    AsyncWebSocketTestSession,
    WebSocketChannel,
)
from satchel.types import ASGIApp


class _AsyncResponseStream(httpx.AsyncByteStream):
    def __init__(self, exchange: HTTPExchange) -> None:
        self._exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._exchange.next_chunk()) is not None:
            yield chunk

    async def aclose(self) -> None:
        await self._exchange.aclose()


class _AsyncASGITransport(httpx.AsyncBaseTransport):
    """Run the app for each request as a task on the running loop."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        raise_server_exceptions: bool,
        root_path: str,
        client: tuple[str, int],
        enforce_csrf_checks: bool = False,
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.client = client
        self.enforce_csrf_checks = enforce_csrf_checks
        self.state: dict[str, Any] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Run the app for ``request``; the body streams from the app as it is read."""
        body = await request.aread()
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
        await exchange.start()
        return httpx.Response(
            exchange.status_code or 500,
            headers=exchange.headers,
            stream=_AsyncResponseStream(exchange),
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )


class AsyncTestClient(httpx.AsyncClient):
    """Send requests to an ASGI app from async tests; a full ``httpx.AsyncClient``.

    The app runs on the caller's event loop. ``async with AsyncTestClient(app)``
    runs lifespan startup on entry (raising
    :class:`~satchel.testing.LifespanFailed` if it fails) and shutdown on exit;
    without ``async with`` lifespan never runs. The other options behave as in
    :class:`~satchel.testing.TestClient`.
    """

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
        self._asgi = _AsyncASGITransport(
            app,
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

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        lifespan = Lifespan(self.app)
        try:
            await lifespan.startup()
        except BaseException:
            await self.aclose()
            raise
        self._lifespan = lifespan
        if lifespan.running:
            self._asgi.state = lifespan.state
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        try:
            if lifespan is not None:
                await lifespan.shutdown()
        finally:
            self._asgi.state = None
            await super().__aexit__(exc_type, exc_value, traceback)

    def websocket_connect(
        self,
        url: str,
        subprotocols: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> AsyncWebSocketTestSession:
        """Return a session for ``url``; ``async with`` it or ``await`` it to connect.

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
        return AsyncWebSocketTestSession(channel)
