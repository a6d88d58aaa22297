"""Cross-origin resource sharing with a strict allowlist.

Off unless ``cors_allow_origins`` lists origins. The reply names only an origin
from that list (never the ``null`` origin, never whatever a request claims);
``*`` answers any origin but cannot be combined with credentials, since it would
hand every site the visitor's cookies. Responses vary on ``Origin`` so a cache
never serves one origin's answer to another.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from satchel.exceptions import Forbidden, ImproperlyConfigured
from satchel.http.response import Response
from satchel.security.csrf import parse_origin

#: Request headers a browser sends cross-origin without asking (always allowed).
SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})

GENERIC_REFUSAL = "Cross-origin request refused."


class CORSRefused(Forbidden):
    """403: a CORS preflight asked for an origin, method or header that is not allowed."""

    def __init__(self, reason: str, *, debug: bool = False) -> None:
        self.reason = reason
        super().__init__(reason if debug else GENERIC_REFUSAL)


def _origins(entries: Iterable[str], credentials: bool) -> tuple[bool, frozenset[str]]:
    allow_all = False
    found: set[str] = set()
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        if entry == "*":
            allow_all = True
            continue
        if entry.lower() == "null":
            raise ImproperlyConfigured(
                "cors_allow_origins may not list 'null': sandboxed iframes, local files "
                "and redirects all send it, so any site could claim it"
            )
        normal = parse_origin(entry)
        if normal is None or entry.rstrip("/").count("/") != 2:
            raise ImproperlyConfigured(
                f"cors_allow_origins entry {entry!r} must be an origin such as "
                "'https://app.example.com' (scheme and host, no path)"
            )
        found.add(normal)
    if allow_all and credentials:
        raise ImproperlyConfigured(
            "cors_allow_origins='*' cannot be used with cors_allow_credentials=True: that "
            "would let every site act with the visitor's cookies. List the origins instead."
        )
    return allow_all, frozenset(found)


class CORSPolicy:
    """Answer preflights and mark responses for the origins an app allows."""

    def __init__(self, settings: Any) -> None:
        self.credentials: bool = settings.cors_allow_credentials
        self.allow_all, self.origins = _origins(settings.cors_allow_origins, self.credentials)
        methods = [m.strip().upper() for m in settings.cors_allow_methods if m.strip()]
        self.methods = frozenset(methods)
        headers = {h.strip().lower() for h in settings.cors_allow_headers if h.strip()}
        self.any_header = "*" in headers
        self.headers = frozenset(headers - {"*"}) | SAFELISTED_HEADERS
        if settings.cors_max_age < 0:
            raise ImproperlyConfigured("cors_max_age must be 0 or more seconds")
        self.preflight_headers: list[tuple[str, str]] = [
            ("access-control-allow-methods", ", ".join(sorted(self.methods))),
            ("access-control-max-age", str(settings.cors_max_age)),
        ]
        self.response_headers: list[tuple[str, str]] = []
        if self.credentials:
            self.response_headers.append(("access-control-allow-credentials", "true"))
        expose = [h.strip() for h in settings.cors_expose_headers if h.strip()]
        if expose:
            self.response_headers.append(("access-control-expose-headers", ", ".join(expose)))

    def allowed_origin(self, origin: str) -> str | None:
        """Return the ``Access-Control-Allow-Origin`` value for ``origin``, or ``None``."""
        if origin.strip().lower() == "null":
            return None
        if self.allow_all:
            return "*"
        normal = parse_origin(origin)
        # Answer with the configured spelling, never with the request's bytes.
        return normal if normal in self.origins else None

    def preflight(self, request: Any, origin: str, debug: bool) -> Response:
        """Answer an ``OPTIONS`` preflight, or raise :class:`CORSRefused`."""
        allow = self.allowed_origin(origin)
        if allow is None:
            raise CORSRefused(f"Origin {origin!r} is not in cors_allow_origins.", debug=debug)
        method = request.headers.get("access-control-request-method", "").strip().upper()
        if method not in self.methods:
            raise CORSRefused(
                f"Method {method!r} is not in cors_allow_methods ({sorted(self.methods)}).",
                debug=debug,
            )
        asked = request.headers.get("access-control-request-headers", "")
        names = [h.strip().lower() for h in asked.split(",") if h.strip()]
        if not self.any_header:
            refused = [name for name in names if name not in self.headers]
            if refused:
                raise CORSRefused(f"Header(s) {refused} not in cors_allow_headers.", debug=debug)
        response = Response(b"", 204)
        items = response._headers
        items.append(("access-control-allow-origin", allow))
        items.extend(self.preflight_headers)
        items.extend(self.response_headers)
        if names:
            items.append(("access-control-allow-headers", ", ".join(names)))
        response.headers.add_vary(
            "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"
        )
        return response

    def decorate(self, origin: str | None, response: Any) -> None:
        """Add the CORS headers for ``origin`` (and ``Vary: Origin``) to ``response``."""
        allow = self.allowed_origin(origin) if origin else None
        items: list[tuple[str, str]] = response._headers
        if allow is not None and not any(k == "access-control-allow-origin" for k, _ in items):
            items.append(("access-control-allow-origin", allow))
            items.extend(self.response_headers)
        if not self.allow_all:
            response.headers.add_vary("Origin")


__all__ = ["SAFELISTED_HEADERS", "CORSPolicy", "CORSRefused"]
