"""Operation parameters and request bodies, read from a route's call plan.

The call plan (:class:`satchel.handlers.plan.CallPlan`) already knows where
every value comes from; this module only describes it. Providers count too: a
header a provider reads is a header the operation needs.
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Iterator
from typing import Annotated, Any

from satchel.handlers.coerce import sequence_item, unwrap_optional
from satchel.handlers.plan import CallPlan, Source
from satchel.openapi.components import SchemaRegistry
from satchel.routing.converters import (
    Converter,
    FloatConverter,
    IntConverter,
    PathConverter,
    SlugConverter,
    StringConverter,
    UUIDConverter,
)
from satchel.routing.route import Route

# OpenAPI says these header parameters are ignored: they are described elsewhere.
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-zA-Z_][a-zA-Z0-9_]*)?}")
_EMPTY: Any = inspect.Parameter.empty
_BINARY = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}


def openapi_path(template: str) -> str:
    """Return a route template in OpenAPI form: ``/items/{id:int}`` -> ``/items/{id}``."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", template)


def converter_schema(converter: Converter) -> dict[str, Any]:
    """Return the schema of what a path converter accepts."""
    custom = getattr(converter, "openapi_schema", None)
    if isinstance(custom, dict):
        return dict(custom)
    if isinstance(converter, IntConverter):
        return {"type": "integer", "minimum": 0, "maximum": 10**converter.max_digits - 1}
    if isinstance(converter, FloatConverter):
        return {"type": "number", "minimum": 0}
    if isinstance(converter, UUIDConverter):
        return {"type": "string", "format": "uuid"}
    if isinstance(converter, SlugConverter):
        return {"type": "string", "pattern": f"^{converter.regex}$"}
    if isinstance(converter, PathConverter):
        return {"type": "string"}
    if isinstance(converter, StringConverter) or converter.regex == "[^/]+":
        return {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
    return {"type": "string", "pattern": f"^{converter.regex}$"}


def flatten_sources(plan: CallPlan) -> Iterator[Source]:
    """Yield the plan's sources and those of every provider it uses (each once)."""
    seen: set[int] = set()
    stack = [plan]
    while stack:
        current = stack.pop(0)
        for source in current.sources:
            if source.kind == "provider":
                if source.plan is not None and id(source.plan) not in seen:
                    seen.add(id(source.plan))
                    stack.append(source.plan)
                continue
            yield source


def provider_functions(plan: CallPlan) -> Iterator[Any]:
    """Yield the function of every provider the plan uses, directly or not."""
    stack = [plan]
    seen: set[int] = set()
    while stack:
        current = stack.pop(0)
        for source in current.sources:
            if source.kind == "provider" and source.plan is not None:
                if id(source.plan) in seen:
                    continue
                seen.add(id(source.plan))
                yield source.plan.func
                stack.append(source.plan)


def json_default(value: Any) -> Any:
    """Return ``value`` as JSON data for a schema ``default``, or ``...`` when it has none."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_default(v) for v in value]
        return ... if any(i is ... for i in items) else items
    return ...


class ParameterBuilder:
    """Describe one route's parameters and request body."""

    def __init__(self, route: Route, plan: CallPlan, registry: SchemaRegistry) -> None:
        self.route = route
        self.plan = plan
        self.registry = registry
        self.sources = list(flatten_sources(plan))

    # -- parameters ------------------------------------------------------------------

    def parameters(self) -> list[dict[str, Any]]:
        """Return the ``parameters`` list: path first, then query, header, cookie."""
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()

        def add(param: dict[str, Any]) -> None:
            key = (param["in"], param["name"].lower() if param["in"] == "header" else param["name"])
            if key not in seen:
                seen.add(key)
                out.append(param)

        by_name = {s.name: s for s in self.sources if s.kind == "path"}
        for name, converter in self.route.converters.items():
            add(self._path_param(name, converter, by_name.get(name)))
        for source in self.sources:
            if source.kind in ("query", "header", "cookie"):
                if source.kind == "header" and source.alias in _IGNORED_HEADERS:
                    continue
                add(self._simple_param(source))
            elif source.kind in ("query_model", "header_model", "cookie_model"):
                for param in self._model_params(source):
                    add(param)
        return out

    def _path_param(self, name: str, converter: Converter, source: Source | None) -> dict[str, Any]:
        annotation = source.annotation if source is not None else None
        if source is not None and (source.coerce is not None or source.adapter is not None):
            schema = self.registry.schema_for(annotation)
        else:
            schema = converter_schema(converter)
        return {"name": name, "in": "path", "required": True, "schema": schema}

    def _simple_param(self, source: Source) -> dict[str, Any]:
        marker = source.marker
        inner, _ = unwrap_optional(source.annotation)
        if inner is Any or inner is _EMPTY:
            inner = str
        constraints = dict(marker.constraints) if marker is not None else {}
        if source.many:
            item = sequence_item(inner)
            schema: dict[str, Any] = {
                "type": "array",
                "items": self.registry.schema_for(item if item is not None else str),
            }
            for key, value in constraints.items():
                if key in ("min_length", "max_length"):
                    schema["minItems" if key == "min_length" else "maxItems"] = value
        else:
            schema = self.registry.schema_for(inner, **constraints)
        param: dict[str, Any] = {
            "name": source.alias,
            "in": source.kind,
            "required": source.required,
            "schema": schema,
        }
        self._decorate(param, source)
        return param

    def _decorate(self, param: dict[str, Any], source: Source) -> None:
        marker = source.marker
        if not source.required:
            default = json_default(source.default)
            if default is not ... and default is not None:
                # Set on the slot itself: the registry fills the rest in later.
                param["schema"]["default"] = default
        if marker is None:
            return
        if marker.description:
            param["description"] = marker.description
        if marker.deprecated:
            param["deprecated"] = True
        if marker.examples:
            param["examples"] = {
                f"example{i}": {"value": value} for i, value in enumerate(marker.examples, 1)
            }

    def _model_params(self, source: Source) -> Iterator[dict[str, Any]]:
        kind = source.kind.removesuffix("_model")
        model = unwrap_optional(source.annotation)[0]
        fields = getattr(model, "model_fields", {})
        for field_name, info in fields.items():
            key = info.alias or field_name
            wire = key.replace("_", "-").lower() if kind == "header" else key
            if kind == "header" and wire in _IGNORED_HEADERS:
                continue
            annotation = info.annotation
            inner, _ = unwrap_optional(annotation)
            item = sequence_item(inner)
            if item is not None:
                schema: dict[str, Any] = {"type": "array", "items": self.registry.schema_for(item)}
            else:
                # The field's constraints (ge, max_length...) live in its metadata.
                target = Annotated[(inner, *info.metadata)] if info.metadata else inner
                schema = self.registry.schema_for(target)
            if not info.is_required():
                default = json_default(info.default)
                if default is not ... and default is not None:
                    schema["default"] = default
            param: dict[str, Any] = {
                "name": wire,
                "in": kind,
                "required": info.is_required(),
                "schema": schema,
            }
            if info.description:
                param["description"] = info.description
            if info.deprecated:
                param["deprecated"] = True
            yield param

    # -- request body ----------------------------------------------------------------

    def request_body(self) -> dict[str, Any] | None:
        """Return the ``requestBody`` object, or ``None`` when the route reads no body."""
        body = [s for s in self.plan.sources if s.kind == "body"]
        form = [s for s in self.sources if s.kind in ("form", "file")]
        if body:
            return self._json_body(body)
        if form:
            return self._form_body(form)
        return None

    def _json_body(self, sources: list[Source]) -> dict[str, Any]:
        first = sources[0]
        embed = len(sources) > 1 or (first.marker is not None and first.marker.embed)
        if not embed:
            schema = self._body_schema(first)
            required = first.required
        else:
            properties = {s.alias: self._body_schema(s) for s in sources}
            names = [s.alias for s in sources if s.required]
            schema = {"type": "object", "properties": properties}
            if names:
                schema["required"] = names
            required = bool(names)
        return {"required": required, "content": {"application/json": {"schema": schema}}}

    def _body_schema(self, source: Source) -> dict[str, Any]:
        annotation = source.annotation
        if annotation is _EMPTY or annotation is Any:
            return {}
        constraints = dict(source.marker.constraints) if source.marker is not None else {}
        inner, optional = unwrap_optional(annotation)
        return self.registry.schema_for(inner if optional else annotation, **constraints)

    def _form_body(self, sources: list[Source]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        model_schema: dict[str, Any] | None = None
        has_file = False
        for source in sources:
            inner = unwrap_optional(source.annotation)[0]
            if source.kind == "form" and hasattr(inner, "model_fields"):
                model_schema = self.registry.schema_for(inner)
                continue
            if source.kind == "file":
                has_file = True
                schema: dict[str, Any] = (
                    {"type": "array", "items": dict(_BINARY)} if source.many else dict(_BINARY)
                )
            elif source.many:
                item = sequence_item(inner)
                schema = {"type": "array", "items": self.registry.schema_for(item or str)}
            else:
                constraints = dict(source.marker.constraints) if source.marker is not None else {}
                schema = self.registry.schema_for(
                    str if inner in (_EMPTY, Any) else inner, **constraints
                )
            properties[source.alias] = schema
            if source.required:
                required.append(source.alias)
        if model_schema is not None and not properties:
            schema = model_schema
        else:
            schema = {"type": "object", "properties": properties}
            if required:
                schema["required"] = required
            if model_schema is not None:
                schema = {"allOf": [model_schema, schema]}
        types = (
            ["multipart/form-data"]
            if has_file
            else [
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ]
        )
        return {
            "required": bool(required) or model_schema is not None,
            "content": {media: {"schema": schema} for media in types},
        }

    # -- what can go wrong -----------------------------------------------------------

    @property
    def reads_body(self) -> bool:
        """Whether the route reads the request body (JSON or form)."""
        return any(s.kind in ("body", "form", "file") for s in self.sources)

    @property
    def reads_json(self) -> bool:
        """Whether the route reads a JSON body."""
        return any(s.kind == "body" for s in self.plan.sources)

    @property
    def validates(self) -> bool:
        """Whether a request value can fail validation (a 422)."""
        return any(s.kind not in ("request", "path") for s in self.sources) or any(
            s.kind == "path" and (s.coerce is not None or s.adapter is not None)
            for s in self.sources
        )


__all__ = [
    "ParameterBuilder",
    "converter_schema",
    "flatten_sources",
    "json_default",
    "openapi_path",
    "provider_functions",
]
