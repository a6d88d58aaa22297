"""File responses with validators, conditional requests and byte ranges.

:class:`FileResponse` looks at the file and the request only when it is sent:
it stats the file, answers ``If-None-Match`` / ``If-Modified-Since`` with 304,
``If-Match`` / ``If-Unmodified-Since`` with 412, and a single ``Range`` with 206
(or 416). Over ASGI the file is read in chunks in a worker thread; over RSGI
granian sends it itself.

Multiple ranges (``bytes=0-1,5-6``) are answered with the whole file (200), as
RFC 9110 14.2 allows: multipart/byteranges is rarely used by clients, and
refusing it closes the overlapping-ranges amplification attack for free.
A malformed ``Range`` is ignored in the same way. Conditional headers are
evaluated only for a 200 response (a file served as a 404 page is never a 304),
and If-None-Match / If-Modified-Since only for GET and HEAD.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import mimetypes
import os
import re
import stat as stat_module
from typing import IO, Any, ClassVar
from urllib.parse import quote

from satchel.exceptions import RangeNotSatisfiable
from satchel.http.headers import HeaderItems
from satchel.http.request import Request
from satchel.http.response import PlainTextResponse, Response
from satchel.http.streaming import run_until_disconnect, wait_for_asgi_disconnect
from satchel.types import Send

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_ETAG = re.compile(r'(W/)?"([^"]*)"')
_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
# Printable ASCII except the quote and backslash that would end or escape the value.
_FALLBACK_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\]')
# Headers describing the body, dropped when a response has none (304, 412, 416).
_BODY_HEADERS = frozenset({"content-type", "content-disposition", "content-length"})
# What this module computes itself; a caller's value would contradict the body.
_COMPUTED = frozenset({"content-length", "content-range"})


def guess_media_type(name: str) -> str:
    """Return the media type for a file ``name``, ``application/octet-stream`` when unknown."""
    media_type, encoding = mimetypes.guess_type(name, strict=False)
    if media_type is None or encoding is not None:
        # A compressed file (".svg.gz") holds compressed bytes: naming the inner
        # type would make a browser try to render them.
        return "application/octet-stream"
    return media_type


def content_disposition(kind: str, filename: str) -> str:
    """Return a ``Content-Disposition`` value with an ASCII ``filename`` and RFC 5987 ``filename*``.

    Any character (quotes, CR/LF, non-ASCII) is safe in ``filename``: the fallback
    replaces unsafe ones with ``_`` and ``filename*`` percent-encodes them.
    """
    if not _TOKEN.fullmatch(kind):
        raise ValueError(f"content disposition type must be a token, not {kind!r}")
    fallback = _FALLBACK_UNSAFE.sub("_", filename)
    value = f'{kind}; filename="{fallback}"'
    if fallback != filename:
        value += "; filename*=UTF-8''" + quote(filename, safe="")
    return value


def make_etag(stat_result: os.stat_result) -> str:
    """Return a strong ETag built from a file's modification time (ns) and size."""
    return f'"{stat_result.st_mtime_ns:x}-{stat_result.st_size:x}"'


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Return the ``(start, end)`` (end exclusive) asked for by a ``Range`` header.

    Return ``None`` when the header is to be ignored: not ``bytes``, malformed,
    or more than one range. Raise :class:`RangeNotSatisfiable` when the one range
    lies outside a file of ``size`` bytes.
    """
    unit, sep, ranges = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    specs = [spec.strip() for spec in ranges.split(",")]
    specs = [spec for spec in specs if spec]  # the list syntax allows empty elements
    if len(specs) != 1:
        return None
    match = _RANGE_SPEC.fullmatch(specs[0])
    if match is None:
        return None
    first, last = match.groups()
    try:
        # int() refuses digit strings past sys.get_int_max_str_digits: malformed.
        first_pos = int(first) if first else None
        last_pos = int(last) if last else None
    except ValueError:
        return None
    if first_pos is None:
        if last_pos is None:
            return None
        if last_pos == 0:
            raise RangeNotSatisfiable()
        return max(0, size - last_pos), size
    if last_pos is not None and last_pos < first_pos:
        return None
    if first_pos >= size:
        raise RangeNotSatisfiable()
    end = size if last_pos is None else min(last_pos + 1, size)
    return first_pos, end


def parse_http_date(value: str | None) -> int | None:
    """Return an HTTP-date as a Unix timestamp, or ``None`` when absent or invalid."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_tz(value)
        return None if parsed is None else email.utils.mktime_tz(parsed)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def _etag_in(header: str, etag: str, *, weak: bool) -> bool:
    if header.strip() == "*":
        return True
    ours_weak = etag.startswith("W/")
    ours = etag[2:] if ours_weak else etag
    for match in _ETAG.finditer(header):
        comparable = weak or not (match.group(1) or ours_weak)
        if comparable and f'"{match.group(2)}"' == ours:
            return True
    return False


@dataclasses.dataclass(slots=True)
class _Plan:
    status: int
    start: int = 0
    end: int = 0
    content_range: str | None = None
    body: bool = True


def _plan(request: Request, status: int, size: int, etag: str, mtime: int) -> _Plan:
    """Decide status and byte span from the request's conditional and range headers.

    ``mtime`` is the Last-Modified time in whole seconds, as the client sees it.
    """
    if status != 200:
        return _Plan(status, 0, size)
    headers = request.headers
    # RFC 9110 13.2.2 fixes the order: If-Match, If-Unmodified-Since,
    # If-None-Match, If-Modified-Since, then If-Range.
    if_match = headers.get("if-match")
    if if_match is not None:
        if not _etag_in(if_match, etag, weak=False):
            return _Plan(412, body=False)
    else:
        since = parse_http_date(headers.get("if-unmodified-since"))
        if since is not None and mtime > since:
            return _Plan(412, body=False)
    if request.method in ("GET", "HEAD"):
        if_none_match = headers.get("if-none-match")
        if if_none_match is not None:
            if _etag_in(if_none_match, etag, weak=True):
                return _Plan(304, body=False)
        else:
            since = parse_http_date(headers.get("if-modified-since"))
            if since is not None and mtime <= since:
                return _Plan(304, body=False)
    range_header = headers.get("range")
    # Ranges are defined for GET only (RFC 9110 14.2); an empty file has no
    # byte positions to name, so it is always sent whole.
    if range_header is None or request.method != "GET" or size == 0:
        return _Plan(200, 0, size)
    if_range = headers.get("if-range")
    if if_range is not None:
        if if_range.startswith(('"', "W/")):
            if not _etag_in(if_range, etag, weak=False):
                return _Plan(200, 0, size)
        elif parse_http_date(if_range) != mtime:
            # A date validator must match Last-Modified exactly (RFC 9110 13.1.5).
            return _Plan(200, 0, size)
    try:
        span = parse_range(range_header, size)
    except RangeNotSatisfiable:
        return _Plan(416, content_range=f"bytes */{size}", body=False)
    if span is None:
        return _Plan(200, 0, size)
    start, end = span
    return _Plan(206, start, end, f"bytes {start}-{end - 1}/{size}")


class FileResponse(Response):
    """Send the file at ``path``, answering conditional and range requests.

    ``media_type`` defaults to a guess from ``filename`` or ``path``. A
    ``filename`` adds ``Content-Disposition`` (``attachment`` unless
    ``content_disposition_type`` says ``inline``). ``ETag`` and ``Last-Modified``
    come from the file unless ``headers`` sets them. A missing (or non-regular)
    file at send time is answered with 404.
    """

    chunk_size: ClassVar[int] = 64 * 1024

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: HeaderItems | None = None,
        media_type: str | None = None,
        filename: str | None = None,
        content_disposition_type: str = "attachment",
        stat_result: os.stat_result | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.filename = filename
        self.stat_result = stat_result
        if media_type is None:
            media_type = guess_media_type(filename or self.path)
        super().__init__(None, status_code, headers, media_type)
        if filename is not None:
            self.headers.setdefault(
                "content-disposition", content_disposition(content_disposition_type, filename)
            )

    def _prepare(
        self, request: Request, stat_result: os.stat_result
    ) -> tuple[_Plan, list[tuple[str, str]]]:
        size = stat_result.st_size
        etag = self.headers.get("etag") or make_etag(stat_result)
        last_modified = self.headers.get("last-modified") or email.utils.formatdate(
            stat_result.st_mtime, usegmt=True
        )
        # A caller's Last-Modified is what the client compares against; an
        # unparsable one falls back to the file's own time.
        mtime = parse_http_date(last_modified)
        if mtime is None:
            mtime = int(stat_result.st_mtime)
        plan = _plan(request, self.status_code, size, etag, mtime)
        if not self._body_allowed():
            plan.body = False
        drop = _COMPUTED | _BODY_HEADERS if not plan.body else _COMPUTED
        headers = [(k, v) for k, v in self.header_items(request.is_secure) if k not in drop]
        names = {k for k, _ in headers}
        if plan.status in (200, 206, 304):
            if "etag" not in names:
                headers.append(("etag", etag))
            if "last-modified" not in names:
                headers.append(("last-modified", last_modified))
        if plan.status in (200, 206) and "accept-ranges" not in names:
            headers.append(("accept-ranges", "bytes"))
        if plan.content_range is not None:
            headers.append(("content-range", plan.content_range))
        if plan.body:
            headers.append(("content-length", str(plan.end - plan.start)))
        elif plan.status != 304 and self._body_allowed():
            headers.append(("content-length", "0"))
        return plan, headers

    def _open(self) -> tuple[IO[bytes], os.stat_result]:
        # O_NONBLOCK so that a FIFO in place of the file cannot hang the
        # thread in open(); it changes nothing for regular files.
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            stat_result = os.fstat(fd)
            if not stat_module.S_ISREG(stat_result.st_mode):
                raise IsADirectoryError(self.path)
        except BaseException:
            os.close(fd)
            raise
        return os.fdopen(fd, "rb"), self.stat_result or stat_result

    async def _stat(self) -> os.stat_result | None:
        if self.stat_result is not None:
            return self.stat_result
        try:
            stat_result = await asyncio.to_thread(os.stat, self.path)
        except (OSError, ValueError):
            return None
        return stat_result if stat_module.S_ISREG(stat_result.st_mode) else None

    async def send_asgi(self, request: Request, send: Send) -> None:
        """Send the file (or a 304/206/412/416/404) through an ASGI ``send``."""
        try:
            file, stat_result = await asyncio.to_thread(self._open)
        except (OSError, ValueError):
            # ValueError: a NUL in the path.
            await _not_found().send_asgi(request, send)
            return
        try:
            plan, headers = self._prepare(request, stat_result)
            raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
            await send({"type": "http.response.start", "status": plan.status, "headers": raw})
            if not plan.body or request.method == "HEAD" or plan.end == plan.start:
                await send({"type": "http.response.body", "body": b""})
                return
            body = self._send_span(file, plan.start, plan.end, send)
            receive = request.asgi_receive  # the ASGI receive channel, to hear a disconnect
            if receive is None:
                await body
            else:
                await run_until_disconnect(body, wait_for_asgi_disconnect(receive))
        finally:
            file.close()

    async def _send_span(self, file: IO[bytes], start: int, end: int, send: Send) -> None:
        file.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = await asyncio.to_thread(file.read, min(self.chunk_size, remaining))
            if not chunk:
                break  # the file shrank since it was stat'ed
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
        if remaining > 0:
            await send({"type": "http.response.body", "body": b""})

    async def send_rsgi(self, request: Request, proto: Any) -> None:
        """Send the file (or a 304/206/412/416/404) through granian's RSGI protocol."""
        stat_result = await self._stat()
        if stat_result is None:
            await _not_found().send_rsgi(request, proto)
            return
        plan, headers = self._prepare(request, stat_result)
        if not plan.body or request.method == "HEAD" or plan.end == plan.start:
            proto.response_empty(plan.status, headers)
        elif plan.status == 206:
            proto.response_file_range(plan.status, headers, self.path, plan.start, plan.end)
        else:
            proto.response_file(plan.status, headers, self.path)


def _not_found() -> Response:
    return PlainTextResponse("Not Found", 404)


__all__ = [
    "FileResponse",
    "content_disposition",
    "guess_media_type",
    "make_etag",
    "parse_http_date",
    "parse_range",
]
