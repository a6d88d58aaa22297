"""Compose one route's request pipeline at startup.

From the inside out: the call plan and the handler, then before/after hooks,
then error handling (exceptions become responses here, so middleware always
sees a response), then typed middleware. Each layer is added only when it has
something to do, so a bare route is one ``await`` of the handler.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from satchel.exceptions import HTTPException, ImproperlyConfigured
from satchel.handlers.errors import http_exception_response, server_error_response
from satchel.handlers.plan import CallPlan
from satchel.handlers.providers import ProviderContext, RunSync
from satchel.handlers.results import ResponseModel, declared_response_model, to_response
from satchel.http.negotiation import best_match, not_acceptable
from satchel.http.request import ClientDisconnect, Request
from satchel.http.response import Response

Endpoint = Callable[[Request], Awaitable[Response]]
ErrorHandlers = Sequence[dict[Any, Callable[..., Any]]]


def handler_call(
    plan: CallPlan,
    status_code: int | None,
    where: str,
    options: Mapping[str, Any] | None = None,
) -> Endpoint:
    """Return ``request -> response`` that resolves parameters, calls, and converts the result.

    ``options`` are the route's: ``response_model`` (or a model return annotation)
    shapes the result, ``produces`` answers 406 when no listed type fits ``Accept``.
    """
    endpoint = _call(plan, status_code, where, options or {})
    produces = (options or {}).get("produces")
    return _negotiated(endpoint, tuple(produces)) if produces else endpoint


def _negotiated(inner: Endpoint, offers: tuple[str, ...]) -> Endpoint:
    for offer in offers:
        main, slash, sub = str(offer).partition("/")
        if not slash or not main or not sub or "*" in offer or "," in offer:
            raise ImproperlyConfigured(
                f"produces=[...] lists media types such as 'application/json', not {offer!r}"
            )

    async def negotiated(request: Request) -> Response:
        chosen = best_match(request.headers.get("accept"), offers)
        if chosen is None:
            raise not_acceptable(offers)
        request.state.media_type = chosen
        return await inner(request)

    return negotiated


def _call(
    plan: CallPlan, status_code: int | None, where: str, options: Mapping[str, Any]
) -> Endpoint:
    func = plan.func
    run_sync = plan.run_sync
    is_async = plan.is_async
    model = declared_response_model(func, options)
    convert = ResponseModel(model, where).to_response if model is not None else to_response

    if not plan.sources and is_async:

        async def call_bare(request: Request) -> Response:
            return convert(await func(), status_code, where)

        return call_bare

    if plan.path_only and is_async:

        async def call_path(request: Request) -> Response:
            return convert(await func(**request.path_params), status_code, where)

        return call_path

    if not plan.needs_providers:

        async def call_plain(request: Request) -> Response:
            kwargs = await plan.resolve(request, None)
            result = await func(**kwargs) if is_async else await run_sync(func, **kwargs)
            return convert(result, status_code, where)

        return call_plain

    async def call_with_providers(request: Request) -> Response:
        ctx = ProviderContext()
        try:
            kwargs = await plan.resolve(request, ctx)
            result = await func(**kwargs) if is_async else await run_sync(func, **kwargs)
        except BaseException as exc:
            await ctx.close(exc, run_sync)
            raise
        await ctx.close(None, run_sync)
        return convert(result, status_code, where)

    return call_with_providers


async def call_maybe_async(func: Callable[..., Any], run_sync: RunSync, *args: Any) -> Any:
    """Call ``func`` on the loop if it is async, else in the thread pool."""
    if inspect.iscoroutinefunction(func):
        return await func(*args)
    return await run_sync(func, *args)


def with_hooks(
    inner: Endpoint,
    before: Sequence[Callable[..., Any]],
    after: Sequence[Callable[..., Any]],
    run_sync: RunSync,
) -> Endpoint:
    """Wrap ``inner`` with before-request and after-request hooks."""
    if not before and not after:
        return inner

    async def hooked(request: Request) -> Response:
        response: Response | None = None
        for hook in before:
            result = await call_maybe_async(hook, run_sync, request)
            if result is not None:
                response = to_response(result, None, f"before_request hook {hook.__qualname__}")
                break
        if response is None:
            response = await inner(request)
        for hook in after:
            result = await call_maybe_async(hook, run_sync, request, response)
            if result is not None:
                response = to_response(result, None, f"after_request hook {hook.__qualname__}")
        return response

    return hooked


def with_errors(
    inner: Endpoint,
    handlers: ErrorHandlers,
    debug: Callable[[], bool],
    run_sync: RunSync,
    where: str,
) -> Endpoint:
    """Turn exceptions from ``inner`` into responses (user handlers first, then defaults)."""

    async def guarded(request: Request) -> Response:
        try:
            return await inner(request)
        except ClientDisconnect:
            raise
        except Exception as exc:
            return await error_response(request, exc, handlers, debug(), run_sync, where)

    return guarded


async def error_response(
    request: Request,
    exc: Exception,
    handlers: ErrorHandlers,
    debug: bool,
    run_sync: RunSync,
    where: str,
) -> Response:
    """Return the response for ``exc``: the first matching user handler, else the default."""
    handler = find_error_handler(exc, handlers)
    if handler is not None:
        try:
            result = await call_maybe_async(handler, run_sync, request, exc)
            return to_response(result, getattr(exc, "status_code", 500), "error handler")
        except Exception as inner_exc:
            exc = inner_exc  # the error handler failed: fall through to the default 500
            where = f"error handler {handler.__qualname__}"
    accept = request.headers.get("accept", "")
    if isinstance(exc, HTTPException):
        return http_exception_response(exc, accept)
    response = server_error_response(exc, accept, debug, where)
    request.state._unhandled = exc  # the ASGI entry re-raises it for the server to log
    return response


def find_error_handler(exc: BaseException, handlers: ErrorHandlers) -> Callable[..., Any] | None:
    """Return the handler for ``exc`` from the innermost scope outwards, by class then status."""
    for table in handlers:
        if not table:
            continue
        for cls in type(exc).__mro__:
            found = table.get(cls)
            if found is not None:
                return found
        if isinstance(exc, HTTPException):
            found = table.get(exc.status_code)
            if found is not None:
                return found
    return None


def with_middleware(inner: Endpoint, middleware: Sequence[Callable[..., Any]]) -> Endpoint:
    """Wrap ``inner`` in typed middleware; the first in the list runs outermost."""
    endpoint = inner
    for mw in reversed(middleware):
        endpoint = _bind(mw, endpoint)
    return endpoint


def _bind(mw: Callable[..., Any], call_next: Endpoint) -> Endpoint:
    async def layer(request: Request) -> Response:
        result = await mw(request, call_next)
        if not isinstance(result, Response):
            return to_response(result, None, f"middleware {mw.__qualname__}")
        return result

    return layer


__all__ = [
    "Endpoint",
    "call_maybe_async",
    "error_response",
    "find_error_handler",
    "handler_call",
    "with_errors",
    "with_hooks",
    "with_middleware",
]
