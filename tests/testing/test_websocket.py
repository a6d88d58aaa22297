"""Tests for TestClient.websocket_connect, driven against raw ASGI apps."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from satchel.exceptions import WebSocketDisconnect
from satchel.testing import TestClient, WebSocketTestSession
from satchel.types import Message, Receive, Scope, Send


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if "text" in message:
            await send({"type": "websocket.send", "text": "echo:" + message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": b"echo:" + message["bytes"]})


def test_echo_text_bytes_and_json() -> None:
    client = TestClient(echo_app)
    with client.websocket_connect("/ws") as ws:
        assert isinstance(ws, WebSocketTestSession)
        ws.send_text("hi")
        assert ws.receive_text() == "echo:hi"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"echo:\x00\x01"
        ws.send_json({"a": 1})
        assert ws.receive_text() == 'echo:{"a":1}'
        ws.send_json([1], mode="binary")
        assert ws.receive() == {"type": "websocket.send", "bytes": b"echo:[1]"}
    client.close()


def test_receive_json_and_wrong_frame_type() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": '{"x": [1, 2]}'})
        await send({"type": "websocket.send", "bytes": b'{"y": null}'})
        await send({"type": "websocket.send", "bytes": b"raw"})
        await receive()

    with TestClient(app).websocket_connect("/") as ws:
        assert ws.receive_json() == {"x": [1, 2]}
        assert ws.receive_json() == {"y": None}
        with pytest.raises(TypeError, match="Expected a text message"):
            ws.receive_text()


@pytest.mark.parametrize(("code", "reason"), [(4403, "go away"), (1008, "")])
def test_close_before_accept_raises_with_code(code: int, reason: str) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": code, "reason": reason})

    with pytest.raises(WebSocketDisconnect) as info, TestClient(app).websocket_connect("/"):
        pytest.fail("connected to an app that refused")
    assert (info.value.code, info.value.reason) == (code, reason)


def test_return_before_accept_is_a_refusal() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with pytest.raises(WebSocketDisconnect) as info, TestClient(app).websocket_connect("/"):
        pass
    assert info.value.code == 1006


def test_app_side_close_is_raised_on_every_later_receive() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "bye"})
        await send({"type": "websocket.close", "code": 4001, "reason": "done"})

    with TestClient(app).websocket_connect("/") as ws:
        assert ws.receive_text() == "bye"
        for _ in range(2):
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive()
            assert (info.value.code, info.value.reason) == (4001, "done")


def test_app_returning_after_accept_closes_normally() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})

    with TestClient(app).websocket_connect("/") as ws, pytest.raises(WebSocketDisconnect) as info:
        ws.receive_text()
    assert info.value.code == 1000


def test_receive_times_out_instead_of_hanging() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    with TestClient(app).websocket_connect("/", timeout=0.1) as ws:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match=r"within 0\.1 s"):
            ws.receive()
        assert time.monotonic() - started < 2


def test_connect_times_out_when_the_app_never_answers() -> None:
    cancelled: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with pytest.raises(TimeoutError), TestClient(app).websocket_connect("/", timeout=0.1):
        pass
    assert cancelled == [True]


def test_subprotocol_and_accept_headers() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": scope["subprotocols"][-1],
                "headers": [(b"x-session", b"42")],
            }
        )
        await receive()

    with TestClient(app).websocket_connect("/", subprotocols=["v1", "v2"]) as ws:
        assert ws.accepted_subprotocol == "v2"
        assert ws.accept_headers["x-session"] == "42"


def test_client_close_code_reaches_the_app() -> None:
    received: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        received.append(await receive())
        received.append(await receive())  # reading again hears the disconnect again

    with TestClient(app).websocket_connect("/") as ws:
        ws.close(4000, "finished")
        disconnect = {"type": "websocket.disconnect", "code": 4000, "reason": "finished"}
        assert received == [disconnect, disconnect]
        with pytest.raises(RuntimeError, match="closed"):
            ws.send_text("too late")


def test_app_sending_after_client_close_is_stopped() -> None:
    errors: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        try:
            while True:
                await send({"type": "websocket.send", "text": "tick"})
                await asyncio.sleep(0.001)
        except OSError as exc:
            errors.append(exc)
            raise

    with TestClient(app).websocket_connect("/") as ws:
        assert ws.receive_text() == "tick"
    assert len(errors) == 1


def test_app_error_after_accept_is_raised() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        raise ValueError(message.get("text"))

    with TestClient(app).websocket_connect("/") as ws:
        ws.send_text("boom")
        with pytest.raises(ValueError, match="boom"):
            ws.receive()
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive()
        assert info.value.code == 1011


def test_app_error_is_raised_on_exit_if_never_received() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise KeyError("on disconnect")

    with pytest.raises(KeyError, match="on disconnect"), TestClient(app).websocket_connect("/"):
        pass


def test_app_error_before_accept_without_raising() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("nope")

    client = TestClient(app, raise_server_exceptions=False)
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/"):
        pass
    assert info.value.code == 1011


def test_websocket_scope() -> None:
    scopes: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scopes.append(scope)
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    client = TestClient(
        app, base_url="https://example.org", root_path="/api", cookies={"sid": "s1"}
    )
    with client.websocket_connect(
        "/chat/caf%C3%A9?room=%C3%BC+1", subprotocols=["a", "b"], headers={"X-Token": "t"}
    ):
        pass
    scope: dict[str, Any] = dict(scopes[0])
    headers = dict(scope.pop("headers"))
    assert scope["type"] == "websocket"
    assert scope["scheme"] == "wss"
    assert scope["path"] == "/chat/café"
    assert scope["raw_path"] == b"/chat/caf%C3%A9"
    assert scope["query_string"] == b"room=%C3%BC+1"
    assert scope["root_path"] == "/api"
    assert scope["server"] == ("example.org", 443)
    assert scope["subprotocols"] == ["a", "b"]
    assert headers[b"host"] == b"example.org"
    assert headers[b"cookie"] == b"sid=s1"
    assert headers[b"x-token"] == b"t"
    assert headers[b"upgrade"] == b"websocket"
    assert headers[b"sec-websocket-protocol"] == b"a, b"


def test_websocket_scope_carries_lifespan_state() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["greeting"] = "hello"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": scope["state"]["greeting"]})
        await receive()

    with TestClient(app) as client, client.websocket_connect("/") as ws:
        assert ws.receive_text() == "hello"


def test_protocol_mistakes_are_raised() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.send", "text": "before accept"})

    client = TestClient(app)
    with (
        pytest.raises(RuntimeError, match=r"before 'websocket\.accept'"),
        client.websocket_connect("/"),
    ):
        pass
