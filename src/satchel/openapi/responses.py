"""An operation's ``responses``: the success answer, declared extras, and the errors
Satchel itself can send (400, 406, 413, 415, 422) as problem details.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin, get_type_hints

from satchel.handlers.results import declared_response_model
from satchel.http.response import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from satchel.openapi.components import SchemaRegistry
from satchel.openapi.models import Problem, ValidationProblem
from satchel.openapi.parameters import ParameterBuilder
from satchel.routing.route import Route
from satchel.status import phrase

PROBLEM = "application/problem+json"
_JSON_TYPES = ("application/json",)
_TEXT = {"type": "string"}


def return_annotation(func: Any) -> Any:
    """Return ``func``'s return annotation, resolved; ``inspect.Parameter.empty`` when absent."""
    try:
        localns = dict(inspect.getclosurevars(func).nonlocals)
    except (TypeError, ValueError):
        localns = {}
    try:
        hints = get_type_hints(func, localns=localns, include_extras=True)
    except Exception:
        return inspect.Parameter.empty
    return hints.get("return", inspect.Parameter.empty)


def is_json_type(media_type: str) -> bool:
    """Return whether ``media_type`` is JSON (``application/json`` or ``*+json``)."""
    media = media_type.partition(";")[0].strip().lower()
    return media in _JSON_TYPES or media.endswith("+json")


def _is_none(annotation: Any) -> bool:
    return annotation is None or annotation is type(None)


class ResponseBuilder:
    """Describe one route's responses."""

    def __init__(self, route: Route, params: ParameterBuilder, registry: SchemaRegistry) -> None:
        self.route = route
        self.params = params
        self.registry = registry
        self.options = route.options

    def success_status(self, annotation: Any) -> int:
        """Return the status of a successful answer."""
        if self.route.status_code is not None:
            return self.route.status_code
        return 204 if _is_none(annotation) else 200

    def responses(self) -> dict[str, Any]:
        """Return the ``responses`` object, keyed by status text."""
        annotation = return_annotation(self.route.endpoint)
        model = declared_response_model(self.route.endpoint, self.options)
        status = self.success_status(annotation)
        out: dict[str, Any] = {str(status): self._success(status, annotation, model)}
        for code, spec in self._errors().items():
            out[code] = spec
        for code, declared in (self.options.get("responses") or {}).items():
            out[str(code)] = self._declared(int(code) if str(code).isdigit() else 0, declared)
        return dict(sorted(out.items(), key=lambda kv: (not kv[0].isdigit(), kv[0])))

    # -- the success answer ----------------------------------------------------------

    def _success(self, status: int, annotation: Any, model: Any) -> dict[str, Any]:
        response: dict[str, Any] = {"description": phrase(status) or "Success"}
        if status == 204 or 100 <= status < 200 or status == 304:
            return response
        if _is_none(annotation) and model is None:
            return response  # None with another status: an empty body
        produces = self.options.get("produces")
        if model is not None:
            schema = self.registry.schema_for(model, "serialization")
            offers = list(produces) if produces else ["application/json"]
            response["content"] = {
                media: {"schema": schema if is_json_type(media) else {"type": "string"}}
                for media in offers
            }
            return response
        content = self._content_for(annotation)
        if produces:
            content = {
                media: content.get(media, {"schema": {} if is_json_type(media) else _TEXT})
                for media in produces
            }
        if content:
            response["content"] = content
        return response

    def _content_for(self, annotation: Any) -> dict[str, Any]:
        if annotation is inspect.Parameter.empty or annotation is Any:
            return {}
        origin = get_origin(annotation)
        if origin is Union or origin is types.UnionType:
            args = [a for a in get_args(annotation) if not _is_none(a)]
            if len(args) == 1:
                return self._content_for(args[0])
        if annotation is str:
            return {"text/html": {"schema": {"type": "string"}}}
        if annotation is bytes:
            return {"application/octet-stream": {"schema": dict(_BYTES)}}
        if isinstance(annotation, type) and issubclass(annotation, Response):
            return _response_class_content(annotation)
        if not isinstance(annotation, type) and origin is None:
            return {}
        schema = self.registry.schema_for(annotation, "serialization")
        return {"application/json": {"schema": schema}}

    # -- errors ----------------------------------------------------------------------

    def _errors(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.params.reads_body:
            out["400"] = self._problem(400, "The body is malformed (e.g. invalid JSON).")
            out["413"] = self._problem(413, "The body is larger than the server accepts.")
        if self.options.get("produces"):
            out["406"] = self._problem(406, "None of the produced media types fits Accept.")
        if self.params.reads_body:
            out["415"] = self._problem(415, "The body's Content-Type is not one this reads.")
        if self.params.validates:
            out["422"] = {
                "description": "A request value failed validation; `errors` lists each one.",
                "content": {PROBLEM: {"schema": self.registry.schema_for(ValidationProblem)}},
            }
        return out

    def _problem(self, status: int, description: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {PROBLEM: {"schema": self.registry.schema_for(Problem)}},
        }

    def _declared(self, status: int, declared: Any) -> dict[str, Any]:
        """Describe one entry of the route's ``responses={status: ...}``."""
        description = phrase(status) or "Response"
        if declared is None:
            return {"description": description}
        if isinstance(declared, str):
            if status >= 400:
                return {**self._problem(status, declared)}
            return {"description": declared}
        if isinstance(declared, Mapping):
            spec = {k: v for k, v in declared.items() if k != "model"}
            spec.setdefault("description", description)
            if "model" in declared and "content" not in spec:
                spec["content"] = self._model_content(declared["model"])
            return spec
        return {"description": description, "content": self._model_content(declared)}

    def _model_content(self, model: Any) -> dict[str, Any]:
        media = (
            PROBLEM
            if isinstance(model, type) and issubclass(model, Problem)
            else "application/json"
        )
        return {media: {"schema": self.registry.schema_for(model, "serialization")}}


_BYTES = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}


def _response_class_content(cls: type[Response]) -> dict[str, Any]:
    if issubclass(cls, RedirectResponse):
        return {}
    if issubclass(cls, HTMLResponse):
        return {"text/html": {"schema": {"type": "string"}}}
    if issubclass(cls, PlainTextResponse):
        return {"text/plain": {"schema": {"type": "string"}}}
    if issubclass(cls, JSONResponse):
        return {"application/json": {"schema": {}}}
    media = getattr(cls, "media_type", None)
    if isinstance(media, str) and media:
        schema: dict[str, Any] = {} if is_json_type(media) else {"type": "string"}
        return {media: {"schema": schema}}
    return {}


__all__ = ["PROBLEM", "ResponseBuilder", "is_json_type", "return_annotation"]
