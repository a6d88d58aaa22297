"""The request object handed to handlers.

A :class:`Request` is built per request from the server's own data (an ASGI scope
and ``receive``, or granian's RSGI scope and protocol) and parses nothing until a
handler asks: headers, query, cookies, URL and body are all computed on first use
and cached.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from satchel.exceptions import BadRequest, ImproperlyConfigured, PayloadTooLarge
from satchel.http.cookies import parse_cookie_header
from satchel.http.datastructures import Address, FormData, QueryParams, State
from satchel.http.headers import Headers
from satchel.http.url import URL, parse_query_string
from satchel.types import Receive, Scope

if TYPE_CHECKING:
    from satchel.http.forms import FormLimits

#: Default limit for a body read into memory (``body()``, ``json()``, urlencoded forms).
DEFAULT_MAX_BODY_SIZE = 1024 * 1024


class ClientDisconnect(Exception):
    """The client went away while its body was being read."""


class Request:
    """An incoming HTTP request.

    Attributes set for every request: ``method``, ``path``, ``scheme``,
    ``path_params`` and ``state``. Everything else is parsed lazily.
    """

    __slots__ = (
        "__weakref__",
        "_body",
        "_consumed",
        "_cookies",
        "_form",
        "_forwarded",
        "_headers",
        "_json",
        "_proto",
        "_query",
        "_raw_headers",
        "_receive",
        "_rsgi",
        "_scope",
        "_session",
        "_state",
        "_url",
        "_user",
        "app",
        "max_body_size",
        "method",
        "path",
        "path_params",
        "query_string",
        "route",
        "scheme",
    )

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        """Build a request from an ASGI ``scope`` and ``receive`` callable."""
        self._scope: Scope | None = scope
        self._receive = receive
        self._proto: Any = None
        self.method: str = scope.get("method", "GET")
        self.path: str = scope["path"]
        self.scheme: str = scope.get("scheme", "http")
        qs = scope.get("query_string", b"")
        self.query_string: str = qs.decode("latin-1") if isinstance(qs, bytes) else qs
        self._raw_headers: Any = scope.get("headers", ())
        self._rsgi: Any = None
        self._init_lazy()
        self.app: Any = scope.get("app")

    def _init_lazy(self) -> None:
        self.path_params: dict[str, Any] = {}
        self.route: Any = None
        self.max_body_size: int = DEFAULT_MAX_BODY_SIZE
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._url: URL | None = None
        self._state: State | None = None
        self._body: bytes | None = None
        self._json: Any = _UNSET
        self._form: FormData | None = None
        self._consumed = False
        self._session: Any = None
        self._user: Any = None
        self._forwarded: tuple[str | None, tuple[str, int] | None] | None = None

    @classmethod
    def from_rsgi(cls, scope: Any, proto: Any, app: Any = None) -> Request:
        """Build a request from granian's RSGI ``scope`` and protocol object."""
        self = cls.__new__(cls)
        self._scope = None
        self._receive = None
        self._proto = proto
        self.method = scope.method
        self.path = scope.path
        self.scheme = scope.scheme
        qs: str = scope.query_string
        # granian hands over the query decoded as UTF-8; keep Satchel's one form
        # (bytes as latin-1 text, as ASGI gives them) so parsing is the same.
        self.query_string = qs if qs.isascii() else qs.encode("utf-8").decode("latin-1")
        self._raw_headers = scope.headers
        self._rsgi = scope
        self._init_lazy()
        self.app = app
        return self

    # -- metadata --------------------------------------------------------------------

    @property
    def root_path(self) -> str:
        """The path prefix the app is mounted under (ASGI ``root_path``)."""
        return "" if self._scope is None else str(self._scope.get("root_path", ""))

    @property
    def http_version(self) -> str:
        """``1.1``, ``2`` ..."""
        if self._rsgi is not None:
            return str(self._rsgi.http_version)
        return str(self._scope.get("http_version", "1.1")) if self._scope is not None else "1.1"

    @property
    def client_addr(self) -> tuple[str, int] | None:
        """The peer's ``(host, port)``: what a trusted proxy said, else what the server saw."""
        if self._forwarded is not None and self._forwarded[1] is not None:
            return self._forwarded[1]
        if self._rsgi is not None:
            return _split_addr(self._rsgi.client)
        client = self._scope.get("client") if self._scope is not None else None
        return (str(client[0]), int(client[1])) if client else None

    @property
    def server_addr(self) -> tuple[str, int] | None:
        """The local ``(host, port)`` the request arrived on."""
        if self._rsgi is not None:
            return _split_addr(self._rsgi.server)
        server = self._scope.get("server") if self._scope is not None else None
        return (str(server[0]), int(server[1] or 0)) if server else None

    @property
    def headers(self) -> Headers:
        """The request headers (case-insensitive, multi-valued)."""
        if self._headers is None:
            raw = self._raw_headers
            if self._proto is not None:
                self._headers = Headers._wrap([(k.lower(), v) for k, v in raw.items()])
            else:
                self._headers = Headers.from_raw(raw)
        return self._headers

    @property
    def query(self) -> QueryParams:
        """The query string as a multi-dict; malformed percent-encoding raises 400."""
        if self._query is None:
            self._query = parse_query_string(self.query_string)
        return self._query

    query_params = query

    @property
    def cookies(self) -> dict[str, str]:
        """The request's cookies (the first of a repeated name wins)."""
        if self._cookies is None:
            header = self.headers.get("cookie")
            self._cookies = parse_cookie_header(header) if header else {}
        return self._cookies

    @property
    def host(self) -> str:
        """The ``Host`` (or a trusted proxy's ``X-Forwarded-Host``); empty when absent."""
        if self._forwarded is not None and self._forwarded[0] is not None:
            return self._forwarded[0]
        if self._headers is not None:
            return self._headers.get("host", "")
        # Checked on every request: look the one header up without decoding them all.
        raw = self._raw_headers
        if self._proto is not None:
            return str(raw.get("host", ""))
        for name, value in raw:
            if name == b"host":
                return str(value.decode("latin-1"))
        return ""

    def set_forwarded(
        self,
        *,
        scheme: str | None = None,
        host: str | None = None,
        client: tuple[str, int] | None = None,
    ) -> None:
        """Record what a trusted proxy said about the original request.

        Called by the host-checking middleware for proxies listed in
        ``trusted_proxies``; afterwards ``scheme``, ``host``, ``url`` and ``client``
        describe the client's request rather than the proxy's.
        """
        if scheme is not None:
            self.scheme = scheme
        old_host, old_client = self._forwarded or (None, None)
        self._forwarded = (host or old_host, client or old_client)
        self._url = None

    @property
    def url(self) -> URL:
        """The full URL the client asked for."""
        if self._url is None:
            host = self.host
            if not host and self.server_addr:
                host = f"{self.server_addr[0]}:{self.server_addr[1]}"
            path = quote(self.root_path + self.path, safe="/:@!$&'()*+,;=-._~%")
            url = f"{self.scheme}://{host}{path}"
            if self.query_string:
                url += "?" + self.query_string
            self._url = URL(url)
        return self._url

    @property
    def base_url(self) -> URL:
        """The URL of the application root (scheme, host and root path)."""
        return URL(f"{self.scheme}://{self.host or 'localhost'}{self.root_path}/")

    @property
    def client(self) -> Address | None:
        """The peer's ``(host, port)``, when the server says."""
        if self.client_addr is None:
            return None
        return Address(*self.client_addr)

    @property
    def is_secure(self) -> bool:
        """Whether the request came over https (or wss)."""
        return self.scheme in ("https", "wss")

    @property
    def state(self) -> State:
        """A per-request namespace for middleware and providers to share values."""
        if self._state is None:
            self._state = State()
        return self._state

    @property
    def session(self) -> Any:
        """The session (dict-like), loaded on first use by the sessions battery."""
        if self._session is None:
            store = self.app.extensions.get("sessions") if self.app is not None else None
            if store is None:
                raise ImproperlyConfigured(
                    "request.session needs the sessions battery; it is installed by default "
                    "unless turned off - is this request handled by a Satchel App?"
                )
            self._session = store.load(self)
        return self._session

    @property
    def user(self) -> Any:
        """The user making the request (an anonymous user when nobody is logged in)."""
        if self._user is None:
            auth = self.app.extensions.get("auth") if self.app is not None else None
            if auth is None:
                raise ImproperlyConfigured("request.user needs accounts: create Auth(app) first")
            self._user = auth.load_user(self)
        return self._user

    @property
    def content_type(self) -> str:
        """The media type of the body, lower-cased, without parameters."""
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()

    @property
    def scope(self) -> Scope:
        """The ASGI scope (built on demand for RSGI requests)."""
        if self._scope is None:
            self._scope = {
                "type": "http",
                "asgi": {"version": "3.0", "spec_version": "2.3"},
                "http_version": self.http_version,
                "method": self.method,
                "scheme": self.scheme,
                "path": self.path,
                "raw_path": self.path.encode("utf-8"),
                "query_string": self.query_string.encode("latin-1"),
                "root_path": self.root_path,
                "headers": self.headers.raw(),
                "client": self.client_addr,
                "server": self.server_addr,
                "app": self.app,
            }
        return self._scope

    @property
    def asgi_receive(self) -> Receive | None:
        """The ASGI ``receive`` callable (``None`` for RSGI requests); for disconnect checks."""
        return self._receive

    # -- body ------------------------------------------------------------------------

    async def _chunks(self) -> AsyncIterator[bytes]:
        if self._consumed:
            raise RuntimeError("the request body was already read as a stream")
        self._consumed = True
        if self._proto is not None:
            async for chunk in self._proto:
                if chunk:
                    yield chunk
            return
        if self._receive is None:
            return
        while True:
            message = await self._receive()
            kind = message["type"]
            if kind == "http.request":
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return
            elif kind == "http.disconnect":
                raise ClientDisconnect()

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks as they arrive, without holding it in memory.

        After :meth:`body` has been read, yields the cached body once.
        """
        if self._body is not None:
            yield self._body
            return
        async for chunk in self._chunks():
            yield chunk

    async def body(self, limit: int | None = None) -> bytes:
        """Return the whole body; past ``limit`` bytes (default ``max_body_size``) raise 413.

        Reading stops at the limit: an oversized body is never held in memory.
        """
        if self._body is None:
            limit = self.max_body_size if limit is None else limit
            declared = self.headers.get("content-length")
            if declared is not None:
                if not declared.isdigit():
                    raise BadRequest("Content-Length is not a number")
                if int(declared) > limit:
                    raise PayloadTooLarge(f"Request body is larger than the limit of {limit} bytes")
            parts: list[bytes] = []
            size = 0
            async for chunk in self._chunks():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"Request body is larger than the limit of {limit} bytes")
                parts.append(chunk)
            self._body = b"".join(parts)
        return self._body

    async def json(self) -> Any:
        """Return the body parsed as JSON; malformed JSON raises 400."""
        if self._json is _UNSET:
            body = await self.body()
            try:
                self._json = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise BadRequest(f"Malformed JSON body: {exc}") from None
        return self._json

    async def form(self, limits: FormLimits | None = None) -> FormData:
        """Return the parsed form (urlencoded or multipart); uploads spool to disk.

        Limits (fields, files, part sizes) come from ``limits`` or the app; going
        over one raises 413, malformed input 400.
        """
        if self._form is None:
            from satchel.http.forms import FormLimits, parse_form

            if limits is None:
                limits = getattr(self.app, "form_limits", None) or FormLimits()
            self._form = await parse_form(self, limits)
        return self._form

    async def close(self) -> None:
        """Release resources held by the request (spooled upload files)."""
        if self._form is not None:
            await self._form.close()

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


class _Unset:
    pass


_UNSET: Any = _Unset()


def _split_addr(addr: str | None) -> tuple[str, int] | None:
    if not addr:
        return None
    host, _, port = addr.rpartition(":")
    if not host:
        return (addr, 0)
    host = host.strip("[]")
    return (host, int(port)) if port.isdigit() else (host, 0)


__all__ = ["DEFAULT_MAX_BODY_SIZE", "ClientDisconnect", "Request"]
