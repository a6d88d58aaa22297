"""What an App and a Module have in common: routes, hooks, error handlers,
middleware and providers, registered by decorators and applied when the app
freezes (Flask's "deferred registration").
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from satchel.exceptions import ImproperlyConfigured
from satchel.handlers.providers import ProviderRegistry

if TYPE_CHECKING:
    from satchel.http.request import Request
    from satchel.http.response import Response

F = TypeVar("F", bound=Callable[..., Any])
Handler = Callable[..., Any]
CallNext = Callable[["Request"], Awaitable["Response"]]
TypedMiddleware = Callable[["Request", CallNext], Awaitable["Response"]]

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


@dataclass
class RouteSpec:
    """A route as declared, before the app gives it its final path and name."""

    path: str
    endpoint: Handler
    methods: frozenset[str]
    name: str | None
    kind: str
    status_code: int | None
    options: dict[str, Any] = field(default_factory=dict)


def caller_dir(depth: int = 2) -> str:
    """Return the directory of the file that called the caller (for default root paths)."""
    # sys._getframe, not inspect.stack(): the latter reads the source of every frame.
    filename = sys._getframe(depth).f_code.co_filename
    return (
        os.path.dirname(os.path.abspath(filename)) if not filename.startswith("<") else os.getcwd()
    )


class Scaffold:
    """Shared registration API of :class:`~satchel.App` and :class:`~satchel.Module`."""

    def __init__(self, root_path: str | os.PathLike[str] | None = None) -> None:
        self.root_path = os.fspath(root_path) if root_path is not None else caller_dir(3)
        self.route_specs: list[RouteSpec] = []
        self.before_hooks: list[Callable[..., Any]] = []
        self.after_hooks: list[Callable[..., Any]] = []
        self.error_handlers: dict[type[BaseException] | int, Callable[..., Any]] = {}
        self.typed_middleware: list[TypedMiddleware] = []
        self.providers = ProviderRegistry()
        self.modules: list[tuple[Any, str | None]] = []
        self.static_dirs: list[tuple[str, str, str]] = []
        self.csrf_exempt = False
        self.guards: list[Callable[..., Any]] = []
        #: Set when the app freezes: later registrations would be silently ignored.
        self.locked = False

    def _check_open(self, what: str) -> None:
        if self.locked:
            raise ImproperlyConfigured(
                f"cannot {what} after the app has started serving; register everything "
                "at import time, before the first request"
            )

    # -- routes ----------------------------------------------------------------------

    def route(
        self,
        path: str,
        methods: Iterable[str] | None = None,
        *,
        name: str | None = None,
        status_code: int | None = None,
        **options: Any,
    ) -> Callable[[F], F]:
        """Register the decorated function for ``path`` and ``methods`` (default ``GET``).

        ``status_code`` is used when the handler returns a plain value; ``options``
        are kept on the route (``include_in_schema``, ``tags``, ``response_model``...).
        """
        wanted = frozenset(m.upper() for m in (methods or ("GET",)))
        unknown = wanted - HTTP_METHODS
        if unknown:
            raise ImproperlyConfigured(f"unknown HTTP method(s) {sorted(unknown)} for {path!r}")

        def decorator(func: F) -> F:
            self.add_route(path, func, wanted, name=name, status_code=status_code, **options)
            return func

        return decorator

    def add_route(
        self,
        path: str,
        endpoint: Handler,
        methods: Iterable[str] = ("GET",),
        *,
        name: str | None = None,
        status_code: int | None = None,
        kind: str = "http",
        **options: Any,
    ) -> None:
        """Register ``endpoint`` without a decorator."""
        self._check_open("add a route")
        if not callable(endpoint):
            raise ImproperlyConfigured(f"route {path!r}: {endpoint!r} is not callable")
        spec = RouteSpec(path, endpoint, frozenset(methods), name, kind, status_code, options)
        self.route_specs.append(spec)

    def get(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        """Register a ``GET`` handler (``HEAD`` is answered automatically)."""
        return self.route(path, ["GET"], **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        """Register a ``POST`` handler."""
        return self.route(path, ["POST"], **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        """Register a ``PUT`` handler."""
        return self.route(path, ["PUT"], **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        """Register a ``PATCH`` handler."""
        return self.route(path, ["PATCH"], **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        """Register a ``DELETE`` handler."""
        return self.route(path, ["DELETE"], **kwargs)

    def websocket(self, path: str, *, name: str | None = None) -> Callable[[F], F]:
        """Register a WebSocket handler; it takes a ``WebSocket`` parameter."""

        def decorator(func: F) -> F:
            if not inspect.iscoroutinefunction(func):
                raise ImproperlyConfigured(
                    f"WebSocket handler {func.__qualname__} must be an async function"
                )
            self.add_route(path, func, ["WEBSOCKET"], name=name, kind="websocket")
            return func

        return decorator

    # -- hooks, errors, middleware, providers ----------------------------------------

    def before_request(self, func: F) -> F:
        """Run ``func(request)`` before each handler; a non-``None`` return is the response."""
        self._check_open("add a before_request hook")
        self.before_hooks.append(func)
        return func

    def after_request(self, func: F) -> F:
        """Run ``func(request, response)`` after each handler; it may return a new response."""
        self._check_open("add an after_request hook")
        self.after_hooks.append(func)
        return func

    def error_handler(self, key: type[BaseException] | int) -> Callable[[F], F]:
        """Handle an exception class (and subclasses) or a status with ``func(request, exc)``."""
        if not (isinstance(key, int) or (isinstance(key, type) and issubclass(key, BaseException))):
            raise ImproperlyConfigured(
                f"error_handler key must be an exception class or a status, not {key!r}"
            )

        def decorator(func: F) -> F:
            self._check_open("add an error handler")
            self.error_handlers[key] = func
            return func

        return decorator

    def middleware(self, func: F) -> F:
        """Add a typed middleware: ``async def mw(request, call_next) -> Response``.

        Middleware registered first runs outermost. On a module it wraps only the
        module's routes.
        """
        self._check_open("add middleware")
        if not inspect.iscoroutinefunction(func):
            raise ImproperlyConfigured(f"middleware {func.__qualname__} must be an async function")
        self.typed_middleware.append(func)
        return func

    def provider(
        self,
        func: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        provides: Any = None,
    ) -> Any:
        """Register a provider (usable bare, or as ``@provider(name=..., provides=...)``)."""

        def decorator(inner: F) -> F:
            self._check_open("register a provider")
            self.providers.register(inner, name=name, provides=provides)
            return inner

        if func is not None:
            return decorator(func)
        return decorator

    def include(self, module: Any, *, prefix: str | None = None) -> None:
        """Include ``module``'s routes (under its prefix, or ``prefix`` when given)."""
        self._check_open("include a module")
        if any(existing is module for existing, _ in self.modules):
            raise ImproperlyConfigured(f"module {module.name!r} is included twice")
        self.modules.append((module, prefix))

    def static(
        self, prefix: str, directory: str | os.PathLike[str], *, name: str = "static"
    ) -> None:
        """Serve the files of ``directory`` under ``prefix`` (GET/HEAD, with caching headers)."""
        self._check_open("add static files")
        path = os.fspath(directory)
        if not os.path.isabs(path):
            path = os.path.join(self.root_path, path)
        if not os.path.isdir(path):
            raise ImproperlyConfigured(f"static directory {path!r} does not exist")
        self.static_dirs.append((prefix.rstrip("/"), path, name))


__all__ = ["HTTP_METHODS", "CallNext", "RouteSpec", "Scaffold", "TypedMiddleware"]
