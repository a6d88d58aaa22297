"""Talk to an app's WebSocket endpoint from a test.

:class:`WebSocketChannel` runs the app and holds the two message queues; it is
async and lives on the loop that runs the app. :class:`WebSocketTestSession`
drives it from sync tests (through the :class:`~satchel.testing.TestClient`'s
background loop) and :class:`AsyncWebSocketTestSession` from async tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from types import TracebackType
from typing import Any, Literal, Protocol, Self, TypeVar

import httpx
import orjson

from satchel.exceptions import WebSocketDisconnect
from satchel.testing._asgi import CLOSE_GRACE, ClientDisconnected
from satchel.types import ASGIApp, Message, Scope

T = TypeVar("T")

#: Seconds a ``receive`` waits for the app before giving up.
DEFAULT_TIMEOUT = 5.0


class _Portal(Protocol):
    def call(self, coro: Coroutine[Any, Any, T]) -> T: ...


class WebSocketChannel:
    """Run the app on a WebSocket scope and carry messages both ways."""

    def __init__(
        self, app: ASGIApp, scope: Scope, *, timeout: float | None, raise_server_exceptions: bool
    ) -> None:
        self._app = app
        self._scope = scope
        self.timeout = timeout
        self._raise = raise_server_exceptions
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._error: Exception | None = None
        self._accepted = False
        self._app_closed = False
        self._disconnect: Message | None = None
        self._close: tuple[int, str] | None = None
        self.subprotocol: str | None = None
        self.headers = httpx.Headers()

    async def connect(self) -> None:
        """Start the app and wait until it accepts; raise ``WebSocketDisconnect`` if it refuses."""
        self._task = asyncio.create_task(self._run())
        self._to_app.put_nowait({"type": "websocket.connect"})
        try:
            message = await self._next()
        except BaseException:
            # Refused, failed or timed out: make sure the app is not left running.
            if self._disconnect is None:
                self._disconnect = {"type": "websocket.disconnect", "code": 1006, "reason": ""}
                self._to_app.put_nowait(self._disconnect)
            await self._wait_app(CLOSE_GRACE)
            raise
        if message["type"] != "websocket.accept":
            raise RuntimeError(f"Expected 'websocket.accept', the app sent {message['type']!r}.")

    async def send(self, message: Message) -> None:
        """Put ``message`` on the app's ``receive`` queue."""
        if self._disconnect is not None:
            raise RuntimeError("The WebSocket session is closed; nothing more can be sent.")
        self._to_app.put_nowait(message)

    async def receive(self) -> Message:
        """Return the app's next ``websocket.send`` message.

        Raise ``WebSocketDisconnect`` once the app has closed (or returned), the
        app's own error if it raised, and ``TimeoutError`` if it sent nothing in time.
        """
        return await self._next()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Send ``websocket.disconnect`` to the app and wait for it to return."""
        if self._disconnect is None:
            self._disconnect = {"type": "websocket.disconnect", "code": code, "reason": reason}
            self._to_app.put_nowait(self._disconnect)
        await self._wait_app(self.timeout)
        error, self._error = self._error, None
        if error is not None and self._raise and not isinstance(error, WebSocketDisconnect):
            raise error

    async def _next(self) -> Message:
        if self._close is not None:
            raise WebSocketDisconnect(*self._close)
        try:
            message = await asyncio.wait_for(self._from_app.get(), self.timeout)
        except TimeoutError:
            raise TimeoutError(f"The app sent nothing within {self.timeout} s.") from None
        if message is None:
            # The app returned: before accepting that is a refusal (1006, as a
            # browser reports it), after accepting a normal close.
            self._close = (1000, "") if self._accepted else (1006, "")
            error, self._error = self._error, None
            if error is not None:
                self._close = (1011, "")
                if self._raise:
                    raise error
            raise WebSocketDisconnect(*self._close)
        if message["type"] == "websocket.close":
            self._close = (message.get("code") or 1000, message.get("reason") or "")
            raise WebSocketDisconnect(*self._close)
        return message

    async def _wait_app(self, grace: float | None) -> None:
        if self._task is None:
            return
        _, pending = await asyncio.wait({self._task}, timeout=grace)
        if pending:
            self._task.cancel()
            await asyncio.wait({self._task})

    async def _run(self) -> None:
        try:
            await self._app(self._scope, self._receive, self._send)
        except ClientDisconnected:
            pass
        except Exception as exc:
            self._error = exc
        finally:
            self._from_app.put_nowait(None)

    async def _receive(self) -> Message:
        if self._disconnect is not None and self._to_app.empty():
            # An app that keeps reading after the disconnect hears it again.
            return dict(self._disconnect)
        return await self._to_app.get()

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if self._app_closed:
            raise RuntimeError(f"The app sent {kind!r} after 'websocket.close'.")
        if self._disconnect is not None:
            if kind == "websocket.close":
                return  # closing a socket the client closed is harmless
            raise ClientDisconnected("The client has disconnected.")
        if kind == "websocket.accept":
            if self._accepted:
                raise RuntimeError("The app sent 'websocket.accept' twice.")
            self._accepted = True
            self.subprotocol = message.get("subprotocol")
            self.headers = httpx.Headers(list(message.get("headers") or ()))
        elif kind == "websocket.send":
            if not self._accepted:
                raise RuntimeError("The app sent 'websocket.send' before 'websocket.accept'.")
            if (message.get("text") is None) == (message.get("bytes") is None):
                raise RuntimeError("'websocket.send' needs exactly one of 'text' and 'bytes'.")
        elif kind == "websocket.close":
            self._app_closed = True
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} on a WebSocket.")
        self._from_app.put_nowait(message)


def _text_message(data: str) -> Message:
    return {"type": "websocket.receive", "text": data}


def _bytes_message(data: bytes) -> Message:
    return {"type": "websocket.receive", "bytes": data}


def _json_message(data: Any, mode: Literal["text", "binary"]) -> Message:
    encoded = orjson.dumps(data)
    return _bytes_message(encoded) if mode == "binary" else _text_message(encoded.decode())


def _text(message: Message) -> str:
    text = message.get("text")
    if text is None:
        raise TypeError("Expected a text message, the app sent bytes.")
    return str(text)


def _bytes(message: Message) -> bytes:
    data = message.get("bytes")
    if data is None:
        raise TypeError("Expected a bytes message, the app sent text.")
    return bytes(data)


def _json(message: Message) -> Any:
    text = message.get("text")
    return orjson.loads(text if text is not None else message["bytes"])


class WebSocketTestSession:
    """A WebSocket connection to the app, used as a context manager from sync tests.

    Entering connects (raising ``WebSocketDisconnect`` with the app's close code if
    it refuses); leaving closes with code 1000 and waits for the app to return,
    re-raising any error it raised. Each ``receive*`` waits at most ``timeout``
    seconds, so a broken app fails the test instead of hanging it.
    """

    def __init__(self, channel: WebSocketChannel, portal: _Portal) -> None:
        self._channel = channel
        self._portal = portal

    def __enter__(self) -> Self:
        self._portal.call(self._channel.connect())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def accepted_subprotocol(self) -> str | None:
        """Return the subprotocol the app chose in ``websocket.accept``."""
        return self._channel.subprotocol

    @property
    def accept_headers(self) -> httpx.Headers:
        """Return the extra headers the app sent with ``websocket.accept``."""
        return self._channel.headers

    def send(self, message: Message) -> None:
        """Send a raw ASGI message to the app."""
        self._portal.call(self._channel.send(message))

    def send_text(self, data: str) -> None:
        """Send a text frame."""
        self.send(_text_message(data))

    def send_bytes(self, data: bytes) -> None:
        """Send a binary frame."""
        self.send(_bytes_message(data))

    def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        """Send ``data`` encoded as JSON in a text (or binary) frame."""
        self.send(_json_message(data, mode))

    def receive(self) -> Message:
        """Return the app's next raw ``websocket.send`` message."""
        return self._portal.call(self._channel.receive())

    def receive_text(self) -> str:
        """Return the next frame's text."""
        return _text(self.receive())

    def receive_bytes(self) -> bytes:
        """Return the next frame's bytes."""
        return _bytes(self.receive())

    def receive_json(self) -> Any:
        """Return the next frame (text or binary) decoded as JSON."""
        return _json(self.receive())

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Disconnect with ``code`` and wait for the app to return."""
        self._portal.call(self._channel.close(code, reason))


class AsyncWebSocketTestSession:
    """A WebSocket connection to the app for async tests.

    Use ``async with client.websocket_connect(...) as ws`` or
    ``ws = await client.websocket_connect(...)`` (then ``await ws.close()``).
    Behaves like :class:`WebSocketTestSession`, with every call awaited.
    """

    def __init__(self, channel: WebSocketChannel) -> None:
        self._channel = channel
        self._connected = False

    async def _connect(self) -> Self:
        if not self._connected:
            self._connected = True
            await self._channel.connect()
        return self

    def __await__(self) -> Generator[Any, None, Self]:
        return self._connect().__await__()

    async def __aenter__(self) -> Self:
        return await self._connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def accepted_subprotocol(self) -> str | None:
        """Return the subprotocol the app chose in ``websocket.accept``."""
        return self._channel.subprotocol

    @property
    def accept_headers(self) -> httpx.Headers:
        """Return the extra headers the app sent with ``websocket.accept``."""
        return self._channel.headers

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message to the app."""
        await self._channel.send(message)

    async def send_text(self, data: str) -> None:
        """Send a text frame."""
        await self.send(_text_message(data))

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame."""
        await self.send(_bytes_message(data))

    async def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        """Send ``data`` encoded as JSON in a text (or binary) frame."""
        await self.send(_json_message(data, mode))

    async def receive(self) -> Message:
        """Return the app's next raw ``websocket.send`` message."""
        return await self._channel.receive()

    async def receive_text(self) -> str:
        """Return the next frame's text."""
        return _text(await self.receive())

    async def receive_bytes(self) -> bytes:
        """Return the next frame's bytes."""
        return _bytes(await self.receive())

    async def receive_json(self) -> Any:
        """Return the next frame (text or binary) decoded as JSON."""
        return _json(await self.receive())

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Disconnect with ``code`` and wait for the app to return."""
        await self._channel.close(code, reason)
