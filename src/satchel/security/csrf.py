"""Cross-site request forgery protection.

A browser attaches a site's cookies to any request to it, even one a hostile page
starts (a form that posts itself). So every unsafe request (POST, PUT, PATCH,
DELETE) must prove it came from one of the app's own pages:

- a secret is kept in the visitor's session; pages embed a token derived from it
  (``csrf_input(request)`` in a form, ``csrf_token(request)`` for JavaScript, sent
  back in the ``X-CSRF-Token`` header);
- the token is the secret XOR a fresh random mask, mask prepended, so it differs
  on every page and a compressed response cannot leak it byte by byte (BREACH);
- ``Origin`` (and, under https, ``Referer``) must be the app's own origin or a
  trusted one.

No token is needed where a forged request cannot carry the visitor's authority:
a request with ``Authorization: Bearer ...`` (a browser never adds one by itself,
and a cross-site page can only set it after a CORS preflight), and a JSON request
carrying no cookies at all (a cross-site form cannot send ``application/json``
without a preflight, and with no cookies there is no session to ride on).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import html
import re
import secrets
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from satchel.exceptions import Forbidden, ImproperlyConfigured
from satchel.http.request import Request
from satchel.scaffold import Scaffold
from satchel.security.hosts import split_host

#: Where the secret lives in the session.
SESSION_KEY = "_csrf_secret"
#: Methods that must carry a token; the others must not change anything.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_SECRET_BYTES = 32
_TOKEN_LENGTH = 86  # base64url of mask + masked secret (64 bytes), unpadded
_TOKEN = re.compile(r"[A-Za-z0-9_-]{86}")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

T = TypeVar("T")

GENERIC_REASON = "CSRF verification failed. The request was refused."
#: Why a request failed, by key; shown in debug, logged always.
REASONS = {
    "session": (
        "CSRF session token missing: the session has no CSRF secret. The session "
        "expired, cookies are blocked, or the form was not made by this site (render it "
        "with csrf_input())."
    ),
    "missing": (
        "CSRF token missing: send it in the {field!r} form field (csrf_input() in the "
        "template) or the {header} header (csrf_token())."
    ),
    "incorrect": (
        "CSRF token incorrect: it was not made for this session (a stale page, or a form "
        "from another session)."
    ),
    "origin": (
        "Origin checking failed: {origin!r} is neither this site ({own!r}) nor one of "
        "csrf_trusted_origins. Behind a proxy? Set trusted_proxies so the scheme and host "
        "are read from X-Forwarded-Proto/Host."
    ),
    "no_referer": (
        "Referer checking failed: an https request with no Origin must carry a Referer "
        "(is a Referrer-Policy of 'no-referrer' in force?)."
    ),
    "no_sessions": (
        "CSRF protection keeps its secret in the session, and sessions are off. Turn "
        "sessions on, or set csrf_enabled=False for an API that takes no forms."
    ),
    "referer": (
        "Referer checking failed: {referer!r} is neither this site ({own!r}) nor one of "
        "csrf_trusted_origins."
    ),
}


class CSRFError(Forbidden):
    """403: an unsafe request failed the CSRF check; ``reason`` says which part."""

    def __init__(self, reason: str, *, debug: bool = False) -> None:
        self.reason = reason
        super().__init__(reason if debug else GENERIC_REASON)


# -- tokens ------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _stored_secret(request: Any) -> bytes | None:
    stored = request.session.get(SESSION_KEY)
    if not isinstance(stored, str):
        return None
    try:
        secret = base64.urlsafe_b64decode(stored + "=" * (-len(stored) % 4))
    except (binascii.Error, ValueError):
        return None
    return secret if len(secret) == _SECRET_BYTES else None


def _secret(request: Any) -> bytes:
    secret = _stored_secret(request)
    if secret is None:
        secret = secrets.token_bytes(_SECRET_BYTES)
        request.session[SESSION_KEY] = _b64(secret)
    return secret


def csrf_token(request: Any) -> str:
    """Return a CSRF token for ``request``'s session, masked afresh on every call.

    Creates the session's secret on first use. Put it in a form with
    :func:`csrf_input`, or send it in the ``X-CSRF-Token`` header.
    """
    secret = _secret(request)
    mask = secrets.token_bytes(_SECRET_BYTES)
    return _b64(mask + _xor(mask, secret))


class SafeHTML(str):
    """A string of markup Jinja2 (and markupsafe) insert without escaping."""

    __slots__ = ()

    def __html__(self) -> str:
        """Return the markup itself: it is already safe."""
        return str(self)


def csrf_input(request: Any) -> SafeHTML:
    """Return a hidden ``<input>`` carrying a fresh CSRF token, for inside a ``<form>``."""
    field = _field_name(request)
    return SafeHTML(
        f'<input type="hidden" name="{html.escape(field)}" value="{csrf_token(request)}">'
    )


def rotate_csrf_token(request: Any) -> None:
    """Give the session a new CSRF secret (call on login, so a planted token dies)."""
    request.session[SESSION_KEY] = _b64(secrets.token_bytes(_SECRET_BYTES))


def token_matches(token: str, secret: bytes) -> bool:
    """Return whether masked ``token`` carries ``secret`` (compared in constant time)."""
    if len(token) != _TOKEN_LENGTH or not _TOKEN.fullmatch(token):
        return False
    raw = base64.urlsafe_b64decode(token + "==")
    mask, masked = raw[:_SECRET_BYTES], raw[_SECRET_BYTES:]
    return hmac.compare_digest(_xor(mask, masked), secret)


def _field_name(request: Any) -> str:
    app = getattr(request, "app", None)
    settings = getattr(app, "settings", None)
    return str(getattr(settings, "csrf_field_name", "csrf_token"))


# -- exemptions --------------------------------------------------------------------


def csrf_exempt(target: T) -> T:
    """Exempt a handler, or a whole :class:`~satchel.Module`, from CSRF checks.

    Use it for endpoints that prove who is calling by other means (signed
    webhooks); ``@app.post("/hook", csrf_exempt=True)`` does the same for one route.
    """
    if isinstance(target, Scaffold):
        target.csrf_exempt = True
    else:
        target._satchel_csrf_exempt = True  # type: ignore[attr-defined]
    return target


def exempt_scaffolds(app: Scaffold) -> frozenset[int]:
    """Return the ids of ``app`` and modules whose routes skip CSRF (a module's children too)."""
    found: set[int] = set()

    def walk(scaffold: Scaffold, exempt: bool) -> None:
        exempt = exempt or bool(scaffold.csrf_exempt)
        if exempt:
            found.add(id(scaffold))
        for module, _ in scaffold.modules:
            walk(module, exempt)

    walk(app, False)
    return frozenset(found)


# -- origins -----------------------------------------------------------------------


def origin_of(scheme: str, host: str) -> str | None:
    """Return ``scheme://host[:port]`` normalised (lower case, default port dropped)."""
    scheme = scheme.lower()
    parsed = split_host(host)
    if parsed is None:
        return None
    domain, port = parsed
    if port == _DEFAULT_PORTS.get(scheme):
        port = ""
    return f"{scheme}://{domain}:{port}" if port else f"{scheme}://{domain}"


def parse_origin(value: str) -> str | None:
    """Return the normalised origin of a URL or ``Origin`` value, ``None`` if it has none."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return origin_of(parts.scheme, parts.netloc)


class TrustedOrigins:
    """``csrf_trusted_origins``: exact origins and ``https://*.example.com`` patterns."""

    def __init__(self, entries: Iterable[str]) -> None:
        exact: set[str] = set()
        wildcards: list[tuple[str, str]] = []
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            scheme, sep, rest = entry.partition("://")
            if not sep or scheme.lower() not in ("http", "https"):
                raise ImproperlyConfigured(
                    f"csrf_trusted_origins entry {entry!r} must start with http:// or https://"
                )
            if rest.startswith("*."):
                parsed = origin_of(scheme, rest[2:])
                if parsed is None:
                    raise ImproperlyConfigured(f"csrf_trusted_origins entry {entry!r} is invalid")
                wildcards.append((scheme.lower() + "://", "." + parsed.partition("://")[2]))
                continue
            normal = parse_origin(entry)
            if normal is None or rest.rstrip("/").count("/"):
                raise ImproperlyConfigured(
                    f"csrf_trusted_origins entry {entry!r} must be an origin such as "
                    "'https://example.com' (no path)"
                )
            exact.add(normal)
        self.exact = frozenset(exact)
        self.wildcards = tuple(wildcards)

    def __contains__(self, origin: object) -> bool:
        if not isinstance(origin, str):
            return False
        if origin in self.exact:
            return True
        return any(
            origin.startswith(prefix) and origin.endswith(suffix) and len(origin) > len(prefix)
            for prefix, suffix in self.wildcards
        )


# -- the check ---------------------------------------------------------------------


class CSRFCheck:
    """Decide whether an unsafe request may go on; see the module docstring for the rules."""

    def __init__(self, settings: Any, exempt_owners: frozenset[int]) -> None:
        self.field_name: str = settings.csrf_field_name
        self.header_name: str = settings.csrf_header_name.lower()
        self.trusted = TrustedOrigins(settings.csrf_trusted_origins)
        self.exempt_owners = exempt_owners

    def is_exempt(self, route: Any) -> bool:
        """Return whether ``route`` opted out (route option, decorator or its module)."""
        return bool(
            route.options.get("csrf_exempt")
            or getattr(route.endpoint, "_satchel_csrf_exempt", False)
            or id(route.owner) in self.exempt_owners
        )

    async def failure(self, request: Request) -> str | None:
        """Return why ``request`` fails the check, or ``None`` when it passes."""
        route = request.route
        if route is None or self.is_exempt(route):
            return None  # no handler runs (404, 405), or the route opted out
        if _test_client_skips(request):
            return None
        headers = request.headers
        authorization = headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            return None
        if not headers.get("cookie") and _is_json(request.content_type):
            return None
        own = origin_of(request.scheme, request.host) or ""
        origin = headers.get("origin")
        if origin is not None:
            normal = parse_origin(origin)
            if normal is None or (normal != own and normal not in self.trusted):
                return REASONS["origin"].format(origin=origin, own=own)
        elif request.is_secure:
            referer = headers.get("referer")
            if not referer:
                return REASONS["no_referer"]
            normal = parse_origin(referer)
            if normal is None or (normal != own and normal not in self.trusted):
                return REASONS["referer"].format(referer=referer, own=own)
        if request.app is None or request.app.extensions.get("sessions") is None:
            return REASONS["no_sessions"]
        secret = _stored_secret(request)
        if secret is None:
            return REASONS["session"]
        token = headers.get(self.header_name)
        if token is None and request.content_type in _FORM_TYPES:
            value = (await request.form()).get(self.field_name)
            token = value if isinstance(value, str) else None
        if not token:
            return REASONS["missing"].format(field=self.field_name, header=self.header_name)
        if not token_matches(token.strip(), secret):
            return REASONS["incorrect"]
        return None


def _test_client_skips(request: Request) -> bool:
    # satchel.testing's clients skip the check unless built with
    # enforce_csrf_checks=True, as Django's test client does. Only an ASGI scope
    # can carry the flag, and only the test clients set that extension.
    scope = request._scope
    if scope is None:
        return False
    testing = (scope.get("extensions") or {}).get("satchel.testing")
    return isinstance(testing, dict) and testing.get("enforce_csrf_checks") is False


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


__all__ = [
    "REASONS",
    "SESSION_KEY",
    "UNSAFE_METHODS",
    "CSRFCheck",
    "CSRFError",
    "SafeHTML",
    "TrustedOrigins",
    "csrf_exempt",
    "csrf_input",
    "csrf_token",
    "exempt_scaffolds",
    "origin_of",
    "parse_origin",
    "rotate_csrf_token",
    "token_matches",
]
