"""Response classes.

A response is a status, headers and a body, and knows how to send itself over
both protocols Satchel speaks: ASGI (``await response(scope, receive, send)``, so
any response is also an ASGI app) and granian's RSGI (:meth:`Response.send_rsgi`).
Streaming and file responses override the two ``send_*`` methods.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from datetime import datetime
from typing import Any, ClassVar

import orjson

from satchel.http.cookies import SameSite, build_set_cookie
from satchel.http.headers import HeaderItems, MutableHeaders, check_header
from satchel.http.request import Request
from satchel.types import Receive, Scope, Send

# Statuses that never carry a body (RFC 9110 6.4.1).
_NO_BODY = frozenset({204, 304}) | frozenset(range(100, 200))


class Response:
    """An HTTP response with a body held in memory.

    ``content`` may be ``bytes``, ``str`` (encoded with :attr:`charset`) or ``None``.
    ``media_type`` sets ``Content-Type``; text types get ``; charset=utf-8``.
    """

    media_type: ClassVar[str | None] = None
    charset: ClassVar[str] = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: HeaderItems | None = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.body: bytes = self.render(content)
        self._cookies: list[tuple[str, dict[str, Any]]] | None = None
        content_type = media_type or self.media_type
        if headers:
            self._headers: list[tuple[str, str]] = MutableHeaders(headers)._items
            if any(name == "content-type" for name, _ in self._headers):
                content_type = None
        else:
            self._headers = []
        if content_type is not None:
            if content_type.startswith("text/") and "charset=" not in content_type:
                content_type += "; charset=" + self.charset
            self._headers.append(("content-type", content_type))

    def render(self, content: Any) -> bytes:
        """Return ``content`` as bytes; subclasses override to serialise other types."""
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            return content.encode(self.charset)
        if isinstance(content, bytearray | memoryview):
            return bytes(content)
        raise TypeError(
            f"{type(self).__name__} content must be bytes or str, not {type(content).__name__}"
        )

    @property
    def headers(self) -> MutableHeaders:
        """The response headers, editable; CR/LF in names or values raise ``ValueError``."""
        headers = MutableHeaders.__new__(MutableHeaders)
        headers._items = self._headers
        return headers

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        max_age: int | None = None,
        expires: datetime | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool | None = None,
        httponly: bool = True,
        samesite: SameSite | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Set a cookie with secure defaults: HttpOnly, SameSite=Lax, and Secure under https.

        ``secure=None`` means "Secure when the request came over https"; pass
        ``True`` or ``False`` to decide yourself.
        """
        options: dict[str, Any] = {
            "max_age": max_age,
            "expires": expires,
            "path": path,
            "domain": domain,
            "secure": secure,
            "httponly": httponly,
            "samesite": samesite,
            "partitioned": partitioned,
        }
        # Validate now, so the mistake surfaces at the line that made it.
        build_set_cookie(key, value, **{**options, "secure": True if secure is None else secure})
        if self._cookies is None:
            self._cookies = []
        self._cookies.append((key, {"value": value, **options}))

    def delete_cookie(
        self,
        key: str,
        *,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool | None = None,
        httponly: bool = True,
        samesite: SameSite | None = "lax",
    ) -> None:
        """Tell the browser to drop cookie ``key`` (same path and domain as it was set with)."""
        self.set_cookie(
            key,
            "",
            max_age=0,
            expires=datetime(1970, 1, 1).astimezone(),
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    def header_items(self, https: bool) -> list[tuple[str, str]]:
        """Return the headers to send, ``Set-Cookie`` lines included."""
        if self._cookies is None:
            return self._headers
        items = list(self._headers)
        for key, options in self._cookies:
            opts = dict(options)
            value = opts.pop("value")
            if opts["secure"] is None:
                opts["secure"] = https or opts["samesite"] == "none"
            items.append(("set-cookie", build_set_cookie(key, value, **opts)))
        return items

    def _body_allowed(self) -> bool:
        return self.status_code not in _NO_BODY

    async def send_asgi(self, request: Request, send: Send) -> None:
        """Send this response for ``request`` through an ASGI ``send`` callable."""
        has_body = self._body_allowed()
        raw = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in self.header_items(request.is_secure)
        ]
        if has_body:
            raw.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status_code, "headers": raw})
        body = self.body if has_body and request.method != "HEAD" else b""
        await send({"type": "http.response.body", "body": body})

    async def send_rsgi(self, request: Request, proto: Any) -> None:
        """Send this response for ``request`` through a granian RSGI protocol object."""
        if request.method == "HEAD" or not self._body_allowed():
            headers = self.header_items(request.is_secure)
            if self._body_allowed():
                headers = [*headers, ("content-length", str(len(self.body)))]
            proto.response_empty(self.status_code, headers)
        else:
            proto.response_bytes(self.status_code, self.header_items(request.is_secure), self.body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.send_asgi(Request(scope, receive), send)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code}>"


class HTMLResponse(Response):
    """A ``text/html; charset=utf-8`` response."""

    media_type = "text/html"


class PlainTextResponse(Response):
    """A ``text/plain; charset=utf-8`` response."""

    media_type = "text/plain"


def _json_default(value: Any) -> Any:
    # pydantic is imported only by apps that use it; look for its method by name
    # so this module does not import pydantic.
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def dump_json(value: Any) -> bytes:
    """Serialise ``value`` to JSON bytes (dataclasses, datetimes, UUIDs and pydantic models too)."""
    try:
        return orjson.dumps(value, default=_json_default, option=_JSON_OPTIONS)
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise
    # orjson refuses integers past 64 bits; the standard library writes them exactly.
    import json

    text = json.dumps(value, default=_stdlib_default, ensure_ascii=False, separators=(",", ":"))
    return text.encode()


def _stdlib_default(value: Any) -> Any:
    if is_dataclass_instance(value):
        return dataclasses.asdict(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    return _json_default(value)


class JSONResponse(Response):
    """An ``application/json`` response; ``content`` is any JSON-serialisable value."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise ``content`` with orjson."""
        return dump_json(content)


class RedirectResponse(Response):
    """A redirect to ``url`` (``307`` by default, keeping the method)."""

    def __init__(
        self,
        url: str,
        status_code: int = 307,
        headers: HeaderItems | None = None,
    ) -> None:
        if not 300 <= status_code < 400:
            raise ValueError(f"redirect status must be 3xx, not {status_code}")
        check_header("location", url)
        super().__init__(b"", status_code, headers)
        self.headers["location"] = url


def is_dataclass_instance(value: object) -> bool:
    """Return whether ``value`` is a dataclass instance (not a dataclass type)."""
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


__all__ = [
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "dump_json",
]
