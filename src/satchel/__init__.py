"""Satchel: a web framework that starts as small as Flask and grows as far as Django.

::

    from satchel import App

    app = App()

    @app.get("/")
    def index() -> str:
        return "<h1>Hello</h1>"

Only the core loads on ``import satchel``; templates, the database, accounts and
the admin load when an app uses them.
"""

from __future__ import annotations

from satchel.app import App
from satchel.exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    HTTPException,
    ImproperlyConfigured,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    ValidationError,
    WebSocketDisconnect,
)
from satchel.handlers.params import Body, Cookie, File, Form, Header, Path, Provide, Query
from satchel.http.datastructures import FormData, QueryParams, UploadFile
from satchel.http.headers import Headers, MutableHeaders
from satchel.http.request import Request
from satchel.http.response import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from satchel.http.websocket import WebSocket
from satchel.module import Module
from satchel.routing.converters import Converter

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # Responses that need more machinery load on first use.
    if name == "FileResponse":
        from satchel.http.files import FileResponse

        return FileResponse
    if name == "StreamingResponse":
        from satchel.http.streaming import StreamingResponse

        return StreamingResponse
    if name in ("EventSourceResponse", "ServerSentEvent"):
        from satchel.http import sse

        return getattr(sse, name)
    if name == "render":
        from satchel.templates import render

        return render
    if name == "flash":
        from satchel.sessions import flash

        return flash
    if name == "redirect":
        from satchel.security.redirects import redirect

        return redirect
    if name == "StaticFiles":
        from satchel.staticfiles import StaticFiles

        return StaticFiles
    raise AttributeError(f"module 'satchel' has no attribute {name!r}")


__all__ = [
    "App",
    "BadRequest",
    "Body",
    "Conflict",
    "Converter",
    "Cookie",
    "EventSourceResponse",
    "File",
    "FileResponse",
    "Forbidden",
    "Form",
    "FormData",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "Headers",
    "ImproperlyConfigured",
    "JSONResponse",
    "MethodNotAllowed",
    "Module",
    "MutableHeaders",
    "NotFound",
    "Path",
    "PayloadTooLarge",
    "PlainTextResponse",
    "Provide",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "Response",
    "ServerSentEvent",
    "ServiceUnavailable",
    "StaticFiles",
    "StreamingResponse",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
    "UploadFile",
    "ValidationError",
    "WebSocket",
    "WebSocketDisconnect",
    "__version__",
    "flash",
    "redirect",
    "render",
]
