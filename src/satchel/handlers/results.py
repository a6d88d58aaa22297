"""Turn whatever a handler returned into a :class:`Response`.

``str`` is HTML, ``dict``/``list``/models/dataclasses are JSON, ``bytes`` is
``application/octet-stream``, ``None`` is ``204 No Content``, and tuples add a
status and headers: ``(body, status)`` or ``(body, status, headers)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from satchel.http.response import (
    HTMLResponse,
    JSONResponse,
    Response,
    dump_json,
    is_dataclass_instance,
)

_HTML = "text/html; charset=utf-8"
_JSON = "application/json"


def _fast(body: bytes, status: int, content_type: str) -> Response:
    # Skip Response.__init__'s generic checks: the content type is known and safe.
    response = Response.__new__(Response)
    response.status_code = status
    response.body = body
    response._headers = [("content-type", content_type)]
    response._cookies = None
    return response


def to_response(value: Any, status_code: int | None = None, where: str = "handler") -> Response:
    """Return the response for a handler's return value (``status_code`` when it didn't set one)."""
    kind = type(value)
    if kind is str:
        return _fast(value.encode(), status_code or 200, _HTML)
    if kind is dict or kind is list:
        return _fast(dump_json(value), status_code or 200, _JSON)
    if isinstance(value, Response):
        return value
    if value is None:
        response = _fast(b"", 204 if status_code in (None, 200) else status_code, _HTML)
        response._headers = []  # no body, so no Content-Type
        return response
    if kind is tuple:
        return _from_tuple(value, status_code, where)
    if isinstance(value, str):
        return HTMLResponse(value, status_code or 200)
    if isinstance(value, bytes | bytearray | memoryview):
        return Response(bytes(value), status_code or 200, media_type="application/octet-stream")
    if (
        isinstance(value, dict | list)
        or is_dataclass_instance(value)
        or hasattr(value, "model_dump")
    ):
        return JSONResponse(value, status_code or 200)
    raise TypeError(
        f"{where} returned {kind.__name__}; return str (HTML), dict/list/pydantic model/"
        "dataclass (JSON), bytes, None (204), a Response, or a (body, status[, headers]) tuple"
    )


def _from_tuple(value: tuple[Any, ...], status_code: int | None, where: str) -> Response:
    if len(value) == 2:
        body, status = value
        headers: Mapping[str, str] | None = None
    elif len(value) == 3:
        body, status, headers = value
    else:
        raise TypeError(f"{where} returned a tuple of {len(value)}; use (body, status[, headers])")
    if not isinstance(status, int):
        raise TypeError(f"{where} returned a tuple whose second item is not an int status")
    response = to_response(body, status, where)
    response.status_code = status
    if headers:
        response.headers.update(headers)
    return response


__all__ = ["to_response"]
