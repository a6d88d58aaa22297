"""OpenAPI 3.1 for Satchel apps: the schema from typed handlers, and offline docs.

When the app freezes, :func:`install` adds ``GET /openapi.json`` (the document)
and ``GET /docs`` (Swagger UI, served from inside the package) if
``settings.openapi_url`` is set and the app runs in debug mode or
``settings.openapi_in_production`` is on. ``satchel openapi module:app`` writes
the document without serving it.

This module stays light: the generator and pydantic's JSON Schema machinery load
when the schema is first asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from satchel.exceptions import ImproperlyConfigured
from satchel.openapi.registry import (
    OpenAPIConfig,
    api_key_header_scheme,
    bearer_scheme,
    openapi_config,
    register_security_scheme,
    security,
    session_cookie_scheme,
)

if TYPE_CHECKING:
    from satchel.openapi.models import Problem, ValidationErrorItem, ValidationProblem


def install(app: Any) -> None:
    """Add the schema and docs routes to ``app`` when its settings ask for them."""
    settings = app.settings
    openapi_url = settings.openapi_url
    if not openapi_url or not (app.debug or settings.openapi_in_production):
        return
    # Imported here: apps that serve no schema never load the endpoints.
    from satchel.openapi.endpoints import docs_asset, docs_endpoint, schema_endpoint

    taken = set(_declared_get_paths(app, ""))
    for setting, url in (("openapi_url", openapi_url), ("docs_url", settings.docs_url)):
        if url and url.rstrip("/") in taken:
            raise ImproperlyConfigured(
                f"the app has its own GET route at {url!r}, which the OpenAPI battery serves "
                f"too: set {setting} to another path, or to None to turn it off"
            )
    app.add_route(
        openapi_url, schema_endpoint(app), ["GET"], name="openapi_schema", include_in_schema=False
    )
    docs_url = settings.docs_url
    if docs_url:
        docs_url = docs_url.rstrip("/") or "/docs"
        app.add_route(
            docs_url,
            docs_endpoint(app, openapi_url, docs_url),
            ["GET"],
            name="openapi_docs",
            include_in_schema=False,
        )
        app.add_route(
            docs_url + "/assets/{name}",
            docs_asset,
            ["GET"],
            name="openapi_docs_asset",
            include_in_schema=False,
        )


def _declared_get_paths(scaffold: Any, prefix: str) -> Iterator[str]:
    for spec in scaffold.route_specs:
        if "GET" in spec.methods:
            yield (prefix + spec.path).rstrip("/")
    for module, override in scaffold.modules:
        yield from _declared_get_paths(
            module, prefix + (override if override is not None else module.prefix)
        )


def openapi_schema(app: Any) -> dict[str, Any]:
    """Return ``app``'s OpenAPI document (generated once, then cached)."""
    # Imported here: see the module docstring.
    from satchel.openapi.endpoints import openapi_schema as cached

    return cached(app)


def generate_openapi(app: Any) -> dict[str, Any]:
    """Return a freshly generated OpenAPI document for ``app`` (no cache)."""
    # Imported here: see the module docstring.
    from satchel.openapi.generator import generate_openapi as generate

    return generate(app)


def __getattr__(name: str) -> Any:
    # The error models need pydantic; they load on first use.
    if name in ("Problem", "ValidationProblem", "ValidationErrorItem"):
        from satchel.openapi import models

        return getattr(models, name)
    raise AttributeError(f"module 'satchel.openapi' has no attribute {name!r}")


__all__ = [
    "OpenAPIConfig",
    "Problem",
    "ValidationErrorItem",
    "ValidationProblem",
    "api_key_header_scheme",
    "bearer_scheme",
    "generate_openapi",
    "install",
    "openapi_config",
    "openapi_schema",
    "register_security_scheme",
    "security",
    "session_cookie_scheme",
]
