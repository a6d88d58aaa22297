"""The application: routes, hooks and middleware frozen into a fast dispatcher,
served over ASGI 3 (any server) and granian's RSGI (faster, used by ``satchel run``
and ``satchel serve``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import importlib.util
import itertools
import logging
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import TYPE_CHECKING, Any

from satchel.exceptions import ImproperlyConfigured, MethodNotAllowed, NotFound
from satchel.handlers.pipeline import (
    Endpoint,
    handler_call,
    with_errors,
    with_hooks,
    with_middleware,
)
from satchel.handlers.plan import build_plan
from satchel.http.request import ClientDisconnect, Request
from satchel.http.response import RedirectResponse, Response
from satchel.http.websocket import WebSocket
from satchel.module import Module
from satchel.routing.converters import DEFAULT_CONVERTERS, Converter
from satchel.routing.route import Mount, Route, parse_template
from satchel.routing.router import WEBSOCKET, Router
from satchel.scaffold import RouteSpec, Scaffold, caller_dir
from satchel.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from satchel.config import Settings
    from satchel.http.forms import FormLimits

logger = logging.getLogger("satchel")

Lifespan = Callable[["App"], contextlib.AbstractAsyncContextManager[Any]]


class App(Scaffold):
    """A Satchel application.

    Settings come from ``SATCHEL_*`` environment variables, a ``.env`` file, or
    keyword arguments (``App(debug=True, max_body_size=...)``, same names; see
    :class:`satchel.config.Settings`), or a ready ``settings`` object. ``debug``
    shows tracebacks in error pages: never turn it on in production.
    ``root_path`` is the project directory holding ``templates/`` and ``static/``
    (default: the directory of the file that creates the app).
    """

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        root_path: str | os.PathLike[str] | None = None,
        lifespan: Lifespan | None = None,
        form_limits: FormLimits | None = None,
        database: Any = None,
        **overrides: Any,
    ) -> None:
        super().__init__(root_path if root_path is not None else caller_dir(2))
        # Imported here: settings need pydantic, which `import satchel` must not load.
        from satchel.config import load_settings

        if settings is not None and overrides:
            settings = settings.model_copy(update=overrides)
        self.settings = settings if settings is not None else load_settings(**overrides)
        config = self.settings
        self.debug: bool = config.debug
        self.title = config.title
        self.version = config.version
        self.redirect_slashes = config.redirect_slashes
        self.max_body_size = config.max_body_size
        self.max_path_length = config.max_path_length
        self.thread_pool_size = config.thread_pool_size
        #: Limits for ``request.form()`` (fields, files, sizes); ``None`` means the defaults.
        self.form_limits = form_limits
        self.lifespan_context = lifespan
        self.converters: dict[str, Converter] = dict(DEFAULT_CONVERTERS)
        self.router = Router()
        self.startup_hooks: list[Callable[..., Any]] = []
        self.shutdown_hooks: list[Callable[..., Any]] = []
        self.asgi_middleware: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] = []
        self.state: dict[str, Any] = {}
        self.extensions: dict[str, Any] = {}
        self._mount_specs: list[Mount] = []
        self._frozen = False
        self._installed: set[str] = set()
        self._asgi_entry: ASGIApp | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lifespan_stack: contextlib.AsyncExitStack | None = None
        self._not_found: Endpoint | None = None
        if database is not None:
            database.init_app(self)

    # -- configuration ---------------------------------------------------------------

    def register_converter(self, name: str, converter: Converter) -> None:
        """Make ``{param:name}`` usable in route paths."""
        self._check_not_frozen("register a converter")
        self.converters[name] = converter

    def mount(self, prefix: str, app: ASGIApp, *, name: str | None = None) -> None:
        """Serve any ASGI ``app`` under ``prefix``; it sees the rest of the path."""
        self._check_not_frozen("mount an app")
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ImproperlyConfigured(f"mount prefix {prefix!r} must start and not end with '/'")
        self._mount_specs.append(Mount(prefix, app, name))

    def add_middleware(self, middleware: Callable[..., ASGIApp], **options: Any) -> None:
        """Wrap the app in a plain ASGI middleware: ``middleware(app, **options)``.

        The last one added runs outermost. Typed middleware (``@app.middleware``)
        is faster; ASGI middleware makes RSGI requests go through an ASGI bridge.
        """
        self._check_not_frozen("add middleware")
        self.asgi_middleware.append((middleware, options))

    def on_startup(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Run ``func()`` (sync or async) when the server starts, before any request."""
        self.startup_hooks.append(func)
        return func

    def on_shutdown(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Run ``func()`` (sync or async) when the server stops."""
        self.shutdown_hooks.append(func)
        return func

    def _check_not_frozen(self, what: str) -> None:
        if self._frozen:
            raise ImproperlyConfigured(
                f"cannot {what} after the app has started serving; do it at import time"
            )

    # -- freezing --------------------------------------------------------------------

    @property
    def routes(self) -> list[Route | Mount]:
        """Every route and mount (freezes the app)."""
        self.freeze()
        return [*self.router.routes, *self.router.mounts]

    def url_for(self, name: str, /, **params: Any) -> str:
        """Return the path of the route called ``name``; extra params become the query string."""
        self.freeze()
        return self.router.url_for(name, dict(params))

    def freeze(self) -> None:
        """Compile routes, call plans and pipelines; runs once, on first use."""
        if self._frozen:
            return
        self._frozen = True
        try:
            self._install_batteries()
            self._freeze_scaffold(self, "", "", [self])
            for mount in self._mount_specs:
                self.router.mount(mount)
            self._asgi_entry = self._asgi_core
            for middleware, options in self.asgi_middleware:
                self._asgi_entry = middleware(self._asgi_entry, **options)
            self._not_found = with_middleware(
                with_errors(
                    self._unrouted, [self.error_handlers], self._is_debug, self.run_sync, "router"
                ),
                self.typed_middleware,
            )
        except BaseException:
            self._frozen = False
            self._unlock(self)
            self.router = Router()
            raise

    #: Battery packages whose ``install(app)`` runs when the app freezes, in this order
    #: (each decides from ``app.settings`` what to add: middleware, hooks, routes).
    batteries: tuple[str, ...] = ("satchel.security", "satchel.sessions", "satchel.openapi")

    def _install_batteries(self) -> None:
        for name in self.batteries:
            if name in self._installed:
                continue
            if importlib.util.find_spec(name) is None:
                continue  # a battery left out of this installation
            module = importlib.import_module(name)
            install = getattr(module, "install", None)
            if install is not None:
                install(self)
            self._installed.add(name)

    def check_startup(self) -> None:
        """Compile everything and run the checks, so ``satchel serve`` stops at once.

        Raises ``ImproperlyConfigured`` on a configuration error or a critical
        finding (debug off with the development secret key); the deploy checks'
        errors are logged (see ``satchel check --deploy``).
        """
        # Imported here: the checks load only when a server starts or `satchel check` runs.
        from satchel.security.checks import check_startup

        check_startup(self)

    def _unlock(self, scaffold: Scaffold) -> None:
        scaffold.locked = False
        for module, _ in scaffold.modules:
            self._unlock(module)

    def _is_debug(self) -> bool:
        return self.debug

    def _freeze_scaffold(
        self, scaffold: Scaffold, prefix: str, name_prefix: str, chain: list[Scaffold]
    ) -> None:
        scaffold.locked = True
        for parent, child in itertools.pairwise(chain):
            child.providers.parent = parent.providers
        for spec in scaffold.route_specs:
            self._add_route(spec, prefix, name_prefix, chain)
        for url_prefix, directory, name in scaffold.static_dirs:
            self._add_static(prefix + url_prefix, directory, name_prefix + name, chain)
        if isinstance(scaffold, Module) and scaffold.static_path is not None:
            self._add_static(
                prefix + "/static", scaffold.static_path, name_prefix + "static", chain
            )
        for module, override in scaffold.modules:
            sub_prefix = prefix + (override if override is not None else module.prefix)
            self._freeze_scaffold(
                module, sub_prefix, f"{name_prefix}{module.name}.", [*chain, module]
            )

    def _add_static(self, prefix: str, directory: str, name: str, chain: list[Scaffold]) -> None:
        # Imported here: only apps that serve static files load the file machinery.
        from satchel.staticfiles import StaticFiles

        files = StaticFiles(directory)

        async def serve_static(request: Request, path: str) -> Response:
            return files.response(request, path)

        spec = RouteSpec(
            prefix + "/{path:path}",
            serve_static,
            frozenset({"GET"}),
            name,
            "http",
            None,
            {"include_in_schema": False, "static": True},
        )
        self._add_route(spec, "", "", chain, exact_name=True)

    def _add_route(
        self,
        spec: RouteSpec,
        prefix: str,
        name_prefix: str,
        chain: list[Scaffold],
        exact_name: bool = False,
    ) -> None:
        path = prefix + spec.path
        base_name = spec.name or str(getattr(spec.endpoint, "__name__", "route"))
        name = base_name if exact_name else name_prefix + base_name
        segments = parse_template(path, self.converters)
        route = Route(
            path,
            spec.endpoint,
            spec.methods,
            name,
            spec.kind,
            spec.status_code,
            segments,
            dict(spec.options),
            owner=chain[-1],
        )
        where = route.describe()
        innermost = chain[-1]
        is_ws = spec.kind == "websocket"
        plan = build_plan(
            spec.endpoint,
            path_converters=route.converters,
            providers=innermost.providers,
            run_sync=self.run_sync,
            websocket_type=WebSocket,
        )
        route.options["plan"] = plan
        if is_ws:
            route.handle = plan
            self.router.add(route)
            return
        handlers = [s.error_handlers for s in reversed(chain)]
        endpoint = handler_call(plan, spec.status_code, where, route.options)
        before = [h for s in chain for h in s.before_hooks]
        after = [h for s in reversed(chain) for h in s.after_hooks]
        guards = [g for s in chain for g in s.guards]
        endpoint = with_hooks(endpoint, [*guards, *before], after, self.run_sync)
        endpoint = with_errors(endpoint, handlers, self._is_debug, self.run_sync, where)
        middleware = [m for s in chain for m in s.typed_middleware]
        if middleware:
            endpoint = with_middleware(endpoint, middleware)
            endpoint = with_errors(endpoint, handlers, self._is_debug, self.run_sync, where)
        route.handle = endpoint
        self.router.add(route)

    # -- running sync code -----------------------------------------------------------

    async def run_sync(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking ``func`` in the app's bounded thread pool (context variables kept)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.thread_pool_size, thread_name_prefix="satchel"
            )
        call = functools.partial(copy_context().run, func, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    # -- lifespan --------------------------------------------------------------------

    async def startup(self) -> None:
        """Freeze the app, enter the lifespan context and run startup hooks."""
        self.freeze()
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        self._lifespan_stack = stack
        if self.lifespan_context is not None:
            state = await stack.enter_async_context(self.lifespan_context(self))
            if isinstance(state, dict):
                self.state.update(state)
        for hook in self.startup_hooks:
            result = hook()
            if asyncio.iscoroutine(result):
                await result

    async def shutdown(self) -> None:
        """Run shutdown hooks, leave the lifespan context, and stop the thread pool."""
        try:
            for hook in self.shutdown_hooks:
                result = hook()
                if asyncio.iscoroutine(result):
                    await result
        finally:
            stack, self._lifespan_stack = self._lifespan_stack, None
            if stack is not None:
                await stack.__aexit__(None, None, None)
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[App]:
        """Run startup and shutdown around a block (for scripts and tests)."""
        await self.startup()
        try:
            yield self
        finally:
            await self.shutdown()

    # -- dispatch --------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        """Route ``request`` and return its response (never raises for client errors)."""
        path = request.path
        route, params, _ = self.router.match(request.method, path)
        if route is not None:
            request.path_params = params  # type: ignore[assignment]
            request.route = route
            request.max_body_size = self.max_body_size
            response: Response = await route.handle(request)
            return response
        assert self._not_found is not None
        return await self._not_found(request)

    async def _unrouted(self, request: Request) -> Response:
        """Answer a request no route took: 404, 405, OPTIONS, or a slash redirect."""
        method, path = request.method, request.path
        if len(path) > self.max_path_length:
            from satchel.exceptions import URITooLong

            raise URITooLong(f"The path is longer than {self.max_path_length} characters")
        _, _, allowed = self.router.match(method, path)
        if allowed:
            allow = sorted({*allowed, "OPTIONS"})
            if method == "OPTIONS":
                return Response(b"", 204, {"allow": ", ".join(allow)})
            raise MethodNotAllowed(allow, f"Method {method} is not allowed for {path}")
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            found, _, _ = self.router.match(method, other)
            if found is not None:
                location = request.root_path + other
                if request.query_string:
                    location += "?" + request.query_string
                return RedirectResponse(location, 308)
        raise NotFound(f"No page at {path}")

    # -- ASGI ------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._frozen:
            self.freeze()
        assert self._asgi_entry is not None
        await self._asgi_entry(scope, receive, send)

    async def _asgi_core(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            mount = self.router.match_mount(scope["path"]) if self.router.mounts else None
            if mount is not None:
                await mount.app(*_mounted_scope(scope, mount.path), receive, send)
                return
            request = Request(scope, receive)
            request.app = self
            try:
                response = await self.dispatch(request)
            except ClientDisconnect:
                return
            await response.send_asgi(request, send)
            await request.close()
            unhandled = getattr(request._state, "_unhandled", None) if request._state else None
            if isinstance(unhandled, BaseException):
                # Re-raise for the ASGI server (and test client) to see, as Starlette does.
                raise unhandled
        elif kind == "websocket":
            mount = self.router.match_mount(scope["path"]) if self.router.mounts else None
            if mount is not None:
                await mount.app(*_mounted_scope(scope, mount.path), receive, send)
                return
            await self._websocket(WebSocket(scope, receive, send, app=self))
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        try:
            await self.startup()
        except BaseException as exc:
            logger.exception("Application startup failed")
            await send({"type": "lifespan.startup.failed", "message": repr(exc)})
            raise
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        try:
            await self.shutdown()
        except BaseException as exc:
            logger.exception("Application shutdown failed")
            await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
            raise
        await send({"type": "lifespan.shutdown.complete"})

    # -- WebSockets ------------------------------------------------------------------

    async def _websocket(self, websocket: WebSocket) -> None:
        route, params, _ = self.router.match(WEBSOCKET, websocket.path)
        if route is None:
            await websocket.close(1008, "No WebSocket route here")
            return
        security = self.extensions.get("security")
        refusal = security.websocket_refusal(websocket) if security is not None else None
        if refusal is not None:
            logger.warning("Refused a WebSocket for %s: %s", websocket.path, refusal)
            await websocket.close(1008, "Refused")
            return
        websocket.path_params = params or {}
        websocket.route = route
        await websocket.run(route.handle)

    # -- RSGI (granian) --------------------------------------------------------------

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the app on granian's worker loop before it serves."""
        loop.run_until_complete(self.startup())

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stop the app when granian's worker stops."""
        loop.run_until_complete(self.shutdown())

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        """Serve one RSGI request or WebSocket (granian's faster protocol)."""
        if not self._frozen:
            self.freeze()
        if self.asgi_middleware or (self.router.mounts and self.router.match_mount(scope.path)):
            # Imported here: only apps with ASGI middleware or mounts need the bridge.
            from satchel.http.rsgi_bridge import serve_asgi

            assert self._asgi_entry is not None
            await serve_asgi(self._asgi_entry, scope, proto, self)
            return
        if scope.proto == "http":
            request = Request.from_rsgi(scope, proto, self)
            try:
                response = await self.dispatch(request)
            except ClientDisconnect:
                return
            await response.send_rsgi(request, proto)
            if request._form is not None:
                await request.close()
        else:
            await self._websocket(WebSocket.from_rsgi(scope, proto, app=self))


def _mounted_scope(scope: Scope, prefix: str) -> tuple[Scope]:
    child = dict(scope)
    rest = scope["path"][len(prefix) :]
    child["path"] = rest or "/"
    child["root_path"] = scope.get("root_path", "") + prefix
    raw = scope.get("raw_path")
    if raw is not None:
        child["raw_path"] = raw[len(prefix.encode()) :] or b"/"
    return (child,)


__all__ = ["App"]
