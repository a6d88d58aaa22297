"""Response compression: gzip, and brotli when the ``brotli`` package is installed.

::

    from satchel.middleware.compression import compression

    app.middleware(compression(minimum_size=500))

A typed middleware (it sees the :class:`~satchel.http.response.Response`, and
runs on both ASGI and RSGI). A body is compressed when the client's
``Accept-Encoding`` allows it, its type is text-like (HTML, CSS, JavaScript,
JSON, XML, SVG...), it is at least ``minimum_size`` bytes, and it is not
already encoded or marked ``Cache-Control: no-transform``. Streamed bodies are
compressed chunk by chunk (each chunk flushed, so a stream still arrives as it
is produced); files (which answer range requests) and server-sent events are
left alone. ``Vary: Accept-Encoding`` is added whenever the answer depends on it.
"""

from __future__ import annotations

import copy
import functools
import gzip
import importlib
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any

from satchel.http.negotiation import parse_header_items
from satchel.http.request import Request
from satchel.http.response import Response
from satchel.http.streaming import StreamingResponse

if TYPE_CHECKING:
    from satchel.scaffold import CallNext, TypedMiddleware

_brotli: Any
try:  # brotli is optional: gzip alone when it is not installed
    _brotli = importlib.import_module("brotli")
except ImportError:  # pragma: no cover - depends on the installation
    _brotli = None

#: Media types compressed besides ``text/*``, ``*+json`` and ``*+xml``.
COMPRESSIBLE_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/xml",
        "application/x-ndjson",
        "application/wasm",
        "application/manifest+json",
        "image/svg+xml",
        "image/x-icon",
        "font/ttf",
        "font/otf",
    }
)
#: Bodies larger than this are compressed in the app's thread pool, off the event loop.
THREAD_THRESHOLD = 256 * 1024

_NEVER = frozenset({"text/event-stream"})


def brotli_available() -> bool:
    """Return whether brotli compression is available (the ``brotli`` package)."""
    return _brotli is not None


def _is_compressible(content_type: str | None, extra: frozenset[str] | None) -> bool:
    if not content_type:
        return False
    media = content_type.partition(";")[0].strip().lower()
    if media in _NEVER:
        return False
    if extra is not None:
        return media in extra
    return (
        media.startswith("text/")
        or media in COMPRESSIBLE_TYPES
        or media.endswith(("+json", "+xml"))
    )


@functools.lru_cache(maxsize=256)
def choose_encoding(accept_encoding: str, brotli_ok: bool = True) -> str | None:
    """Return ``"br"``, ``"gzip"`` or ``None`` for an ``Accept-Encoding`` header.

    The client's highest quality wins; on a tie brotli is preferred. A coding
    not listed is acceptable only through ``*``; ``q=0`` refuses it.
    """
    listed: dict[str, float] = {}
    for name, q, _ in parse_header_items(accept_encoding):
        coding = "gzip" if name == "x-gzip" else name
        listed[coding] = max(q, listed.get(coding, 0.0))
    wildcard = listed.get("*", 0.0)
    candidates = ("br", "gzip") if brotli_ok and _brotli is not None else ("gzip",)
    best, best_q = None, 0.0
    for coding in candidates:
        q = listed.get(coding, wildcard)
        if q > best_q:
            best, best_q = coding, q
    return best


def _weaken(response: Response) -> None:
    # The compressed bytes are another representation: a strong validator would lie.
    etag = response.headers.get("etag")
    if etag is not None and not etag.startswith("W/"):
        response.headers["etag"] = "W/" + etag


class _Compressor:
    """One streaming compressor with a common interface for gzip and brotli."""

    def __init__(self, coding: str, gzip_level: int, brotli_quality: int) -> None:
        self.coding = coding
        if coding == "br":
            assert _brotli is not None
            self._br: Any = _brotli.Compressor(quality=brotli_quality)
        else:
            self._gz = zlib.compressobj(gzip_level, zlib.DEFLATED, 31)

    def chunk(self, data: bytes) -> bytes:
        """Compress ``data`` and flush, so the client can decode it at once."""
        if self.coding == "br":
            out: bytes = self._br.process(data) + self._br.flush()
            return out
        return self._gz.compress(data) + self._gz.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        """Return the end of the compressed stream."""
        if self.coding == "br":
            end: bytes = self._br.finish()
            return end
        return self._gz.flush(zlib.Z_FINISH)


def compress_bytes(data: bytes, coding: str, gzip_level: int = 6, brotli_quality: int = 4) -> bytes:
    """Return ``data`` compressed with ``coding`` (``"gzip"`` or ``"br"``)."""
    if coding == "br":
        if _brotli is None:
            raise RuntimeError("brotli compression needs the 'brotli' package: pip install brotli")
        out: bytes = _brotli.compress(data, quality=brotli_quality)
        return out
    return gzip.compress(data, compresslevel=gzip_level, mtime=0)


async def _compressed_stream(
    source: AsyncGenerator[bytes, None], compressor: _Compressor
) -> AsyncIterator[bytes]:
    try:
        async for chunk in source:
            out = compressor.chunk(chunk)
            if out:
                yield out
        yield compressor.finish()
    finally:
        await source.aclose()


def compression(
    *,
    minimum_size: int = 500,
    gzip_level: int = 6,
    brotli_quality: int = 4,
    use_brotli: bool = True,
    media_types: Iterable[str] | None = None,
    streams: bool = True,
) -> TypedMiddleware:
    """Return a typed middleware that compresses responses (``app.middleware(compression())``).

    ``minimum_size`` is the smallest body worth compressing (bytes);
    ``media_types`` replaces the default list of compressible types; ``streams``
    turns compression of streamed bodies on or off.
    """
    if minimum_size < 0:
        raise ValueError("minimum_size must not be negative")
    if not 0 <= gzip_level <= 9 or not 0 <= brotli_quality <= 11:
        raise ValueError("gzip_level is 0-9 and brotli_quality 0-11")
    extra = frozenset(t.lower() for t in media_types) if media_types is not None else None
    brotli_ok = use_brotli and _brotli is not None

    async def compress_response(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        status = response.status_code
        if status < 200 or status in (204, 206, 304):
            return response
        headers = response.headers
        if "content-encoding" in headers or not _is_compressible(
            headers.get("content-type"), extra
        ):
            return response
        if "no-transform" in headers.get("cache-control", "").lower():
            return response
        sending = type(response).send_asgi
        if sending is Response.send_asgi:
            if len(response.body) < minimum_size:
                return response
            headers.add_vary("Accept-Encoding")
            coding = choose_encoding(request.headers.get("accept-encoding", ""), brotli_ok)
            if coding is None:
                return response
            await _compress_body(request, response, coding, gzip_level, brotli_quality)
            return response
        if (
            streams
            and isinstance(response, StreamingResponse)
            and sending is (StreamingResponse.send_asgi)
        ):
            headers.add_vary("Accept-Encoding")
            coding = choose_encoding(request.headers.get("accept-encoding", ""), brotli_ok)
            if coding is None or request.method == "HEAD":
                return response
            # iterate() reads body_iterator when first advanced: a copy keeps the original.
            source = copy.copy(response).iterate()
            response.body_iterator = _compressed_stream(
                source, _Compressor(coding, gzip_level, brotli_quality)
            )
            headers["content-encoding"] = coding
            del headers["content-length"]
            _weaken(response)
        return response

    return compress_response


async def _compress_body(
    request: Request, response: Response, coding: str, gzip_level: int, brotli_quality: int
) -> None:
    body = response.body
    run_sync: Callable[..., Any] | None = getattr(request.app, "run_sync", None)
    if len(body) > THREAD_THRESHOLD and run_sync is not None:
        data = await run_sync(compress_bytes, body, coding, gzip_level, brotli_quality)
    else:
        data = compress_bytes(body, coding, gzip_level, brotli_quality)
    if len(data) >= len(body):
        return  # incompressible (already packed data behind a text type): send it as it is
    response.body = data
    headers = response.headers
    headers["content-encoding"] = coding
    del headers["content-length"]
    _weaken(response)


__all__ = [
    "COMPRESSIBLE_TYPES",
    "THREAD_THRESHOLD",
    "brotli_available",
    "choose_encoding",
    "compress_bytes",
    "compression",
]
