"""Tests for AsyncTestClient, driven against raw ASGI apps on the test's own loop."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from satchel.exceptions import WebSocketDisconnect
from satchel.testing import AsyncTestClient, AsyncWebSocketTestSession, LifespanFailed
from satchel.types import Message, Receive, Scope, Send


async def read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if not message.get("more_body", False):
            break
    return b"".join(m["body"] for m in messages), messages


async def respond(
    send: Send, body: bytes = b"", status: int = 200, headers: list[Any] | None = None
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    body, messages = await read_body(receive)
    await respond(send, body, headers=[(b"x-chunks", str(len(messages)).encode())])


async def test_app_runs_on_the_callers_loop() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        loops.append(asyncio.get_running_loop())
        await respond(send, b"ok")

    client = AsyncTestClient(app)
    response = await client.get("/")
    await client.aclose()
    assert response.text == "ok"
    assert loops == [asyncio.get_running_loop()]


async def test_large_body_is_chunked() -> None:
    payload = b"x" * (5 * 1024 * 1024)
    client = AsyncTestClient(echo_app)
    response = await client.post("/", content=payload)
    await client.aclose()
    assert response.content == payload
    assert response.headers["x-chunks"] == "80"


async def test_streaming_response_can_be_read_and_abandoned() -> None:
    stopped = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            for i in range(1_000_000):
                await send({"type": "http.response.body", "body": b"%d\n" % i, "more_body": True})
                await asyncio.sleep(0)
        finally:
            stopped.set()

    client = AsyncTestClient(app)
    async with client.stream("GET", "/") as response:
        lines = []
        async for line in response.aiter_lines():
            lines.append(line)
            if len(lines) == 5:
                break
    assert lines == ["0", "1", "2", "3", "4"]
    assert stopped.is_set()


async def test_cookies_and_redirects() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/login":
            headers = [(b"set-cookie", b"sid=xyz; Path=/"), (b"location", b"/home")]
            await respond(send, status=303, headers=headers)
        else:
            await respond(send, dict(scope["headers"]).get(b"cookie", b"-"))

    client = AsyncTestClient(app)
    response = await client.post("/login")
    assert response.url.path == "/home"
    assert response.text == "sid=xyz"
    assert client.cookies["sid"] == "xyz"


async def test_app_error_is_raised_or_turned_into_500() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise LookupError("missing")

    with pytest.raises(LookupError, match="missing"):
        await AsyncTestClient(app).get("/")
    response = await AsyncTestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500


async def test_read_timeout() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(10)

    with pytest.raises(httpx.ReadTimeout):
        await AsyncTestClient(app).get("/", timeout=0.05)


def lifespan_app(events: list[str], fail: bool = False) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            events.append("startup")
            if fail:
                await send({"type": "lifespan.startup.failed", "message": "bad config"})
                return
            scope["state"]["name"] = "loaded"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            events.append("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return
        await respond(send, scope.get("state", {}).get("name", "none").encode())

    return app


async def test_lifespan_runs_with_async_with() -> None:
    events: list[str] = []
    app = lifespan_app(events)
    assert (await AsyncTestClient(app).get("/")).text == "none"
    assert events == []
    async with AsyncTestClient(app) as client:
        assert events == ["startup"]
        assert (await client.get("/")).text == "loaded"
    assert events == ["startup", "shutdown"]


async def test_lifespan_startup_failure_raises() -> None:
    client = AsyncTestClient(lifespan_app([], fail=True))
    with pytest.raises(LifespanFailed, match="bad config"):
        async with client:
            pass


async def ws_echo(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept", "subprotocol": "chat"})
    while (message := await receive())["type"] != "websocket.disconnect":
        await send({"type": "websocket.send", "text": message.get("text") or "?"})


async def test_websocket_with_async_with() -> None:
    client = AsyncTestClient(ws_echo)
    async with client.websocket_connect("/ws", subprotocols=["chat"]) as ws:
        assert isinstance(ws, AsyncWebSocketTestSession)
        assert ws.accepted_subprotocol == "chat"
        await ws.send_text("one")
        assert await ws.receive_text() == "one"
        await ws.send_json({"k": 1})
        assert await ws.receive_json() == {"k": 1}


async def test_websocket_with_await() -> None:
    ws = await AsyncTestClient(ws_echo).websocket_connect("/ws")
    await ws.send_text("two")
    assert await ws.receive_text() == "two"
    await ws.close()
    with pytest.raises(RuntimeError, match="closed"):
        await ws.send_text("late")


async def test_websocket_refused() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 4404})

    with pytest.raises(WebSocketDisconnect) as info:
        async with AsyncTestClient(app).websocket_connect("/"):
            pass
    assert info.value.code == 4404


async def test_websocket_receive_timeout() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    async with AsyncTestClient(app).websocket_connect("/", timeout=0.05) as ws:
        with pytest.raises(TimeoutError):
            await ws.receive()
