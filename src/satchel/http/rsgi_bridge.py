"""Run an ASGI app for a request that arrived over RSGI.

Used when the app has plain ASGI middleware or a mounted ASGI app: granian still
speaks RSGI to Satchel, and this bridge translates both directions.
"""

from __future__ import annotations

import asyncio
from typing import Any

from satchel.http.request import Request
from satchel.types import ASGIApp, Message


async def serve_asgi(app: ASGIApp, scope: Any, proto: Any, owner: Any) -> None:
    """Serve one RSGI HTTP request or WebSocket through the ASGI ``app``."""
    if scope.proto == "http":
        await _serve_http(app, Request.from_rsgi(scope, proto, owner), proto)
    else:
        await _serve_websocket(app, Request.from_rsgi(scope, proto, owner), proto)


async def _serve_http(app: ASGIApp, request: Request, proto: Any) -> None:
    asgi_scope = dict(request.scope)
    body_iter = proto.__aiter__()
    done = asyncio.Event()
    state: dict[str, Any] = {"started": False, "stream": None, "status": 500, "headers": []}

    async def receive() -> Message:
        if done.is_set():
            return {"type": "http.disconnect"}
        try:
            chunk = await body_iter.__anext__()
            return {"type": "http.request", "body": chunk, "more_body": True}
        except StopAsyncIteration:
            # Body fully read: park until the response is finished, then report it.
            if state.get("body_done"):
                await done.wait()
                return {"type": "http.disconnect"}
            state["body_done"] = True
            return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            state["status"] = message["status"]
            state["headers"] = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
            ]
            state["started"] = True
        elif kind == "http.response.body":
            body = message.get("body", b"")
            more = message.get("more_body", False)
            stream = state["stream"]
            if stream is None and not more:
                proto.response_bytes(state["status"], state["headers"], body)
                done.set()
                return
            if stream is None:
                stream = proto.response_stream(state["status"], state["headers"])
                state["stream"] = stream
            if body:
                await stream.send_bytes(body)
            if not more:
                done.set()

    try:
        await app(asgi_scope, receive, send)
    finally:
        if not done.is_set() and not state["started"]:
            proto.response_bytes(500, [("content-type", "text/plain")], b"Internal Server Error")
        done.set()


async def _serve_websocket(app: ASGIApp, request: Request, proto: Any) -> None:
    asgi_scope = dict(request.scope)
    asgi_scope["type"] = "websocket"
    asgi_scope["scheme"] = "wss" if request.scheme == "https" else "ws"
    state: dict[str, Any] = {"transport": None, "connected": False}

    async def receive() -> Message:
        if not state["connected"]:
            state["connected"] = True
            return {"type": "websocket.connect"}
        transport = state["transport"]
        if transport is None:
            return {"type": "websocket.disconnect", "code": 1006}
        message = await transport.receive()
        kind = int(message.kind)
        if kind == 0:
            return {"type": "websocket.disconnect", "code": 1000}
        if kind == 1:
            return {"type": "websocket.receive", "bytes": message.data}
        return {"type": "websocket.receive", "text": message.data}

    async def send(message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            state["transport"] = await proto.accept()
        elif kind == "websocket.send":
            transport = state["transport"]
            if message.get("text") is not None:
                await transport.send_str(message["text"])
            else:
                await transport.send_bytes(message.get("bytes") or b"")
        elif kind == "websocket.close":
            proto.close(message.get("code", 1000))

    await app(asgi_scope, receive, send)


__all__ = ["serve_asgi"]
