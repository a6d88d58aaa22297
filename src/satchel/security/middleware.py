"""The one typed middleware that applies an app's security settings.

Built once per app at startup from its settings, it runs outermost on every
routed request (404s and 405s too). In order: trusted-proxy headers, the Host
check, the https redirect, CORS preflights, the CSRF check, then the handler;
on the way out, CORS and security headers. One middleware rather than five keeps
the per-request cost to one extra call; a part that is off costs one ``if``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from satchel.exceptions import BadRequest, HTTPException
from satchel.handlers.pipeline import error_response
from satchel.http.request import Request
from satchel.http.response import RedirectResponse, Response
from satchel.security.cors import CORSPolicy
from satchel.security.csrf import (
    UNSAFE_METHODS,
    CSRFCheck,
    CSRFError,
    exempt_scaffolds,
    origin_of,
    parse_origin,
)
from satchel.security.headers import HeaderPolicy
from satchel.security.hosts import (
    AllowedHosts,
    TrustedProxies,
    effective_hosts,
    request_host,
)

logger = logging.getLogger("satchel.security")

CallNext = Callable[[Request], Awaitable[Response]]


class DisallowedHost(BadRequest):
    """400: the request's ``Host`` is not in ``allowed_hosts``."""

    def __init__(self, host: str, *, debug: bool = False) -> None:
        self.host = host
        if debug:
            domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            detail = (
                f"Invalid Host header {host!r}: add {domain!r} to allowed_hosts "
                f"(SATCHEL_ALLOWED_HOSTS={domain}) to serve it."
            )
        else:
            detail = "Bad Request: unknown host."
        super().__init__(detail)


class SecurityConfig:
    """Everything the security middleware needs, decided from an app's settings.

    Kept at ``app.extensions["security"]``; ``satchel check`` reads it too.
    """

    def __init__(self, app: Any) -> None:
        settings = app.settings
        self.app = app
        self.hosts = AllowedHosts(effective_hosts(settings.allowed_hosts, app.debug))
        proxies = TrustedProxies(settings.trusted_proxies)
        self.proxies = proxies if proxies else None
        self.https_redirect: bool = settings.https_redirect
        self.cors = CORSPolicy(settings) if settings.cors_allow_origins else None
        self.csrf = CSRFCheck(settings, exempt_scaffolds(app)) if settings.csrf_enabled else None
        self.headers = HeaderPolicy(settings)

    def websocket_refusal(self, websocket: Any) -> str | None:
        """Return why a WebSocket handshake must be refused, or ``None`` to let it in.

        Typed middleware never sees WebSockets, so the host check and an ``Origin``
        check (browsers always send it on a WebSocket handshake; a page from another
        site must not ride the user's cookies) happen here.
        """
        if self.proxies is not None:
            self.proxies.apply(websocket)
        host = websocket.host
        if host and host not in self.hosts.accepted and host not in self.hosts:
            return "disallowed host"
        origin = websocket.headers.get("origin")
        if origin is None:
            return None  # not a browser: no ambient cookies to abuse
        scheme = "https" if websocket.scheme in ("https", "wss") else "http"
        own = origin_of(scheme, host)
        parsed = parse_origin(origin)
        trusted = self.csrf.trusted if self.csrf is not None else ()
        if parsed is None or (parsed != own and parsed not in trusted):
            return "cross-site WebSocket origin"
        return None

    def middleware(self) -> Callable[[Request, CallNext], Awaitable[Response]]:
        """Return the typed middleware for this configuration."""
        app = self.app
        hosts = self.hosts
        accepted = hosts.accepted
        proxies = self.proxies
        https_redirect = self.https_redirect
        cors = self.cors
        csrf = self.csrf
        add_headers = self.headers.adder()
        unsafe = UNSAFE_METHODS

        async def refuse(request: Request, exc: HTTPException, where: str) -> Response:
            # Through the app's error handlers, so @app.error_handler(CSRFError) can
            # render the site's own page.
            return await error_response(
                request, exc, [app.error_handlers], app.debug, app.run_sync, where
            )

        async def security(request: Request, call_next: CallNext) -> Response:
            if proxies is not None:
                proxies.apply(request)
            host = request_host(request)
            if host and host not in accepted and host not in hosts:
                logger.warning("Refused a request for disallowed host %r", host)
                response = await refuse(request, DisallowedHost(host, debug=app.debug), "host")
            elif https_redirect and request.scheme == "http":
                response = RedirectResponse("https" + str(request.url)[4:], 308)
            elif cors is None and (csrf is None or request.method not in unsafe):
                response = await call_next(request)  # the common case: one await, no checks
            else:
                response = await guarded(request, call_next)
            add_headers(request, response)
            return response

        async def guarded(request: Request, call_next: CallNext) -> Response:
            origin = request.headers.get("origin") if cors is not None else None
            if (
                cors is not None
                and origin is not None
                and request.method == "OPTIONS"
                and "access-control-request-method" in request.headers
            ):
                try:
                    return cors.preflight(request, origin, app.debug)
                except HTTPException as exc:
                    return await refuse(request, exc, "CORS")
            failure = await checked(csrf, request) if csrf is not None else None
            response = failure if failure is not None else await call_next(request)
            if cors is not None:
                # Refusals too, so the allowed site's script can read why.
                cors.decorate(origin, response)
            return response

        async def checked(check: CSRFCheck, request: Request) -> Response | None:
            if request.method not in unsafe:
                return None
            try:
                reason = await check.failure(request)
            except HTTPException as exc:  # the form could not be read: 400, 413, 415
                return await refuse(request, exc, "CSRF check")
            if reason is None:
                return None
            logger.warning("CSRF check failed for %s %s: %s", request.method, request.path, reason)
            return await refuse(request, CSRFError(reason, debug=app.debug), "CSRF")

        return security


__all__ = ["DisallowedHost", "SecurityConfig"]
