"""Startup and deploy checks: a registry any battery can add to.

A check is a function ``check(app) -> Iterable[CheckMessage]``. Each message has a
stable id (``security.W002``) that documentation, ``silenced_checks`` and search
engines can refer to. ``satchel check`` runs the ordinary checks,
``satchel check --deploy`` the deploy checks too; ``satchel serve`` refuses to
start on a :data:`CRITICAL` one::

    from satchel.security import checks

    @checks.register(deploy=True)
    def cache_configured(app):
        if not app.settings.redis_url.startswith("rediss://"):
            yield checks.warning("cache.W001", "Redis is reached without TLS.",
                                 hint="Use a rediss:// URL.")
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, overload

from satchel.exceptions import ImproperlyConfigured

DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
CRITICAL = 50

LEVEL_NAMES = {
    DEBUG: "DEBUG",
    INFO: "INFO",
    WARNING: "WARNING",
    ERROR: "ERROR",
    CRITICAL: "CRITICAL",
}

logger = logging.getLogger("satchel.security")

# Modules whose import registers the built-in checks.
_BUILTIN = ("satchel.security.deploy_checks",)


@dataclass(frozen=True)
class CheckMessage:
    """One finding: its ``level``, stable ``id``, what is wrong and how to fix it."""

    level: int
    id: str
    msg: str
    hint: str | None = None

    @property
    def level_name(self) -> str:
        """``"ERROR"``, ``"WARNING"`` ..."""
        return LEVEL_NAMES.get(self.level, str(self.level))

    def is_serious(self, level: int = ERROR) -> bool:
        """Return whether this message is at ``level`` or above."""
        return self.level >= level

    def __str__(self) -> str:
        text = f"{self.id}: {self.msg}"
        return f"{text}\n\tHINT: {self.hint}" if self.hint else text


def critical(id: str, msg: str, hint: str | None = None) -> CheckMessage:
    """Return a message that stops ``satchel serve`` from starting."""
    return CheckMessage(CRITICAL, id, msg, hint)


def error(id: str, msg: str, hint: str | None = None) -> CheckMessage:
    """Return a message that makes ``satchel check`` fail."""
    return CheckMessage(ERROR, id, msg, hint)


def warning(id: str, msg: str, hint: str | None = None) -> CheckMessage:
    """Return a message ``satchel check`` prints without failing (unless asked to)."""
    return CheckMessage(WARNING, id, msg, hint)


def info(id: str, msg: str, hint: str | None = None) -> CheckMessage:
    """Return a message for information only."""
    return CheckMessage(INFO, id, msg, hint)


CheckFunction = Callable[[Any], Iterable[CheckMessage]]


@dataclass(frozen=True)
class _Registered:
    func: CheckFunction
    deploy: bool


# Functions, not app state: every app in the process runs the same checks.
_registry: list[_Registered] = []


@overload
def register(check: CheckFunction, *, deploy: bool = False) -> CheckFunction: ...
@overload
def register(
    check: None = None, *, deploy: bool = False
) -> Callable[[CheckFunction], CheckFunction]: ...
def register(check: CheckFunction | None = None, *, deploy: bool = False) -> Any:
    """Register ``check(app) -> Iterable[CheckMessage]``; ``deploy=True`` runs it only with
    ``--deploy``. Usable as ``register(fn)``, ``@register`` or ``@register(deploy=True)``.

    Registering the same function twice keeps one entry.
    """

    def add(func: CheckFunction) -> CheckFunction:
        if not any(entry.func is func for entry in _registry):
            _registry.append(_Registered(func, deploy))
        return func

    return add(check) if check is not None else add


def unregister(check: CheckFunction) -> None:
    """Remove a check registered earlier (for tests that register their own)."""
    _registry[:] = [entry for entry in _registry if entry.func is not check]


def registered(*, deploy: bool = False) -> list[CheckFunction]:
    """Return the check functions that run (with the deploy ones when ``deploy``)."""
    _load_builtin()
    return [entry.func for entry in _registry if deploy or not entry.deploy]


def _load_builtin() -> None:
    for name in _BUILTIN:
        importlib.import_module(name)


def run_checks(app: Any, *, deploy: bool = False) -> list[CheckMessage]:
    """Run every registered check on ``app`` (frozen first) and return what they found.

    A configuration the app cannot start with is reported as ``core.E001``; a check
    that crashes as ``core.E002``. Ids in ``silenced_checks`` are left out.
    """
    try:
        app.freeze()
    except ImproperlyConfigured as exc:
        return [error("core.E001", f"The app cannot start: {exc}")]
    messages: list[CheckMessage] = []
    for func in registered(deploy=deploy):
        try:
            messages.extend(func(app))
        except Exception as exc:
            name = getattr(func, "__qualname__", repr(func))
            messages.append(error("core.E002", f"Check {name} crashed: {exc!r}"))
    silenced = set(getattr(app.settings, "silenced_checks", ()))
    return [m for m in messages if m.id not in silenced]


def check_startup(app: Any) -> None:
    """Refuse to serve ``app`` on a critical finding; log the deploy check's errors.

    Raises :class:`ImproperlyConfigured` naming every critical message.
    """
    app.freeze()  # a configuration error stops the server with its own message
    messages = run_checks(app, deploy=not app.debug)
    fatal = [m for m in messages if m.level >= CRITICAL]
    if fatal:
        raise ImproperlyConfigured("refusing to start:\n" + "\n".join(str(m) for m in fatal))
    serious = [m for m in messages if m.level >= ERROR]
    for message in serious:
        logger.error("%s (run `satchel check --deploy` for every finding)", message)


__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "INFO",
    "LEVEL_NAMES",
    "WARNING",
    "CheckFunction",
    "CheckMessage",
    "check_startup",
    "critical",
    "error",
    "info",
    "register",
    "registered",
    "run_checks",
    "unregister",
    "warning",
]
