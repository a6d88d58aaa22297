"""The security battery's own checks (ids ``security.*``; listed in docs/security.md).

Ids are stable: never reuse one for a different finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from satchel.config import DEVELOPMENT_SECRET_KEY
from satchel.security.checks import CheckMessage, critical, error, register, warning

#: A secret key shorter than this, or with fewer distinct characters, is weak.
MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE = 5
#: HSTS preload lists ask for at least a year.
HSTS_PRELOAD_SECONDS = 365 * 24 * 3600

_KEY_HINT = (
    "Set SATCHEL_SECRET_KEY to a long random value, e.g. the output of "
    '`python -c "import secrets; print(secrets.token_urlsafe(50))"`, and keep it out '
    "of version control."
)
_UNSAFE_REFERRER = frozenset({"unsafe-url", "no-referrer-when-downgrade"})


def _weak(key: str) -> bool:
    return len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < MIN_SECRET_KEY_UNIQUE


@register
def development_key_in_production(app: Any) -> Iterator[CheckMessage]:
    """security.E002 (critical): debug is off but the secret key is the development one."""
    if not app.debug and app.settings.uses_development_key:
        yield critical(
            "security.E002",
            "The secret key is the built-in development key while debug is off: anyone "
            "can forge this site's sessions and signed values.",
            _KEY_HINT,
        )


@register(deploy=True)
def debug_and_keys(app: Any) -> Iterator[CheckMessage]:
    """security.E001, E002 (debug on), E003, E004."""
    settings = app.settings
    if app.debug:
        yield error(
            "security.E001",
            "Debug is on: error pages show source code, settings and tracebacks.",
            "Unset SATCHEL_DEBUG (or set it to 0) in production.",
        )
        if settings.uses_development_key:
            yield error(
                "security.E002", "The secret key is the built-in development key.", _KEY_HINT
            )
    if not settings.uses_development_key and _weak(settings.secret_key.get_secret_value()):
        yield error(
            "security.E003",
            f"The secret key is weak: it needs at least {MIN_SECRET_KEY_LENGTH} characters "
            f"and {MIN_SECRET_KEY_UNIQUE} different ones.",
            _KEY_HINT,
        )
    for index, fallback in enumerate(settings.secret_key_fallbacks):
        value = fallback.get_secret_value()
        if _weak(value) or value == DEVELOPMENT_SECRET_KEY:
            yield error(
                "security.E004",
                f"secret_key_fallbacks[{index}] is weak or the development key: signatures "
                "made with it are still accepted.",
                "Remove it, or replace it with a strong key.",
            )


@register(deploy=True)
def hosts_and_proxies(app: Any) -> Iterator[CheckMessage]:
    """security.E005, W001, W013."""
    settings = app.settings
    hosts = [h.strip() for h in settings.allowed_hosts if h.strip()]
    if not hosts and not app.debug:
        yield error(
            "security.E005",
            "allowed_hosts is empty: only localhost, 127.0.0.1, [::1] and testserver are "
            "answered, every other Host gets 400.",
            "Set SATCHEL_ALLOWED_HOSTS=example.com,www.example.com (or .example.com).",
        )
    if "*" in hosts:
        yield warning(
            "security.W001",
            "allowed_hosts contains '*': any Host header is accepted, so links the app "
            "builds (password-reset mails, redirects) can point at an attacker's host.",
            "List the host names the site answers for.",
        )
    if "*" in [p.strip() for p in settings.trusted_proxies]:
        yield warning(
            "security.W013",
            "trusted_proxies is '*': every peer may set X-Forwarded-For/Proto/Host.",
            "List the proxies' addresses, unless nothing but the proxy can reach the app.",
        )


@register(deploy=True)
def transport(app: Any) -> Iterator[CheckMessage]:
    """security.W002, W003, W004, W005."""
    settings = app.settings
    if settings.hsts_seconds <= 0:
        yield warning(
            "security.W002",
            "HSTS is off: a first visit over http can be intercepted and kept on http.",
            "Set SATCHEL_HSTS_SECONDS (start with 3600, then 31536000) once every page "
            "works over https.",
        )
    else:
        if not settings.hsts_include_subdomains:
            yield warning(
                "security.W003",
                "HSTS does not cover subdomains: an http subdomain can set cookies for the site.",
                "Set SATCHEL_HSTS_INCLUDE_SUBDOMAINS=1 if every subdomain serves https.",
            )
        if settings.hsts_preload and (
            not settings.hsts_include_subdomains or settings.hsts_seconds < HSTS_PRELOAD_SECONDS
        ):
            yield warning(
                "security.W004",
                "hsts_preload is set, but preload lists require includeSubDomains and a "
                f"max-age of at least {HSTS_PRELOAD_SECONDS} seconds.",
            )
    if not settings.https_redirect:
        yield warning(
            "security.W005",
            "https_redirect is off: the app answers plain http requests itself.",
            "Set SATCHEL_HTTPS_REDIRECT=1, or redirect to https in the proxy in front.",
        )


@register(deploy=True)
def cookies(app: Any) -> Iterator[CheckMessage]:
    """security.W006, W007, W014."""
    settings = app.settings
    if getattr(settings, "session_cookie_secure", None) is False:
        yield warning(
            "security.W006",
            "session_cookie_secure is off: the session cookie also travels over plain http.",
            "Leave it unset (Secure under https) or set it to true.",
        )
    if getattr(settings, "session_cookie_httponly", True) is False:
        yield warning(
            "security.W007",
            "The session cookie is not HttpOnly: any injected script can read it.",
            "Set session_cookie_httponly back to true.",
        )
    if getattr(settings, "session_cookie_samesite", "lax") == "none":
        yield warning(
            "security.W014",
            "session_cookie_samesite is 'none': every cross-site request carries the session.",
            "Use 'lax' unless the site must be embedded in other sites.",
        )


@register(deploy=True)
def protections(app: Any) -> Iterator[CheckMessage]:
    """security.E006, W008, W009, W010, W011, W012."""
    settings = app.settings
    if "security" not in app.extensions:
        yield error(
            "security.E006",
            "The security battery is not installed: no Host checking, CSRF protection "
            "or security headers.",
            "Keep 'satchel.security' in App.batteries.",
        )
    if not settings.csrf_enabled:
        yield warning(
            "security.W008",
            "CSRF protection is off: other sites can post forms as your visitors.",
            "Set csrf_enabled back on; exempt single routes with csrf_exempt instead.",
        )
    if not settings.content_type_nosniff:
        yield warning(
            "security.W009",
            "X-Content-Type-Options: nosniff is off: browsers may run an upload as a script.",
        )
    if settings.frame_options is None:
        yield warning(
            "security.W010",
            "X-Frame-Options is off: other sites can frame pages (clickjacking).",
            "Set frame_options to DENY or SAMEORIGIN.",
        )
    if not settings.referrer_policy or settings.referrer_policy.lower() in _UNSAFE_REFERRER:
        yield warning(
            "security.W011",
            f"Referrer-Policy is {settings.referrer_policy!r}: full URLs (with tokens in "
            "query strings) leak to other sites.",
            "Use 'same-origin' or 'strict-origin-when-cross-origin'.",
        )
    if not settings.cross_origin_opener_policy:
        yield warning(
            "security.W012",
            "Cross-Origin-Opener-Policy is off: pages opened by other sites keep a handle "
            "on this one.",
            "Set cross_origin_opener_policy to 'same-origin'.",
        )


__all__ = [
    "HSTS_PRELOAD_SECONDS",
    "MIN_SECRET_KEY_LENGTH",
    "MIN_SECRET_KEY_UNIQUE",
    "cookies",
    "debug_and_keys",
    "development_key_in_production",
    "hosts_and_proxies",
    "protections",
    "transport",
]
