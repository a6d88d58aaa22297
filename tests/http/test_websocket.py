"""WebSocket handlers through the test client."""

from typing import Annotated

import pytest

from satchel import App, Header, HTTPException, WebSocket, WebSocketDisconnect
from satchel.testing import TestClient


@pytest.fixture
def app():
    app = App()

    @app.provider(name="room_name")
    async def room_name(room: str) -> str:
        return room.upper()

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await ws.send_text(text)

    @app.websocket("/json/{room}")
    async def json_room(
        ws: WebSocket, room: str, room_name: str, token: Annotated[str, Header(alias="x-token")]
    ) -> None:
        await ws.accept()
        data = await ws.receive_json()
        await ws.send_json({"room": room, "name": room_name, "token": token, "got": data})
        await ws.close(4000, "done")

    @app.websocket("/bytes")
    async def byte_echo(ws: WebSocket) -> None:
        await ws.accept()
        data = await ws.receive_bytes()
        await ws.send_bytes(data[::-1])

    @app.websocket("/reject")
    async def reject(ws: WebSocket) -> None:
        raise HTTPException(403, "no")

    @app.websocket("/crash")
    async def crash(ws: WebSocket) -> None:
        await ws.accept()
        raise RuntimeError("boom")

    return app


def test_echo_text(app):
    with TestClient(app).websocket_connect("/echo") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.send_text("again")
        assert ws.receive_text() == "again"


def test_typed_params_providers_and_close_code(app):
    client = TestClient(app)
    with client.websocket_connect("/json/lobby", headers={"x-token": "t"}) as ws:
        ws.send_json({"a": 1})
        assert ws.receive_json() == {
            "room": "lobby",
            "name": "LOBBY",
            "token": "t",
            "got": {"a": 1},
        }
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
        assert info.value.code == 4000


def test_missing_required_header_refuses_connection(app):
    with pytest.raises(WebSocketDisconnect) as info:
        with TestClient(app).websocket_connect("/json/lobby") as ws:
            ws.receive_text()
    assert info.value.code == 1008


def test_bytes(app):
    with TestClient(app).websocket_connect("/bytes") as ws:
        ws.send_bytes(b"abc")
        assert ws.receive_bytes() == b"cba"


def test_unknown_route_and_rejection(app):
    client = TestClient(app)
    for path in ("/nowhere", "/reject"):
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect(path) as ws:
                ws.receive_text()


def test_server_error_closes_1011(app):
    with TestClient(app).websocket_connect("/crash") as ws:
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert info.value.code == 1011


def test_malformed_json_closes_1007():
    app = App()

    @app.websocket("/j")
    async def j(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_json()

    with TestClient(app).websocket_connect("/j") as ws:
        ws.send_text("{nope")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert info.value.code == 1007
