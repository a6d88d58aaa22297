"""Conditional requests for JSON resources: ETags, ``If-None-Match`` and ``If-Match``.

:func:`etag_response` serialises a value, tags it with a hash of the bytes and
answers ``304 Not Modified`` (no body) when the client already holds that
version. :func:`check_if_match` guards updates against lost writes: a ``PUT``
whose ``If-Match`` names an older version gets ``412 Precondition Failed``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from satchel.exceptions import HTTPException
from satchel.http.request import Request
from satchel.http.response import Response, dump_json

#: Entity tags of one header that are compared; the rest are ignored (bounded work).
MAX_TAGS = 64

# Headers a 304 repeats from the 200 it stands for (RFC 9110, section 15.4.5).
_KEPT_ON_304 = ("cache-control", "content-location", "date", "etag", "expires", "vary")


def make_etag(body: bytes, *, weak: bool = False) -> str:
    """Return a quoted entity tag for ``body`` (a hash of the bytes)."""
    tag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    return "W/" + tag if weak else tag


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def _tags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",", MAX_TAGS)[:MAX_TAGS] if t.strip()]


def etag_matches(header: str | None, etag: str, *, weak: bool = True) -> bool:
    """Return whether ``etag`` is listed in an ``If-None-Match``/``If-Match`` header.

    ``*`` matches any tag. ``weak=True`` compares as ``If-None-Match`` does (``W/``
    ignored); ``weak=False`` is the strong comparison ``If-Match`` needs.
    """
    if not header:
        return False
    if header.strip() == "*":
        return True
    if weak:
        wanted = _opaque(etag)
        return any(_opaque(tag) == wanted for tag in _tags(header))
    if etag.startswith("W/"):
        return False
    return any(tag == etag for tag in _tags(header))


def not_modified(request: Request, etag: str) -> bool:
    """Return whether a ``GET``/``HEAD`` ``request`` already holds the version ``etag``."""
    if request.method not in ("GET", "HEAD"):
        return False
    return etag_matches(request.headers.get("if-none-match"), etag)


def etag_response(
    request: Request,
    data: Any,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    etag: str | None = None,
    cache_control: str | None = "no-cache",
) -> Response:
    """Return ``data`` as JSON with an ``ETag``, or ``304`` when the client has it already.

    ``data`` is anything :func:`~satchel.http.response.dump_json` takes (dicts,
    lists, models, dataclasses) or ready JSON ``bytes``. ``etag`` overrides the
    hash (e.g. a row version). ``cache_control`` defaults to ``no-cache``: caches
    keep the response but ask every time, which is what makes the 304 useful.
    """
    body = data if isinstance(data, bytes) else dump_json(data)
    tag = etag if etag is not None else make_etag(body)
    response = Response(body, status_code, headers, media_type="application/json")
    response.headers["etag"] = tag
    if cache_control is not None:
        response.headers.setdefault("cache-control", cache_control)
    if 200 <= status_code < 300 and not_modified(request, tag):
        kept = [(k, v) for k, v in response.headers.multi_items() if k in _KEPT_ON_304]
        return Response(None, 304, kept)
    return response


def check_if_match(request: Request, etag: str) -> None:
    """Raise ``412 Precondition Failed`` unless ``If-Match`` is absent or names ``etag``.

    Call it before changing a resource whose current version is ``etag``.
    """
    header = request.headers.get("if-match")
    if header is not None and not etag_matches(header, etag, weak=False):
        raise HTTPException(
            412, "The resource changed since you read it; fetch it again and retry."
        )


__all__ = [
    "MAX_TAGS",
    "check_if_match",
    "etag_matches",
    "etag_response",
    "make_etag",
    "not_modified",
]
