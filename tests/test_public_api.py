"""The public surface of `satchel` is pinned: a change here is a deliberate API change."""

import satchel

EXPECTED = {
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
}


def test_all_is_pinned():
    assert set(satchel.__all__) == EXPECTED


def test_every_eager_name_resolves():
    lazy = {
        "FileResponse",
        "StreamingResponse",
        "EventSourceResponse",
        "ServerSentEvent",
        "StaticFiles",
        "render",
        "flash",
        "redirect",
    }
    for name in EXPECTED - lazy:
        assert getattr(satchel, name) is not None


def test_lazy_responses_resolve():
    for name in (
        "FileResponse",
        "StreamingResponse",
        "EventSourceResponse",
        "ServerSentEvent",
        "StaticFiles",
    ):
        assert isinstance(getattr(satchel, name), type)
