"""Request-time half of a call plan: turn a request into a handler's arguments.

:mod:`satchel.handlers.plan` reads signatures at startup and decides each
parameter's :class:`Source`; the functions here run those decisions per request.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import TYPE_CHECKING, Any

from satchel.exceptions import BadRequest, UnsupportedMediaType
from satchel.handlers.coerce import Coercer, CoercionError, sequence_item, unwrap_optional
from satchel.handlers.params import Param
from satchel.handlers.providers import Provider, ProviderContext, RunSync

if TYPE_CHECKING:
    from satchel.handlers.plan import CallPlan

REQUIRED: Any = inspect.Parameter.empty

_JSON_TYPES = ("application/json",)


@dataclasses.dataclass(eq=False)
class Source:
    """Where one parameter's value comes from, and how it is converted."""

    name: str
    kind: str
    alias: str
    annotation: Any
    default: Any = REQUIRED
    coerce: Coercer | None = None
    adapter: Any = None
    many: bool = False
    provider: Provider | None = None
    marker: Param | None = None
    #: For provider sources: how to call the provider, resolved in this route's scope
    #: (a module's providers can override what the provider itself asks for).
    plan: CallPlan | None = None

    @property
    def required(self) -> bool:
        """Whether a missing value is an error."""
        return self.default is REQUIRED


def _is_model(annotation: Any) -> bool:
    if not isinstance(annotation, type):
        return False
    if dataclasses.is_dataclass(annotation):
        return True
    return hasattr(annotation, "model_validate") and hasattr(annotation, "model_fields")


def _upload_type() -> Any:
    from satchel.http.datastructures import UploadFile

    return UploadFile


def _from_multi(source: Source, multi: Any, kwargs: dict[str, Any], errors: list[Any]) -> None:
    if source.many:
        values = multi.getall(source.alias)
        if not values:
            _take(source, None, kwargs, errors)
            return
        if source.coerce is not None:
            out = []
            for index, value in enumerate(values):
                try:
                    out.append(source.coerce(value))
                except CoercionError as exc:
                    errors.append(_error(source, str(exc), exc.kind, index))
                    return
            kwargs[source.name] = out
        else:
            _convert(source, values, kwargs, errors, source.kind)
        return
    _take(source, multi.get(source.alias), kwargs, errors)


def _take(source: Source, value: Any, kwargs: dict[str, Any], errors: list[Any]) -> None:
    if value is None:
        if source.required:
            errors.append(_error(source, "Field required", "missing"))
        else:
            kwargs[source.name] = source.default
        return
    _convert(source, value, kwargs, errors, source.kind)


def _convert(
    source: Source, value: Any, kwargs: dict[str, Any], errors: list[Any], where: str
) -> None:
    if source.coerce is not None:
        try:
            kwargs[source.name] = source.coerce(value)
        except CoercionError as exc:
            errors.append(_error(source, str(exc), exc.kind))
        return
    if source.adapter is None:
        kwargs[source.name] = value
        return
    from pydantic import ValidationError as PydanticError

    try:
        kwargs[source.name] = source.adapter.validate_python(value)
    except PydanticError as exc:
        errors.extend(pydantic_errors(exc, [where, source.alias]))


def _error(source: Source, msg: str, kind: str, index: int | None = None) -> dict[str, Any]:
    loc: list[Any] = [source.kind.removesuffix("_model"), source.alias]
    if index is not None:
        loc.append(index)
    return {"loc": loc, "msg": msg, "type": kind}


def pydantic_errors(exc: Any, prefix: list[Any]) -> list[dict[str, Any]]:
    """Convert a pydantic ``ValidationError`` to Satchel's error list under ``prefix``."""
    out = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = list(prefix) + [p for p in err["loc"] if p != "__root__"]
        out.append({"loc": loc, "msg": err["msg"], "type": err["type"]})
    return out


def _group(source: Source, request: Any, kwargs: dict[str, Any], errors: list[Any]) -> None:
    kind = source.kind.removesuffix("_model")
    if kind == "cookie":
        data: dict[str, Any] = dict(request.cookies)
    else:
        multi = request.query if kind == "query" else request.headers
        data = _model_data(source.annotation, multi, kind)
    _validate_model(source, data, kwargs, errors, kind)


def _model_data(model: Any, multi: Any, kind: str) -> dict[str, Any]:
    """Collect a model's fields from a multi-dict (lists for list-typed fields)."""
    data: dict[str, Any] = {}
    for field_name, info in getattr(model, "model_fields", {}).items():
        key = info.alias or field_name
        # Header names use hyphens where Python names use underscores.
        wire = key.replace("_", "-").lower() if kind == "header" else key
        values = multi.getall(wire)
        if values:
            many = sequence_item(unwrap_optional(info.annotation)[0]) is not None
            data[key] = values if many else values[0]
    return data


def _validate_model(
    source: Source, data: dict[str, Any], kwargs: dict[str, Any], errors: list[Any], kind: str
) -> None:
    from pydantic import ValidationError as PydanticError  # loaded with the adapters

    try:
        kwargs[source.name] = source.adapter.validate_python(data)
    except PydanticError as exc:
        errors.extend(pydantic_errors(exc, [kind]))


def _is_json(content_type: str) -> bool:
    return content_type in _JSON_TYPES or content_type.endswith("+json")


async def _body(
    source: Source,
    request: Any,
    kwargs: dict[str, Any],
    errors: list[Any],
    cache: list[Any],
    plan: CallPlan,
) -> None:
    from pydantic import ValidationError as PydanticError

    content_type = request.content_type
    raw = await request.body()
    if not raw:
        if source.required:
            errors.append({"loc": ["body"], "msg": "A JSON body is required", "type": "missing"})
        else:
            kwargs[source.name] = source.default
        return
    if not _is_json(content_type):
        raise UnsupportedMediaType(
            f"Expected a JSON body (Content-Type: application/json), got "
            f"{content_type or 'no Content-Type'}"
        )
    embed = (source.marker is not None and source.marker.embed) or len(plan.body_sources) > 1
    if not embed:
        if source.adapter is None:
            kwargs[source.name] = await request.json()
            return
        try:
            kwargs[source.name] = source.adapter.validate_json(raw)
        except PydanticError as exc:
            _json_errors(exc, ["body"], errors)
        return
    if not cache:
        cache.append(await request.json())
    document = cache[0]
    if not isinstance(document, dict):
        errors.append(
            {"loc": ["body"], "msg": "Input should be a JSON object", "type": "dict_type"}
        )
        return
    if source.alias not in document:
        if source.required:
            errors.append(
                {"loc": ["body", source.alias], "msg": "Field required", "type": "missing"}
            )
        else:
            kwargs[source.name] = source.default
        return
    _convert(source, document[source.alias], kwargs, errors, "body")


def _json_errors(exc: Any, prefix: list[Any], errors: list[Any]) -> None:
    details = exc.errors(include_url=False, include_context=False, include_input=False)
    if any(e["type"] == "json_invalid" for e in details):
        first = next(e for e in details if e["type"] == "json_invalid")
        raise BadRequest(f"Malformed JSON body: {first['msg']}")
    errors.extend(pydantic_errors(exc, prefix))


async def _form(source: Source, request: Any, kwargs: dict[str, Any], errors: list[Any]) -> None:
    form = await request.form()
    model = unwrap_optional(source.annotation)[0]
    if source.kind == "form" and source.adapter is not None and _is_model(model):
        _validate_model(source, _model_data(model, form, "form"), kwargs, errors, "form")
        return
    values = form.getall(source.alias)
    if source.kind == "file":
        upload = _upload_type()
        values = [v for v in values if isinstance(v, upload)]
        if not values:
            _take(source, None, kwargs, errors)
            return
        kwargs[source.name] = values if source.many else values[0]
        return
    if not values:
        _take(source, None, kwargs, errors)
        return
    _convert(source, values if source.many else values[0], kwargs, errors, "form")


def _first(gen: Any, provider: Provider) -> Any:
    try:
        return next(gen)
    except StopIteration:
        raise RuntimeError(f"provider {provider.describe()} finished without yielding") from None


async def provide(
    provider: Provider, plan: CallPlan, request: Any, ctx: ProviderContext, run_sync: RunSync
) -> Any:
    """Return ``provider``'s value for this request, computing it once."""
    key = id(provider)
    if key in ctx.values:
        return ctx.values[key]
    kwargs = await plan.resolve(request, ctx)
    func = provider.func
    if provider.is_async_gen:
        gen = func(**kwargs)
        value = await gen.__anext__()
        ctx.cleanups.append((gen, True))
    elif provider.is_sync_gen:
        gen = func(**kwargs)
        value = await run_sync(_first, gen, provider)
        ctx.cleanups.append((gen, False))
    elif provider.is_async:
        value = await func(**kwargs)
    else:
        value = await run_sync(func, **kwargs)
    ctx.values[key] = value
    return value


__all__ = ["REQUIRED", "Source", "provide", "pydantic_errors"]
