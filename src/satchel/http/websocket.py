"""WebSocket connections, over ASGI or granian's RSGI.

A :class:`WebSocket` is a :class:`~satchel.http.request.Request` (headers, query,
cookies, path params, state all work the same) plus the message API. A handler
takes it as a parameter::

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await ws.send_text(text)
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson

from satchel.exceptions import HTTPException, ValidationError, WebSocketDisconnect
from satchel.http.request import Request
from satchel.types import Receive, Scope, Send

logger = logging.getLogger("satchel.error")

CONNECTING, CONNECTED, CLOSED = "connecting", "connected", "closed"


class WebSocket(Request):
    """One WebSocket connection; ``state`` moves from connecting to connected to closed."""

    __slots__ = ("_send", "_transport", "client_state")

    def __init__(self, scope: Scope, receive: Receive, send: Send, app: Any = None) -> None:
        super().__init__(scope, receive)
        self._send: Send | None = send
        self._transport: Any = None
        self.client_state = CONNECTING
        self.app = app

    @classmethod
    def from_rsgi(cls, scope: Any, proto: Any, app: Any = None) -> WebSocket:
        """Wrap granian's RSGI WebSocket protocol."""
        self = super().from_rsgi(scope, proto, app)
        assert isinstance(self, WebSocket)
        self._send = None
        self._transport = None
        self.client_state = CONNECTING
        return self

    async def accept(
        self, subprotocol: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        """Accept the connection (optionally choosing a subprotocol)."""
        if self.client_state != CONNECTING:
            raise RuntimeError("WebSocket.accept() called twice")
        if self._proto is not None:
            self._transport = await self._proto.accept()
        else:
            assert self._receive is not None and self._send is not None
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self.client_state = CLOSED
                raise WebSocketDisconnect(message.get("code", 1006))
            raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
            await self._send(
                {"type": "websocket.accept", "subprotocol": subprotocol, "headers": raw}
            )
        self.client_state = CONNECTED

    async def receive(self) -> str | bytes:
        """Return the next message (text as ``str``, binary as ``bytes``).

        Raises :class:`WebSocketDisconnect` when the peer closes.
        """
        if self.client_state != CONNECTED:
            raise RuntimeError("receive() needs an accepted, open WebSocket")
        if self._transport is not None:
            message = await self._transport.receive()
            kind = int(message.kind)
            if kind == 0:
                self.client_state = CLOSED
                raise WebSocketDisconnect(1000)
            return message.data  # type: ignore[no-any-return]
        assert self._receive is not None
        event = await self._receive()
        if event["type"] == "websocket.disconnect":
            self.client_state = CLOSED
            raise WebSocketDisconnect(event.get("code", 1000), event.get("reason") or "")
        text = event.get("text")
        if text is not None:
            return text  # type: ignore[no-any-return]
        return event.get("bytes") or b""

    async def receive_text(self) -> str:
        """Return the next message as text (binary messages are decoded as UTF-8)."""
        data = await self.receive()
        return data if isinstance(data, str) else data.decode("utf-8")

    async def receive_bytes(self) -> bytes:
        """Return the next message as bytes (text is encoded as UTF-8)."""
        data = await self.receive()
        return data if isinstance(data, bytes) else data.encode("utf-8")

    async def receive_json(self) -> Any:
        """Return the next message parsed as JSON; malformed JSON closes with 1007."""
        data = await self.receive()
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            await self.close(1007, "Malformed JSON")
            raise WebSocketDisconnect(1007, "Malformed JSON") from None

    async def iter_text(self) -> AsyncIterator[str]:
        """Yield text messages until the peer disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_json(self) -> AsyncIterator[Any]:
        """Yield JSON messages until the peer disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            return

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        await self._send_message(data)

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        await self._send_message(bytes(data))

    async def send_json(self, data: Any) -> None:
        """Send ``data`` as a JSON text message."""
        await self._send_message(orjson.dumps(data).decode())

    async def _send_message(self, data: str | bytes) -> None:
        if self.client_state != CONNECTED:
            raise RuntimeError("send needs an accepted, open WebSocket")
        if self._transport is not None:
            if isinstance(data, str):
                await self._transport.send_str(data)
            else:
                await self._transport.send_bytes(data)
            return
        assert self._send is not None
        key = "text" if isinstance(data, str) else "bytes"
        await self._send({"type": "websocket.send", key: data})

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (before accepting, this refuses it)."""
        if self.client_state == CLOSED:
            return
        was = self.client_state
        self.client_state = CLOSED
        if self._proto is not None:
            if was == CONNECTING:
                # granian: closing an unaccepted socket refuses the handshake.
                self._proto.close(code)
            else:
                self._proto.close(code)
            return
        assert self._send is not None
        await self._send({"type": "websocket.close", "code": code, "reason": reason})

    async def run(self, plan: Any) -> None:
        """Resolve the handler's parameters, run it, and close cleanly whatever happens."""
        from satchel.handlers.providers import ProviderContext

        ctx = ProviderContext()
        try:
            try:
                kwargs = await plan.resolve(self, ctx)
            except (ValidationError, HTTPException) as exc:
                await self.close(1008, str(exc.detail)[:120])
                return
            try:
                await plan.func(**kwargs)
            except BaseException as exc:
                await ctx.close(exc, plan.run_sync)
                raise
            await ctx.close(None, plan.run_sync)
        except WebSocketDisconnect:
            self.client_state = CLOSED
        except Exception:
            logger.exception("Unhandled exception in WebSocket handler for %s", self.path)
            await self.close(1011, "Internal error")
            return
        if self.client_state != CLOSED:
            await self.close(1000)

    def __repr__(self) -> str:
        return f"<WebSocket {self.path} {self.client_state}>"


__all__ = ["CLOSED", "CONNECTED", "CONNECTING", "WebSocket"]
