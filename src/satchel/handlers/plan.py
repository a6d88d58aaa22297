"""Call plans: a handler's signature, read once at startup, applied per request.

:func:`build_plan` looks at every parameter of a handler (or provider) and
decides where its value comes from and how it is converted. Per request,
:meth:`CallPlan.resolve` only runs those decisions: no signature inspection, no
type-hint evaluation, no adapter construction on the hot path.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from satchel.exceptions import (
    ImproperlyConfigured,
    ValidationError,
)
from satchel.handlers.coerce import (
    sequence_item,
    simple_coercer,
    unwrap_optional,
)
from satchel.handlers.params import Body, File, Param, Provide
from satchel.handlers.providers import Provider, ProviderContext, ProviderRegistry, RunSync
from satchel.handlers.resolve import (
    REQUIRED,
    Source,
    _body,
    _convert,
    _form,
    _from_multi,
    _group,
    _is_model,
    _take,
    _upload_type,
    provide,
    pydantic_errors,
)
from satchel.http.request import Request
from satchel.routing.converters import Converter


def _adapter(annotation: Any, marker: Param | None) -> Any:
    # Imported here so apps that never validate through pydantic never load it.
    from pydantic import Field, TypeAdapter

    if marker is not None and marker.constraints:
        annotation = Annotated[annotation, Field(**marker.constraints)]
    return TypeAdapter(annotation)


def _resolve_hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        localns = dict(inspect.getclosurevars(func).nonlocals)
    except (TypeError, ValueError):
        localns = {}
    try:
        return get_type_hints(func, localns=localns, include_extras=True)
    except Exception as exc:
        raise ImproperlyConfigured(
            f"cannot read the type annotations of {func.__module__}.{func.__qualname__}: {exc}. "
            "Define the annotated types at module level or import them."
        ) from exc


def build_plan(
    func: Callable[..., Any],
    *,
    path_converters: dict[str, Converter],
    providers: ProviderRegistry,
    run_sync: RunSync,
    websocket_type: Any = None,
    _stack: tuple[Provider, ...] = (),
) -> CallPlan:
    """Read ``func``'s signature and return how to call it for a request."""
    where = f"{func.__module__}.{func.__qualname__}"
    hints = _resolve_hints(func)
    signature = inspect.signature(func)
    sources: list[Source] = []
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ImproperlyConfigured(f"{where}: *args and **kwargs parameters are not supported")
        annotation = hints.get(param.name, param.annotation)
        sources.append(
            _source_for(param, annotation, where, path_converters, providers, websocket_type)
        )
    plan = CallPlan(func, sources, run_sync, frozenset(path_converters))
    for source in sources:
        if source.provider is not None:
            provider = source.provider
            if provider in _stack:
                chain = " -> ".join(p.describe() for p in (*_stack, provider))
                raise ImproperlyConfigured(f"providers depend on each other in a loop: {chain}")
            source.plan = build_plan(
                provider.func,
                path_converters=path_converters,
                providers=providers,
                run_sync=run_sync,
                websocket_type=websocket_type,
                _stack=(*_stack, provider),
            )
    return plan


def _source_for(
    param: inspect.Parameter,
    annotation: Any,
    where: str,
    path_converters: dict[str, Converter],
    providers: ProviderRegistry,
    websocket_type: Any,
) -> Source:
    name = param.name
    default = param.default
    marker: Param | None = None
    provide: Provide | None = None
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        for extra in extras:
            if isinstance(extra, Param):
                marker = extra
            elif isinstance(extra, Provide):
                provide = extra
        annotation = base
    empty = annotation is inspect.Parameter.empty

    if provide is not None:
        provider = _explicit_provider(provide, providers, where, name)
        return Source(name, "provider", name, annotation, default, provider=provider)
    if not empty and isinstance(annotation, type):
        if issubclass(annotation, Request):
            return Source(name, "request", name, annotation)
        if websocket_type is not None and issubclass(annotation, websocket_type):
            return Source(name, "request", name, annotation)

    if marker is None:
        if name in path_converters:
            return _path_source(name, annotation, default, path_converters[name], where)
        found = providers.find(annotation, name)
        if found is not None:
            return Source(name, "provider", name, annotation, default, provider=found)
        inner, _ = unwrap_optional(annotation)
        if _is_model(inner) or (not empty and _is_upload(inner)):
            marker = File() if _is_upload(inner) else Body()
        else:
            marker = _default_marker(name, annotation, where)

    kind = marker.source
    if kind == "path":
        if name not in path_converters:
            raise ImproperlyConfigured(f"{where}: Path() parameter {name!r} is not in the route")
        return _path_source(name, annotation, default, path_converters[name], where)
    alias = marker.alias or (name.replace("_", "-") if kind == "header" else name)
    if kind == "header":
        alias = alias.lower()
    source = Source(name, kind, alias, annotation, default, marker=marker)
    inner, optional = unwrap_optional(annotation)
    if optional and default is REQUIRED:
        source.default = None
    if kind in ("body", "form", "file"):
        if kind == "file" or (kind == "form" and not _is_model(inner)):
            item = sequence_item(inner)
            source.many = item is not None
        if not empty and inner is not Any and not _is_upload(inner):
            source.adapter = _adapter(annotation, marker)
        return source
    item = sequence_item(inner)
    if item is not None:
        source.many = True
        item_coercer = simple_coercer(item) if not marker.constraints else None
        if item_coercer is not None:
            source.coerce = item_coercer
        else:
            source.adapter = _adapter(annotation, marker)
        return source
    if _is_model(inner):  # a model grouping several query parameters
        source.kind = kind + "_model"
        source.adapter = _adapter(annotation, marker)
        return source
    coercer = simple_coercer(str if empty else inner) if not marker.constraints else None
    if coercer is not None:
        source.coerce = coercer
    else:
        source.adapter = _adapter(annotation, marker)
    return source


def _is_upload(annotation: Any) -> bool:
    item = sequence_item(annotation)
    target = item if item is not None else annotation
    return (
        isinstance(target, type) and target.__name__ == "UploadFile" and (target is _upload_type())
    )


def _default_marker(name: str, annotation: Any, where: str) -> Param:
    from satchel.handlers.params import Query

    inner, _ = unwrap_optional(annotation)
    if annotation is inspect.Parameter.empty or simple_coercer(inner) is not None:
        return Query()
    item = sequence_item(inner)
    if item is not None and (simple_coercer(item) is not None or get_origin(item) is Annotated):
        return Query()
    if get_origin(inner) is Annotated or inner is Any:
        return Query()
    raise ImproperlyConfigured(
        f"{where}: cannot tell where parameter {name!r} ({annotation!r}) comes from. "
        "Mark it with Annotated[..., Query()/Header()/Cookie()/Body()/Form()], "
        "or register a provider for its type."
    )


def _path_source(
    name: str, annotation: Any, default: Any, converter: Converter, where: str
) -> Source:
    if default is not REQUIRED:
        raise ImproperlyConfigured(f"{where}: path parameter {name!r} cannot have a default")
    source = Source(name, "path", name, annotation)
    if annotation is inspect.Parameter.empty or annotation is converter.type or annotation is Any:
        return source
    # The converter produced one type, the handler wants another: convert from text.
    coercer = simple_coercer(annotation)
    if coercer is not None:
        source.coerce = lambda value, _c=coercer: _c(str(value))
    else:
        source.adapter = _adapter(annotation, None)
    return source


def _explicit_provider(
    provide: Provide, providers: ProviderRegistry, where: str, name: str
) -> Provider:
    if provide.dependency is not None:
        found = next((p for p in providers.all() if p.func is provide.dependency), None)
        return found or providers.adhoc(provide.dependency)
    found = providers.find(inspect.Parameter.empty, provide.name or name)
    if found is None:
        raise ImproperlyConfigured(f"{where}: no provider named {provide.name or name!r}")
    return found


class CallPlan:
    """How to call one handler or provider for a request."""

    def __init__(
        self,
        func: Callable[..., Any],
        sources: list[Source],
        run_sync: RunSync,
        path_names: frozenset[str] = frozenset(),
    ) -> None:
        self.func = func
        self.sources = sources
        self.run_sync = run_sync
        self.is_async = inspect.iscoroutinefunction(func)
        self.needs_providers = any(s.provider is not None for s in sources)
        #: Exactly the route's path parameters, none needing conversion: pass
        #: ``path_params`` as they are.
        self.path_only = {s.name for s in sources} == path_names and all(
            s.kind == "path" and s.coerce is None and s.adapter is None for s in sources
        )

    async def resolve(self, request: Any, ctx: ProviderContext | None) -> dict[str, Any]:
        """Return the keyword arguments for ``func``; invalid input raises 422/400/415."""
        if self.path_only:
            return request.path_params  # type: ignore[no-any-return]
        kwargs: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        body_cache: list[Any] = []
        for source in self.sources:
            kind = source.kind
            if kind == "path":
                raw = request.path_params[source.name]
                if source.coerce is None and source.adapter is None:
                    kwargs[source.name] = raw
                    continue
                _convert(source, raw, kwargs, errors, "path")
            elif kind == "request":
                kwargs[source.name] = request
            elif kind == "provider":
                assert source.provider is not None and source.plan is not None
                assert ctx is not None
                kwargs[source.name] = await provide(
                    source.provider, source.plan, request, ctx, self.run_sync
                )
            elif kind == "query":
                _from_multi(source, request.query, kwargs, errors)
            elif kind == "header":
                _from_multi(source, request.headers, kwargs, errors)
            elif kind == "cookie":
                value = request.cookies.get(source.alias)
                _take(source, value, kwargs, errors)
            elif kind in ("query_model", "header_model", "cookie_model"):
                _group(source, request, kwargs, errors)
            elif kind == "body":
                await _body(source, request, kwargs, errors, body_cache, self)
            else:  # form, file
                await _form(source, request, kwargs, errors)
        if errors:
            raise ValidationError(errors)
        return kwargs

    @property
    def body_sources(self) -> list[Source]:
        """The parameters read from the JSON body."""
        return [s for s in self.sources if s.kind == "body"]


__all__ = ["REQUIRED", "CallPlan", "Source", "build_plan", "provide", "pydantic_errors"]
