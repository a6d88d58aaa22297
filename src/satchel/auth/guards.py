"""Guards: who may reach a route, checked before the handler and its providers run.

A guard works two ways::

    @app.get("/dashboard")
    @login_required                       # on one route
    async def dashboard(user: CurrentUser) -> str: ...

    admin = Module("admin", prefix="/admin")
    admin.guards.append(staff_required)   # on every route of a module

On a route, the guard becomes the handler's first provider (an extra parameter the
handler never sees), so it runs before every other parameter is read and before any
other provider opens a database session. On a module, the app runs it as a
before-request hook of the module's routes.

A refused request raises :class:`NotAuthenticated` (nobody is logged in, 401) or
:class:`PermissionDenied` (logged in, not allowed, 403). ``Auth`` answers the first
with a redirect to the login page for browsers and a 401 ``application/problem+json``
for API clients (a bearer token, or an ``Accept`` that does not prefer HTML).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine, Iterable
from typing import Annotated, Any, Literal, TypeVar, overload

from satchel.exceptions import Forbidden, ImproperlyConfigured, Unauthorized
from satchel.handlers.params import Provide
from satchel.http.request import Request

F = TypeVar("F", bound=Callable[..., Any])
Check = Callable[[Request], Any]

#: The attribute listing the guards applied to a handler (outermost last).
GUARDS_ATTR = "__satchel_guards__"


class NotAuthenticated(Unauthorized):
    """401: the route needs a logged-in user and there is none.

    ``invalid_token`` is set when the request carried a bearer token that was refused,
    so the answer can say so (``WWW-Authenticate: Bearer error="invalid_token"``).
    """

    def __init__(self, detail: str | None = None, *, invalid_token: bool = False) -> None:
        challenge = 'Bearer error="invalid_token"' if invalid_token else "Bearer"
        super().__init__(
            detail or "Authentication required: log in, or send a valid bearer token.",
            {"WWW-Authenticate": challenge},
        )
        self.invalid_token = invalid_token


class PermissionDenied(Forbidden):
    """403: the user is logged in but may not do this."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or "You do not have permission to do this.")


def auth_of(request: Request) -> Any:
    """Return the app's ``Auth``, or raise a clear error when there is none."""
    app = request.app
    auth = app.extensions.get("auth") if app is not None else None
    if auth is None:
        raise ImproperlyConfigured(
            "a login guard needs accounts on the app: create Auth(app) (from satchel.auth)"
        )
    return auth


async def _logged_in_user(request: Request) -> Any:
    user = await auth_of(request).get_user(request)
    if not user.is_authenticated:
        raise NotAuthenticated(invalid_token=bool(getattr(user, "invalid_token", False)))
    return user


class Guard(functools.partial[Any]):
    """A check that runs before a handler: use it as a decorator or in ``module.guards``.

    Called with a handler it returns the guarded handler; called with a request (as the
    app calls module guards) it returns the check's coroutine.

    It is a ``functools.partial`` of the async check on purpose: the app runs a module
    guard with ``await`` only when ``inspect.iscoroutinefunction`` says it is async, and
    that function sees through a partial (documented since Python 3.8).
    """

    name: str

    def __new__(cls, name: str, check: Callable[[Request], Any]) -> Guard:
        """Make a guard called ``name`` that runs ``check(request)`` (async)."""
        if not inspect.iscoroutinefunction(check):
            raise ImproperlyConfigured(f"guard {name}: the check must be an async function")
        self = super().__new__(cls, check)
        self.name = name
        # The app names hooks by __qualname__ in its error messages; a partial has none.
        self.__dict__["__qualname__"] = self.__dict__["__name__"] = name
        return self

    @overload
    def __call__(self, target: Request, /) -> Coroutine[Any, Any, None]: ...
    @overload
    def __call__(self, target: F, /) -> F: ...
    def __call__(self, target: Any, /) -> Any:
        """Check ``target`` (a request), or guard it (a handler)."""
        if isinstance(target, Request):
            return self.func(target)
        if not callable(target):
            raise TypeError(f"{self.name} decorates a handler, not {target!r}")
        return guard_handler(target, self)

    async def check(self, request: Request) -> None:
        """Raise ``NotAuthenticated`` or ``PermissionDenied`` unless ``request`` may pass."""
        await self.func(request)

    def __repr__(self) -> str:
        return f"<Guard {self.name}>"


def guard_handler(func: F, guard: Guard) -> F:
    """Return ``func`` with ``guard`` as its first provider (the guard runs first)."""
    existing: tuple[Guard, ...] = getattr(func, GUARDS_ATTR, ())
    name = f"_satchel_guard_{len(existing)}"

    async def run_guard(request: Request) -> None:
        await guard.func(request)

    run_guard.__qualname__ = run_guard.__name__ = f"guard_{guard.name}"
    signature = inspect.signature(func)
    # Positional-only so that it may come first whatever the handler's own parameters
    # are; the plan passes every value by keyword, and the wrapper takes them all.
    first = inspect.Parameter(
        name,
        inspect.Parameter.POSITIONAL_ONLY,
        annotation=Annotated[None, Provide(run_guard)],
    )
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def guarded(**kwargs: Any) -> Any:
            kwargs.pop(name, None)
            return await func(**kwargs)

        wrapper: Any = guarded
    else:

        @functools.wraps(func)
        def guarded_sync(**kwargs: Any) -> Any:
            kwargs.pop(name, None)
            return func(**kwargs)

        wrapper = guarded_sync
    wrapper.__signature__ = signature.replace(parameters=[first, *signature.parameters.values()])
    # A new dict: functools.wraps shares the handler's own annotations dict.
    wrapper.__annotations__ = {name: first.annotation, **getattr(func, "__annotations__", {})}
    setattr(wrapper, GUARDS_ATTR, (*existing, guard))
    return wrapper  # type: ignore[no-any-return]


def guards_of(handler: Callable[..., Any]) -> tuple[Guard, ...]:
    """Return the guards applied to ``handler`` with the decorators, innermost first."""
    return tuple(getattr(handler, GUARDS_ATTR, ()))


async def _check_login(request: Request) -> None:
    await _logged_in_user(request)


async def _check_staff(request: Request) -> None:
    user = await _logged_in_user(request)
    if not (user.is_active and user.is_staff):
        raise PermissionDenied("This page is for staff only.")


#: Let only logged-in users through.
login_required = Guard("login_required", _check_login)
#: Let only logged-in, active staff users (``is_staff``) through.
staff_required = Guard("staff_required", _check_staff)


def permission_required(*codenames: str, require: Literal["all", "any"] = "all") -> Guard:
    """Return a guard letting through users with all (or ``require="any"``) of ``codenames``.

    Codenames look like ``"blog.publish_post"``; active superusers pass every check.
    The user's permissions are loaded once per request (one query).
    """
    codes = _check_codenames(codenames)
    if require not in ("all", "any"):
        raise ImproperlyConfigured(
            f"permission_required: require must be 'all' or 'any', not {require!r}"
        )

    async def check_permissions(request: Request) -> None:
        user = await _logged_in_user(request)
        await auth_of(request).load_permissions(user)
        if not user.has_perms(codes, require):
            raise PermissionDenied()

    label = f"permission_required({', '.join(map(repr, codes))}, require={require!r})"
    return Guard(label, check_permissions)


def _check_codenames(codenames: Iterable[str]) -> tuple[str, ...]:
    codes = tuple(codenames)
    if not codes:
        raise ImproperlyConfigured("permission_required needs at least one permission codename")
    for code in codes:
        if not isinstance(code, str) or "." not in code:
            raise ImproperlyConfigured(
                f"permission_required: {code!r} is not a codename like 'blog.publish_post'"
            )
    return codes


__all__ = [
    "GUARDS_ATTR",
    "Guard",
    "NotAuthenticated",
    "PermissionDenied",
    "auth_of",
    "guard_handler",
    "guards_of",
    "login_required",
    "permission_required",
    "staff_required",
]
