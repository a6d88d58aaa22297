"""Per-app OpenAPI settings that have no ``Settings`` field: description, servers,
tags, and the security schemes other batteries register.

Kept in ``app.extensions["openapi"]`` so that two apps in one process never share
them. Nothing here imports pydantic: batteries call these at import time.

A battery that authenticates requests registers its scheme once and marks the
provider (or handler) that needs it; every route that uses that provider then
lists the requirement::

    register_security_scheme(app, "bearer", bearer_scheme())

    @security("bearer")
    async def current_user(request: Request) -> User: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from satchel.exceptions import ImproperlyConfigured

F = TypeVar("F", bound=Callable[..., Any])

#: The function attribute :func:`security` sets (a list of requirement objects).
SECURITY_ATTRIBUTE = "__openapi_security__"

_SCHEME_TYPES = frozenset({"apiKey", "http", "mutualTLS", "oauth2", "openIdConnect"})


@dataclass
class OpenAPIConfig:
    """What the generated document says beyond the routes themselves."""

    #: ``info.description`` (Markdown).
    description: str | None = None
    #: Extra ``info`` fields: ``contact``, ``license``, ``termsOfService``, ``summary``.
    info: dict[str, Any] = field(default_factory=dict)
    #: ``servers``; empty means "the server the document came from".
    servers: list[dict[str, Any]] = field(default_factory=list)
    #: Tag objects (``{"name": ..., "description": ...}``) in the order the docs show them.
    tags: list[dict[str, Any]] = field(default_factory=list)
    #: ``components.securitySchemes`` by name.
    security_schemes: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Requirements for every operation that sets none of its own (``[]``: none).
    default_security: list[dict[str, list[str]]] = field(default_factory=list)
    #: The generated document, once built (see :func:`satchel.openapi.openapi_schema`).
    schema: dict[str, Any] | None = None
    #: Serialised documents by root path (what ``/openapi.json`` sends).
    encoded: dict[str, tuple[bytes, str]] = field(default_factory=dict)


def openapi_config(app: Any) -> OpenAPIConfig:
    """Return ``app``'s OpenAPI configuration, creating it on first use."""
    config = app.extensions.get("openapi")
    if config is None:
        config = OpenAPIConfig()
        app.extensions["openapi"] = config
    if not isinstance(config, OpenAPIConfig):
        raise ImproperlyConfigured(
            f"app.extensions['openapi'] holds {type(config).__name__}, not OpenAPIConfig"
        )
    return config


def register_security_scheme(app: Any, name: str, scheme: dict[str, Any]) -> None:
    """Add a security scheme (``components.securitySchemes[name]``) to ``app``'s schema."""
    if not name or not all(c.isalnum() or c in "._-" for c in name):
        raise ImproperlyConfigured(f"security scheme name {name!r}: use letters, digits, . _ -")
    if scheme.get("type") not in _SCHEME_TYPES:
        raise ImproperlyConfigured(
            f"security scheme {name!r} needs a 'type' among {sorted(_SCHEME_TYPES)}"
        )
    config = openapi_config(app)
    config.security_schemes[name] = dict(scheme)
    config.schema = None
    config.encoded.clear()


def bearer_scheme(
    bearer_format: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """Return an HTTP bearer-token scheme (``Authorization: Bearer <token>``)."""
    scheme: dict[str, Any] = {"type": "http", "scheme": "bearer"}
    if bearer_format:
        scheme["bearerFormat"] = bearer_format
    if description:
        scheme["description"] = description
    return scheme


def session_cookie_scheme(
    cookie_name: str = "session", description: str | None = None
) -> dict[str, Any]:
    """Return a scheme for a session cookie (what a browser login sets)."""
    scheme: dict[str, Any] = {"type": "apiKey", "in": "cookie", "name": cookie_name}
    if description:
        scheme["description"] = description
    return scheme


def api_key_header_scheme(
    header: str = "X-API-Key", description: str | None = None
) -> dict[str, Any]:
    """Return a scheme for an API key sent in a header."""
    scheme: dict[str, Any] = {"type": "apiKey", "in": "header", "name": header}
    if description:
        scheme["description"] = description
    return scheme


def security(*requirements: str | dict[str, list[str]]) -> Callable[[F], F]:
    """Mark a provider or handler as needing one of ``requirements``.

    Each requirement is a scheme name or ``{name: [scopes]}``; any one of them
    satisfies the operation (OpenAPI's "or"). Routes whose handler, or any
    provider it uses, is marked list the requirements in the schema.
    """
    normalised: list[dict[str, list[str]]] = [
        {r: []} if isinstance(r, str) else dict(r) for r in requirements
    ]

    def decorator(func: F) -> F:
        setattr(func, SECURITY_ATTRIBUTE, normalised)
        return func

    return decorator


__all__ = [
    "SECURITY_ATTRIBUTE",
    "OpenAPIConfig",
    "api_key_header_scheme",
    "bearer_scheme",
    "openapi_config",
    "register_security_scheme",
    "security",
    "session_cookie_scheme",
]
