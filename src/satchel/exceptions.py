"""Exceptions that Satchel raises and that handlers may raise.

Raising an :class:`HTTPException` (or a subclass) from a handler, a provider or a
hook ends the request with a clean error response of that status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from satchel.status import phrase


class SatchelError(Exception):
    """Base class for every error Satchel defines."""


class ImproperlyConfigured(SatchelError):
    """The application is set up in a way that cannot work; raised at startup."""


class RouteConflict(ImproperlyConfigured):
    """Two routes can never be told apart."""


class HTTPException(SatchelError):
    """End the request with an error response of ``status_code``.

    ``detail`` is shown to the client (keep secrets out of it); ``headers`` are added
    to the error response.
    """

    status_code: int = 500

    def __init__(
        self,
        status_code: int | None = None,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if status_code is not None:
            self.status_code = status_code
        self.detail = detail if detail is not None else phrase(self.status_code)
        self.headers = dict(headers) if headers else {}
        super().__init__(self.status_code, self.detail)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON body sent for this error."""
        return {"status": self.status_code, "detail": self.detail}


class _FixedStatus(HTTPException):
    """An HTTP error whose status is fixed by its class: ``NotFound("No such post")``."""

    def __init__(self, detail: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(None, detail, headers)


class BadRequest(_FixedStatus):
    """400: the request is malformed."""

    status_code = 400


class Unauthorized(_FixedStatus):
    """401: authentication is required."""

    status_code = 401


class Forbidden(_FixedStatus):
    """403: the client may not do this."""

    status_code = 403


class NotFound(_FixedStatus):
    """404: nothing lives at this URL."""

    status_code = 404


class MethodNotAllowed(_FixedStatus):
    """405: the URL exists, the method does not; carries the ``Allow`` header."""

    status_code = 405

    def __init__(self, allowed: Sequence[str], detail: str | None = None) -> None:
        self.allowed = tuple(allowed)
        super().__init__(detail, {"Allow": ", ".join(self.allowed)})


class NotAcceptable(_FixedStatus):
    """406: no representation fits the ``Accept`` header."""

    status_code = 406


class Conflict(_FixedStatus):
    """409: the request conflicts with the current state."""

    status_code = 409


class PayloadTooLarge(_FixedStatus):
    """413: the body (or a part of it) is over a configured limit."""

    status_code = 413


class URITooLong(_FixedStatus):
    """414: the request target is over the limit."""

    status_code = 414


class UnsupportedMediaType(_FixedStatus):
    """415: the body's content type is not one the handler accepts."""

    status_code = 415


class RangeNotSatisfiable(_FixedStatus):
    """416: the requested byte range lies outside the resource."""

    status_code = 416


class TooManyRequests(_FixedStatus):
    """429: the client is being throttled."""

    status_code = 429


class RequestHeaderFieldsTooLarge(_FixedStatus):
    """431: a header (or all of them) is over the limit."""

    status_code = 431


class ServiceUnavailable(_FixedStatus):
    """503: a backing service is down; try again later."""

    status_code = 503


class ValidationError(_FixedStatus):
    """422: request data failed validation.

    ``errors`` is a list of ``{"loc": [...], "msg": str, "type": str}`` dicts, the
    first ``loc`` item naming where the value came from (``path``, ``query``,
    ``header``, ``cookie``, ``body``).
    """

    status_code = 422

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__("Request validation failed")

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON body: the status, a summary and each error."""
        return {"status": 422, "detail": self.detail, "errors": self.errors}


class WebSocketDisconnect(SatchelError):
    """The WebSocket peer went away; ``code`` is the close code it sent."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(code, reason)


__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "HTTPException",
    "ImproperlyConfigured",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "PayloadTooLarge",
    "RangeNotSatisfiable",
    "RequestHeaderFieldsTooLarge",
    "RouteConflict",
    "SatchelError",
    "ServiceUnavailable",
    "TooManyRequests",
    "URITooLong",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationError",
    "WebSocketDisconnect",
]
