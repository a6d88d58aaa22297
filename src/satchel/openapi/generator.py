"""Build the OpenAPI 3.1 document of an app from its routes.

Everything comes from what the app already knows: each route's path, methods,
name, options and call plan (parameters, bodies), its handler's docstring and
return annotation. Mounted ASGI apps, WebSocket routes and routes with
``include_in_schema=False`` are left out; routes of included modules are in,
tagged with the module's name.
"""

from __future__ import annotations

import inspect
from typing import Any

from satchel.exceptions import ImproperlyConfigured
from satchel.handlers.plan import CallPlan
from satchel.module import Module
from satchel.openapi.components import SchemaRegistry
from satchel.openapi.models import Problem
from satchel.openapi.parameters import ParameterBuilder, openapi_path, provider_functions
from satchel.openapi.registry import SECURITY_ATTRIBUTE, OpenAPIConfig, openapi_config
from satchel.openapi.responses import PROBLEM, ResponseBuilder
from satchel.routing.route import Route

OPENAPI_VERSION = "3.1.0"
#: The order methods appear in within a path (the order of the OpenAPI spec).
METHOD_ORDER = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_UNSAFE = frozenset({"post", "put", "patch", "delete"})


def split_docstring(func: Any) -> tuple[str | None, str | None]:
    """Return ``(summary, description)``: the first paragraph, and the rest."""
    doc = inspect.getdoc(func)
    if not doc:
        return None, None
    first, _, rest = doc.strip().partition("\n\n")
    summary = " ".join(line.strip() for line in first.splitlines())
    return summary or None, rest.strip() or None


def schema_routes(app: Any) -> list[Route]:
    """Return the app's HTTP routes that belong in the schema, in registration order."""
    app.freeze()
    return [
        route
        for route in app.router.routes
        if route.kind == "http" and route.options.get("include_in_schema", True)
    ]


class DocumentBuilder:
    """Generate the document for one app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.config: OpenAPIConfig = openapi_config(app)
        self.registry = SchemaRegistry()
        self.operation_ids: set[str] = set()
        self.tags: list[str] = []
        self._csrf_checked = False
        self._csrf_exempt: frozenset[int] | None = None

    def build(self) -> dict[str, Any]:
        """Return the whole document as JSON-ready data."""
        paths: dict[str, dict[str, Any]] = {}
        for route in schema_routes(self.app):
            item = paths.setdefault(openapi_path(route.path), {})
            methods = sorted(
                (m.lower() for m in route.methods if m.lower() in METHOD_ORDER),
                key=METHOD_ORDER.index,
            )
            for method in methods:
                if method == "head" and "GET" in route.methods:
                    continue  # answered automatically for every GET route
                item[method] = self.operation(route, method, len(methods) > 1)
        for path, item in paths.items():
            paths[path] = dict(sorted(item.items(), key=lambda kv: METHOD_ORDER.index(kv[0])))
        schemas = self.registry.build()
        document: dict[str, Any] = {
            "openapi": OPENAPI_VERSION,
            "info": self.info(),
        }
        if self.config.servers:
            document["servers"] = list(self.config.servers)
        document["paths"] = {path: item for path, item in paths.items() if item}
        components: dict[str, Any] = {}
        if schemas:
            components["schemas"] = schemas
        if self.config.security_schemes:
            components["securitySchemes"] = dict(self.config.security_schemes)
        if components:
            document["components"] = components
        tags = self.tag_objects()
        if tags:
            document["tags"] = tags
        return document

    def info(self) -> dict[str, Any]:
        """Return the ``info`` object: title and version from the settings."""
        info: dict[str, Any] = {"title": self.app.title, "version": self.app.version}
        if self.config.description:
            info["description"] = self.config.description
        info.update(self.config.info)
        return info

    def tag_objects(self) -> list[dict[str, Any]]:
        """Return the tags: configured ones first (with descriptions), then those used."""
        out = [dict(tag) for tag in self.config.tags]
        named = {tag.get("name") for tag in out}
        out.extend({"name": name} for name in self.tags if name not in named)
        return out

    def operation(self, route: Route, method: str, shared: bool) -> dict[str, Any]:
        """Return the operation object for one route and method."""
        options = route.options
        plan: CallPlan = options["plan"]
        params = ParameterBuilder(route, plan, self.registry)
        summary, description = split_docstring(route.endpoint)
        op: dict[str, Any] = {}
        tags = options.get("tags")
        if tags is None and isinstance(route.owner, Module):
            tags = [route.owner.name]
        if tags:
            op["tags"] = list(tags)
            self.tags.extend(t for t in tags if t not in self.tags)
        summary = options.get("summary", summary)
        description = options.get("description", description)
        if summary:
            op["summary"] = summary
        if description:
            op["description"] = description
        op["operationId"] = self.operation_id(route, method, shared)
        parameters = params.parameters()
        if parameters:
            op["parameters"] = parameters
        body = params.request_body()
        if body is not None:
            op["requestBody"] = body
        responses = ResponseBuilder(route, params, self.registry).responses()
        if method in _UNSAFE and self.csrf_applies(route) and "403" not in responses:
            responses["403"] = {
                "description": "CSRF check failed: send a bearer token, a JSON body without "
                "cookies, or the CSRF token (see the security settings).",
                "content": {PROBLEM: {"schema": self.registry.schema_for(Problem)}},
            }
            responses = dict(sorted(responses.items()))
        op["responses"] = responses
        if options.get("deprecated"):
            op["deprecated"] = True
        security = self.security(route, plan)
        if security is not None:
            op["security"] = security
        extra = options.get("openapi_extra")
        if extra:
            op.update(extra)
        return op

    def csrf_applies(self, route: Route) -> bool:
        """Return whether the CSRF check guards ``route`` (a possible 403)."""
        if not self._csrf_checked:
            self._csrf_checked = True
            self._csrf_exempt = _csrf_exempt_owners(self.app)
        exempt = self._csrf_exempt
        if exempt is None:
            return False
        return not (
            route.options.get("csrf_exempt")
            or getattr(route.endpoint, "_satchel_csrf_exempt", False)
            or id(route.owner) in exempt
        )

    def operation_id(self, route: Route, method: str, shared: bool) -> str:
        """Return a unique operation id: the route name (plus the method if it has several)."""
        explicit = route.options.get("operation_id")
        base = explicit or (f"{route.name}_{method}" if shared else route.name)
        candidate, n = base, 2
        while candidate in self.operation_ids:
            candidate, n = f"{base}_{n}", n + 1
        self.operation_ids.add(candidate)
        return str(candidate)

    def security(self, route: Route, plan: CallPlan) -> list[dict[str, list[str]]] | None:
        """Return the route's security requirements (``None``: the document's default)."""
        requirements = route.options.get("security")
        if requirements is None:
            marked: list[dict[str, list[str]]] = []
            for func in (route.endpoint, *provider_functions(plan)):
                for requirement in getattr(func, SECURITY_ATTRIBUTE, ()):
                    if requirement not in marked:
                        marked.append(requirement)
            requirements = marked or (self.config.default_security or None)
        if requirements is None:
            return None
        for requirement in requirements:
            for name in requirement:
                if name not in self.config.security_schemes:
                    raise ImproperlyConfigured(
                        f"route {route.describe()} needs security scheme {name!r}, which is "
                        "not registered: call satchel.openapi.register_security_scheme(app, "
                        f"{name!r}, ...)"
                    )
        return [dict(r) for r in requirements]


def _csrf_exempt_owners(app: Any) -> frozenset[int] | None:
    """Return the owners exempt from CSRF checks, or ``None`` when no check runs."""
    if not getattr(app.settings, "csrf_enabled", False):
        return None
    try:
        # Imported here: the security battery may be left out of an installation.
        from satchel.security.csrf import exempt_scaffolds
    except ImportError:
        return None
    return exempt_scaffolds(app)


def generate_openapi(app: Any) -> dict[str, Any]:
    """Return a freshly generated OpenAPI document for ``app`` (freezes the app)."""
    return DocumentBuilder(app).build()


__all__ = [
    "METHOD_ORDER",
    "OPENAPI_VERSION",
    "DocumentBuilder",
    "generate_openapi",
    "split_docstring",
]
