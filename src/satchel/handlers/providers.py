"""Providers: functions that supply a handler parameter for the length of a request.

A provider is registered on the app or a module and matched to handler
parameters by type (its return annotation) or by name. It may be sync or async,
and a generator to run cleanup after the handler: the exception the handler
raised (if any) is thrown into the generator, so a database-session provider can
commit on success and roll back on failure::

    @app.provider
    async def session() -> AsyncIterator[AsyncSession]:
        async with db.session() as s:
            yield s
"""

from __future__ import annotations

import inspect
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
)
from typing import Any, get_args, get_origin, get_type_hints

from satchel.exceptions import ImproperlyConfigured

RunSync = Callable[..., Awaitable[Any]]

_GENERATOR_ORIGINS = (AsyncIterator, AsyncGenerator, Iterator, Generator)


class Provider:
    """One registered provider function and what it provides."""

    def __init__(self, func: Callable[..., Any], *, provides: Any = None, name: str | None = None):
        self.func = func
        self.name = name
        self.is_async_gen = inspect.isasyncgenfunction(func)
        self.is_sync_gen = inspect.isgeneratorfunction(func)
        self.is_async = inspect.iscoroutinefunction(func)
        self.provides = provides if provides is not None else _provided_type(func)

    def describe(self) -> str:
        """Return ``module.qualname`` for messages."""
        return f"{self.func.__module__}.{self.func.__qualname__}"

    def __repr__(self) -> str:
        return f"<Provider {self.describe()}>"


def _provided_type(func: Callable[..., Any]) -> Any:
    try:
        hints = get_type_hints(func, include_extras=False)
    except Exception:  # an unresolved annotation just means "match by name only"
        return None
    returned = hints.get("return")
    if returned is None:
        return None
    if get_origin(returned) in _GENERATOR_ORIGINS:
        args = get_args(returned)
        return args[0] if args else None
    return returned


class ProviderRegistry:
    """Providers of one app or module; a module's registry falls back to its parent's."""

    def __init__(self, parent: ProviderRegistry | None = None) -> None:
        self.parent = parent
        self.by_type: dict[Any, Provider] = {}
        self.by_name: dict[str, Provider] = {}
        self._adhoc: dict[Any, Provider] = {}

    def adhoc(self, func: Callable[..., Any]) -> Provider:
        """Return the one provider for an unregistered ``Provide(func)`` (shared app-wide)."""
        root = self
        while root.parent is not None:
            root = root.parent
        found = root._adhoc.get(func)
        if found is None:
            found = root._adhoc[func] = Provider(func, name=getattr(func, "__name__", None))
        return found

    def register(
        self, func: Callable[..., Any], *, provides: Any = None, name: str | None = None
    ) -> Provider:
        """Register ``func``, found by ``provides`` (default: its return type) and ``name``."""
        provider = Provider(func, provides=provides, name=name)
        if provider.provides is None and name is None:
            raise ImproperlyConfigured(
                f"provider {provider.describe()} has no return annotation and no name: annotate "
                "what it returns (e.g. '-> AsyncIterator[Session]') or pass name=..."
            )
        if provider.provides is not None and name is None:
            self.by_type[provider.provides] = provider
        if name is not None:
            self.by_name[name] = provider
        return provider

    def find(self, annotation: Any, name: str) -> Provider | None:
        """Return the provider for a parameter ``name: annotation``, looking up the chain."""
        registry: ProviderRegistry | None = self
        while registry is not None:
            found = registry.by_name.get(name)
            if found is not None:
                return found
            if annotation is not inspect.Parameter.empty:
                try:
                    found = registry.by_type.get(annotation)
                except TypeError:  # unhashable annotation
                    found = None
                if found is not None:
                    return found
            registry = registry.parent
        return None

    def all(self) -> list[Provider]:
        """Return every provider in this registry and its parents."""
        seen: dict[int, Provider] = {}
        registry: ProviderRegistry | None = self
        while registry is not None:
            for provider in [*registry.by_type.values(), *registry.by_name.values()]:
                seen.setdefault(id(provider), provider)
            registry = registry.parent
        return list(seen.values())


class ProviderContext:
    """Values provided during one request, and the cleanups still to run."""

    __slots__ = ("cleanups", "values")

    def __init__(self) -> None:
        self.values: dict[int, Any] = {}
        self.cleanups: list[tuple[Any, bool]] = []

    async def close(self, error: BaseException | None, run_sync: RunSync) -> None:
        """Run every cleanup, newest first, throwing ``error`` into each generator.

        An exception a cleanup raises replaces ``error`` for the cleanups after it
        and is raised at the end (after every cleanup has run).
        """
        pending = error
        raised: BaseException | None = None
        while self.cleanups:
            gen, is_async = self.cleanups.pop()
            try:
                if is_async:
                    if pending is None:
                        await gen.__anext__()
                    else:
                        await gen.athrow(pending)
                elif pending is None:
                    if await run_sync(_advance, gen):
                        continue
                else:
                    if await run_sync(_throw, gen, pending):
                        continue
            except StopAsyncIteration:
                continue
            except BaseException as exc:
                if exc is pending:
                    continue
                pending = raised = exc
                continue
            raise ImproperlyConfigured(
                f"provider generator {getattr(gen, '__qualname__', gen)} yielded more than once"
            )
        if raised is not None:
            raise raised


def _advance(gen: Any) -> bool:
    # StopIteration can't cross a Future, so report "finished" as a value instead.
    try:
        next(gen)
    except StopIteration:
        return True
    return False


def _throw(gen: Any, error: BaseException) -> bool:
    try:
        gen.throw(error)
    except StopIteration:
        return True
    return False


__all__ = ["Provider", "ProviderContext", "ProviderRegistry", "RunSync"]
