"""Test Satchel apps (or any ASGI app) without a server.

``TestClient`` is an ``httpx.Client`` for sync tests, ``AsyncTestClient`` an
``httpx.AsyncClient`` for async ones; both run the app in process and speak
ASGI 3 to it, WebSockets and lifespan included.
"""

from satchel.testing._asgi import LifespanFailed
from satchel.testing.asyncclient import AsyncTestClient
from satchel.testing.client import TestClient
from satchel.testing.websocket import AsyncWebSocketTestSession, WebSocketTestSession

__all__ = [
    "AsyncTestClient",
    "AsyncWebSocketTestSession",
    "LifespanFailed",
    "TestClient",
    "WebSocketTestSession",
]
