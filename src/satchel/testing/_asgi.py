"""Speak ASGI 3 to an app on behalf of the test clients.

Both :class:`~satchel.testing.TestClient` (sync, app on a background loop) and
:class:`~satchel.testing.AsyncTestClient` (app on the caller's loop) turn an
``httpx.Request`` into a scope here, run the app through :class:`HTTPExchange`
and drive lifespan through :class:`Lifespan`. Everything in this module is
async and must run on the loop that runs the app.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote

import httpx

from satchel.exceptions import SatchelError
from satchel.types import ASGIApp, Message, Scope

#: Size of each ``http.request`` message, so apps' body limits see a stream, not one blob.
CHUNK_SIZE = 64 * 1024

#: How long an app gets to finish after the client went away before it is cancelled.
CLOSE_GRACE = 1.0

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class ClientDisconnected(OSError):
    """Raised inside the app when it sends on a connection the client has closed.

    The ASGI spec asks servers to raise an ``OSError`` here; it lets an endless
    streaming response stop once the test stops reading.
    """


class LifespanFailed(SatchelError):
    """The app answered ``lifespan.startup.failed`` or ``lifespan.shutdown.failed``."""


def _target(url: httpx.URL) -> tuple[str, bytes, bytes]:
    """Return the decoded path, the raw path and the raw query string of ``url``."""
    raw_path, _, query_string = url.raw_path.partition(b"?")
    # httpx percent-encodes anything outside ASCII, so the raw path is ASCII.
    return unquote(raw_path.decode("ascii")), raw_path, query_string


def _server(url: httpx.URL) -> tuple[str, int]:
    return url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 80)


#: Scope extension the test clients set; Satchel's CSRF check reads it.
TESTING_EXTENSION = "satchel.testing"


def http_scope(
    request: httpx.Request,
    *,
    root_path: str,
    client: tuple[str, int],
    enforce_csrf_checks: bool = False,
) -> Scope:
    """Build the ASGI ``http`` scope for ``request``.

    ``path`` is the URL's path as requested (decoded) and ``root_path`` is passed
    as given: the app is taken to be mounted at ``root_path`` by a proxy that
    stripped it, so request the path *below* the mount.
    """
    path, raw_path, query_string = _target(request.url)
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.url.scheme,
        "path": path,
        "raw_path": raw_path,
        "query_string": query_string,
        "root_path": root_path,
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "client": client,
        "server": _server(request.url),
        # Like Django's test client, CSRF checks are skipped unless asked for, so
        # tests of form handlers need no token plumbing (browser tests use real ones).
        "extensions": {TESTING_EXTENSION: {"enforce_csrf_checks": enforce_csrf_checks}},
    }


def websocket_scope(
    request: httpx.Request,
    *,
    root_path: str,
    client: tuple[str, int],
    subprotocols: list[str],
    state: dict[str, Any] | None,
) -> Scope:
    """Build the ASGI ``websocket`` scope for a handshake described by ``request``."""
    path, raw_path, query_string = _target(request.url)
    scheme = {"http": "ws", "https": "wss"}.get(request.url.scheme, request.url.scheme)
    headers = [
        (name.lower(), value)
        for name, value in request.headers.raw
        if name.lower() not in (b"connection", b"accept-encoding")
    ]
    headers += [
        (b"connection", b"upgrade"),
        (b"upgrade", b"websocket"),
        (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        (b"sec-websocket-version", b"13"),
    ]
    if subprotocols:
        headers.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode("latin-1")))
    scope: Scope = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": scheme,
        "path": path,
        "raw_path": raw_path,
        "query_string": query_string,
        "root_path": root_path,
        "headers": headers,
        "client": client,
        "server": _server(request.url),
        "subprotocols": list(subprotocols),
        "extensions": {},
    }
    if state is not None:
        scope["state"] = dict(state)
    return scope


def _check_headers(raw: Any) -> list[tuple[bytes, bytes]]:
    headers = []
    for name, value in raw:
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            raise TypeError(f"ASGI header names and values must be bytes, got {(name, value)!r}")
        headers.append((name.lower(), value))
    return headers


async def _finish_task(task: asyncio.Task[None], grace: float | None) -> None:
    """Give ``task`` ``grace`` seconds to end on its own, then cancel it."""
    _, pending = await asyncio.wait({task}, timeout=grace)
    if pending:
        task.cancel()
        await asyncio.wait({task})


class HTTPExchange:
    """Run the app for one HTTP request and hand its response back piece by piece.

    Call :meth:`start` (returns once ``http.response.start`` arrived), then
    :meth:`next_chunk` until it returns ``None``; :meth:`aclose` tells the app the
    client went away if the body was not read to the end.
    """

    def __init__(
        self,
        app: ASGIApp,
        scope: Scope,
        body: bytes,
        *,
        request: httpx.Request,
        raise_server_exceptions: bool,
        state: dict[str, Any] | None,
    ) -> None:
        self._app = app
        self._scope = scope
        self._state = state
        self._body = body
        self._request = request
        self._raise = raise_server_exceptions
        timeouts = request.extensions.get("timeout") or {}
        self._timeout: float | None = timeouts.get("read")
        self._offset = 0
        self._request_complete = False
        self._started = asyncio.Event()
        self._response_complete = asyncio.Event()
        self._chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._error: Exception | None = None
        self._disconnected = False
        self._body_ended = False
        self._finished = False
        self.status_code: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []

    async def start(self) -> None:
        """Run the app until it starts its response; raise its error if it fails first."""
        if self._state is not None:
            # A shallow copy per request, as the ASGI lifespan state extension asks.
            self._scope["state"] = dict(self._state)
        self._task = asyncio.create_task(self._run())
        try:
            await asyncio.wait_for(self._started.wait(), self._timeout)
        except TimeoutError:
            await self._abandon()
            raise httpx.ReadTimeout(
                "The app did not start a response in time", request=self._request
            ) from None
        if self.status_code is None:
            await self._finish()
            if self._raise:
                raise RuntimeError("The app returned without sending 'http.response.start'.")
            self.status_code = 500

    async def next_chunk(self) -> bytes | None:
        """Return the next piece of the body (every piece already sent), or ``None`` at the end."""
        if self._finished:
            return None
        if not self._body_ended:
            try:
                item = await asyncio.wait_for(self._chunks.get(), self._timeout)
            except TimeoutError:
                await self._abandon()
                raise httpx.ReadTimeout(
                    "The app stopped sending its body", request=self._request
                ) from None
            parts: list[bytes] = []
            while item is not None:
                parts.append(item)
                if self._chunks.empty():
                    break
                item = self._chunks.get_nowait()
            self._body_ended = item is None
            if parts:
                return b"".join(parts)
        await self._finish()
        return None

    async def aclose(self) -> None:
        """Disconnect: the app's ``receive`` returns ``http.disconnect`` and its sends fail."""
        if self._finished or self._task is None:
            return
        self._finished = True
        self._disconnected = True
        self._response_complete.set()
        await _finish_task(self._task, CLOSE_GRACE)
        self._raise_error()

    async def _finish(self) -> None:
        # Wait for the app to return, so errors raised after the response (in
        # background work) still reach the test.
        self._finished = True
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self._timeout)
            except TimeoutError:
                await self._abandon()
                raise httpx.ReadTimeout("The app did not return", request=self._request) from None
        self._raise_error()

    async def _abandon(self) -> None:
        self._finished = True
        self._disconnected = True
        self._response_complete.set()
        if self._task is not None:
            await _finish_task(self._task, 0)

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None and self._raise:
            raise error

    async def _run(self) -> None:
        try:
            await self._app(self._scope, self._receive, self._send)
        except ClientDisconnected:
            pass
        except Exception as exc:
            self._error = exc
        finally:
            self._started.set()
            self._response_complete.set()
            self._chunks.put_nowait(None)

    async def _receive(self) -> Message:
        if not self._request_complete:
            chunk = self._body[self._offset : self._offset + CHUNK_SIZE]
            self._offset += len(chunk)
            more_body = self._offset < len(self._body)
            self._request_complete = not more_body
            return {"type": "http.request", "body": chunk, "more_body": more_body}
        await self._response_complete.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if self._disconnected:
            raise ClientDisconnected("The client has disconnected.")
        kind = message["type"]
        if kind == "http.response.start":
            if self.status_code is not None:
                raise RuntimeError("The app sent 'http.response.start' twice.")
            self.headers = _check_headers(message.get("headers", ()))
            self.status_code = int(message["status"])
            self._started.set()
        elif kind == "http.response.body":
            if self.status_code is None:
                raise RuntimeError(
                    "The app sent 'http.response.body' before 'http.response.start'."
                )
            if self._response_complete.is_set():
                raise RuntimeError("The app sent 'http.response.body' after the response ended.")
            body = message.get("body", b"")
            if body:
                self._chunks.put_nowait(bytes(body))
            if not message.get("more_body", False):
                self._response_complete.set()
                self._chunks.put_nowait(None)
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} on an HTTP connection.")


class Lifespan:
    """Drive the ASGI lifespan protocol: :meth:`startup`, then :meth:`shutdown`.

    An app that returns on a ``lifespan`` scope without answering is taken not to
    support lifespan; one that raises has its error re-raised. :attr:`state` is
    the dict the app filled in at startup (the ASGI "state" extension).
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self.state: dict[str, Any] = {}
        self.running = False
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._error: Exception | None = None

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait for the app's answer."""
        scope: Scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        self._task = asyncio.create_task(self._run(scope))
        self.running = await self._exchange("startup")

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown``, wait for the answer and for the app to return."""
        if not self.running:
            return
        self.running = False
        await self._exchange("shutdown")

    async def _exchange(self, phase: str) -> bool:
        """Send the ``phase`` event; return whether the app answered it."""
        self._to_app.put_nowait({"type": f"lifespan.{phase}"})
        message = await self._from_app.get()
        if message is None:
            if self._error is not None and phase == "startup":
                self._error.add_note(
                    "Raised by the app during lifespan startup. An app without lifespan"
                    " support should return on a 'lifespan' scope; or use the client"
                    " without 'with' to skip lifespan."
                )
            self._raise_error()
            return False  # returned without answering: no lifespan support
        kind = message["type"]
        if kind == f"lifespan.{phase}.complete":
            if phase == "shutdown" and self._task is not None:
                await _finish_task(self._task, CLOSE_GRACE)
            return True
        if self._task is not None:
            await _finish_task(self._task, CLOSE_GRACE)
        if kind == f"lifespan.{phase}.failed":
            text = message.get("message", "")
            raise LifespanFailed(f"Lifespan {phase} failed: {text}") from self._error
        raise RuntimeError(f"Unexpected ASGI message {kind!r} during lifespan {phase}.")

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    async def _run(self, scope: Scope) -> None:
        try:
            await self._app(scope, self._to_app.get, self._send)
        except Exception as exc:
            self._error = exc
        finally:
            self._from_app.put_nowait(None)

    async def _send(self, message: Message) -> None:
        self._from_app.put_nowait(message)
