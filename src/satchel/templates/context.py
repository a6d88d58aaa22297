"""What every template can use: lazy per-request values and the request-aware globals.

``messages`` and ``current_user`` cost something to produce (reading the session
consumes the flashed messages; loading the user may query the database), so
they are put in the context as :class:`Lazy` values and produced only when a
template actually names them. Jinja looks every name a template uses up once,
when it starts rendering, through :meth:`LazyContext.resolve_or_missing`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from satchel.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from satchel.app import App


class Lazy:
    """A context value computed on first use, then remembered (also by included templates)."""

    __slots__ = ("_factory", "_value")

    _UNSET: Any = object()

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._value: Any = Lazy._UNSET

    def get(self) -> Any:
        """Return the value, computing it the first time."""
        if self._value is Lazy._UNSET:
            self._value = self._factory()
        return self._value


class LazyContext(Context):
    """A Jinja context that turns :class:`Lazy` values into their value when looked up."""

    def resolve_or_missing(self, key: str) -> Any:
        """Look ``key`` up like Jinja does, computing a lazy value on first use."""
        value = super().resolve_or_missing(key)
        if type(value) is Lazy:
            value = value.get()
        return value


def _request_of(context: Context, what: str) -> Any:
    request = context.get("request")
    if request is None:
        raise ImproperlyConfigured(
            f"{what} needs the request: render the template with render(request, ...) "
            "or pass request= to render_to_string"
        )
    return request


def _battery(module: str, attr: str, what: str) -> Callable[..., Any]:
    # Imported on first use: these batteries are optional, and a template that
    # never uses them must not require them.
    try:
        found: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ImproperlyConfigured(
            f"{what} in a template needs {module}.{attr}, which could not be imported ({exc}); "
            "it ships with Satchel: check the installation"
        ) from exc
    return found


@pass_context
def csrf_token(context: Context) -> str:
    """Return the CSRF token for the request being rendered (for forms and ``fetch``)."""
    request = _request_of(context, "csrf_token()")
    token: str = _battery("satchel.security.csrf", "csrf_token", "csrf_token()")(request)
    return token


@pass_context
def csrf_input(context: Context) -> Markup:
    """Return the hidden ``<input>`` carrying the CSRF token, ready to put in a ``<form>``."""
    request = _request_of(context, "csrf_input()")
    field = _battery("satchel.security.csrf", "csrf_input", "csrf_input()")(request)
    if hasattr(field, "__html__"):
        return Markup(field)  # noqa: S704 - the battery marked it as built, escaped HTML
    return Markup.escape(field)


@pass_context
def csp_nonce(context: Context) -> str:
    """Return the request's CSP nonce, for ``<script nonce="{{ csp_nonce() }}">``."""
    request = _request_of(context, "csp_nonce()")
    nonce: str = _battery("satchel.security.csp", "csp_nonce", "csp_nonce()")(request)
    return nonce


def make_url_for(app: App) -> Callable[..., str]:
    """Return the ``url_for(name, **params)`` global for ``app`` (mount-aware)."""
    url_for = app.url_for

    @pass_context
    def template_url_for(context: Context, name: str, /, **params: Any) -> str:
        """Return the URL path of route ``name``; extra params become the query string."""
        path: str = url_for(name, **params)
        request = context.get("request")
        root = getattr(request, "root_path", "") if request is not None else ""
        return root + path if root else path

    return template_url_for


def flashed_messages(request: Any) -> Lazy:
    """Return the request's flashed messages as a lazy value (consumed only if used)."""

    def load() -> Any:
        get = _battery("satchel.sessions", "get_flashed_messages", "messages")
        return get(request)

    return Lazy(load)


def current_user(request: Any) -> Any:
    """Return ``request.user`` as a lazy value when accounts are set up, else ``None``."""
    app = request.app
    if app is None or app.extensions.get("auth") is None:
        return None
    return Lazy(lambda: request.user)


__all__ = [
    "Lazy",
    "LazyContext",
    "csp_nonce",
    "csrf_input",
    "csrf_token",
    "current_user",
    "flashed_messages",
    "make_url_for",
]
