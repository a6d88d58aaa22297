"""Parse the ``Cookie`` request header and build ``Set-Cookie`` values.

Parsing is lenient (a malformed pair is skipped, never an error: a browser may
send anything), building is strict (a name or value that could inject another
attribute or header raises ``ValueError``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Literal
from urllib.parse import unquote

_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# RFC 6265 cookie-octet, plus space and comma which browsers accept in practice
# but which we refuse to emit to keep values unambiguous.
_VALUE = re.compile(r"^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$")
_ATTR = re.compile(r"^[^\x00-\x1f\x7f;]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

SameSite = Literal["lax", "strict", "none"]

#: Cookies past this many in one header are ignored (bounded work per request).
MAX_COOKIES = 200


def parse_cookie_header(header: str) -> dict[str, str]:
    """Return the cookies of a ``Cookie`` header as a dict; the first of a repeated name wins.

    Pairs with control characters are dropped; values in double quotes are unquoted.
    """
    cookies: dict[str, str] = {}
    for count, chunk in enumerate(header.split(";")):
        if count >= MAX_COOKIES:
            break
        name, sep, value = chunk.partition("=")
        if not sep:
            continue
        name = name.strip()
        value = value.strip()
        if not name or name in cookies or not _NAME.match(name):
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if _CONTROL.search(value):
            continue
        cookies[name] = unquote(value) if "%" in value else value
    return cookies


def build_set_cookie(
    name: str,
    value: str = "",
    *,
    max_age: int | None = None,
    expires: datetime | int | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = True,
    samesite: SameSite | None = "lax",
    partitioned: bool = False,
) -> str:
    """Return a ``Set-Cookie`` header value.

    ``expires`` may be a datetime or seconds from now. ``samesite="none"`` requires
    ``secure=True`` (browsers drop it otherwise), so it is refused without it.
    """
    if not _NAME.match(name):
        raise ValueError(f"invalid cookie name {name!r}")
    if not _VALUE.match(value):
        raise ValueError(
            f"cookie {name!r} value has characters that need encoding "
            "(space, quote, comma, semicolon, backslash or control characters)"
        )
    parts = [f"{name}={value}"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if expires is not None:
        if isinstance(expires, int):
            expires = datetime.fromtimestamp(datetime.now(UTC).timestamp() + expires, UTC)
        parts.append(f"Expires={format_datetime(expires.astimezone(UTC), usegmt=True)}")
    for attr, val in (("Path", path), ("Domain", domain)):
        if val is not None:
            if not _ATTR.match(val):
                raise ValueError(f"cookie {attr} {val!r} has a control character or ';'")
            parts.append(f"{attr}={val}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite is not None:
        if samesite not in ("lax", "strict", "none"):
            raise ValueError("samesite must be 'lax', 'strict', 'none' or None")
        if samesite == "none" and not secure:
            raise ValueError("SameSite=None cookies must be Secure")
        parts.append(f"SameSite={samesite.capitalize()}")
    if partitioned:
        parts.append("Partitioned")
    return "; ".join(parts)


__all__ = ["MAX_COOKIES", "SameSite", "build_set_cookie", "parse_cookie_header"]
