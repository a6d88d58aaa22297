"""WebSockets get the host check and an Origin check (cross-site WebSocket hijacking)."""

import pytest

from satchel import App, WebSocket, WebSocketDisconnect
from satchel.testing import TestClient


def make_app() -> App:
    app = App(allowed_hosts=["testserver"], csrf_trusted_origins=["https://partner.example"])

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")

    return app


@pytest.mark.parametrize(
    "headers",
    [
        {},  # not a browser: no Origin, no ambient cookies to ride on
        {"origin": "http://testserver"},
        {"origin": "https://partner.example"},
    ],
)
def test_same_site_and_trusted_origins_connect(headers):
    with TestClient(make_app()).websocket_connect("/ws", headers=headers) as ws:
        assert ws.receive_text() == "hello"


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"origin": "http://testserver.evil.example"},
        {"host": "evil.example"},
    ],
)
def test_cross_site_or_wrong_host_is_refused(headers):
    with pytest.raises(WebSocketDisconnect) as info:
        with TestClient(make_app()).websocket_connect("/ws", headers=headers) as ws:
            ws.receive_text()
    assert info.value.code == 1008
