"""Secure defaults: security headers, host checking, CSRF, CORS, safe redirects,
request limits and the deploy checks (``satchel check --deploy``).

The app installs this battery when it freezes (:func:`install`); everything is
decided by settings, so there is nothing to wire up. For templates and handlers:
:func:`csrf_token`, :func:`csrf_input`, :func:`csp_nonce`, :func:`csrf_exempt`,
:func:`redirect` and :func:`is_safe_url`.
"""

from __future__ import annotations

from typing import Any

from satchel.http.forms import FormLimits
from satchel.security.csp import ContentSecurityPolicy, csp_nonce
from satchel.security.csrf import (
    CSRFError,
    csrf_exempt,
    csrf_input,
    csrf_token,
    rotate_csrf_token,
)
from satchel.security.middleware import DisallowedHost, SecurityConfig
from satchel.security.redirects import UnsafeRedirect, is_safe_url, redirect


def form_limits(settings: Any) -> FormLimits:
    """Return the :class:`FormLimits` that ``settings`` ask for."""
    defaults = FormLimits()
    return FormLimits(
        max_fields=settings.max_form_fields,
        max_files=settings.max_form_files,
        max_file_size=settings.max_file_size,
        max_field_size=settings.max_field_size,
        max_total_field_size=max(defaults.max_total_field_size, settings.max_field_size),
        max_body_size=settings.max_body_size,
    )


def install(app: Any) -> None:
    """Apply ``app.settings``' security policy to ``app`` (called when the app freezes).

    Adds the security middleware outermost, so its checks run before any other
    middleware and its headers land on every response, error pages included; and
    makes ``request.form()`` use the settings' limits unless ``App(form_limits=...)``
    chose its own.
    """
    if app.form_limits is None:
        app.form_limits = form_limits(app.settings)
    config = SecurityConfig(app)
    app.extensions["security"] = config
    app.typed_middleware.insert(0, config.middleware())


__all__ = [
    "CSRFError",
    "ContentSecurityPolicy",
    "DisallowedHost",
    "SecurityConfig",
    "UnsafeRedirect",
    "csp_nonce",
    "csrf_exempt",
    "csrf_input",
    "csrf_token",
    "form_limits",
    "install",
    "is_safe_url",
    "redirect",
    "rotate_csrf_token",
]
