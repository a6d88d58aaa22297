"""Accounts: users, groups, permissions, login pages, API tokens and login throttling.

::

    from satchel.auth import Auth, CurrentUser, login_required, permission_required

    auth = Auth(app)            # /login, /logout, /password/change, /password/reset

    @app.get("/dashboard")
    @login_required
    async def dashboard(user: CurrentUser) -> str: ...

Names load on first use: ``import satchel.auth`` imports neither SQLAlchemy nor argon2.
The parts live in their own modules: ``passwords``, ``validators``, ``tokens``, ``mail``,
``throttle`` (building blocks), ``models``, ``guards``, ``permissions``, ``apitokens``,
``core`` (:class:`Auth`), ``views`` and ``reset`` (the pages), ``migrate``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from satchel.auth.anonymous import AnonymousUser
    from satchel.auth.core import AccountInvalid, Auth
    from satchel.auth.guards import (
        Guard,
        NotAuthenticated,
        PermissionDenied,
        login_required,
        permission_required,
        staff_required,
    )
    from satchel.auth.limits import LoginLimits
    from satchel.auth.models import ApiToken, Group, Permission, User
    from satchel.auth.providers import CurrentUser, MaybeUser

_WHERE = {
    "AccountInvalid": "satchel.auth.core",
    "AnonymousUser": "satchel.auth.anonymous",
    "ApiToken": "satchel.auth.models",
    "Auth": "satchel.auth.core",
    "CurrentUser": "satchel.auth.providers",
    "Group": "satchel.auth.models",
    "Guard": "satchel.auth.guards",
    "LoginLimits": "satchel.auth.limits",
    "MaybeUser": "satchel.auth.providers",
    "NotAuthenticated": "satchel.auth.guards",
    "Permission": "satchel.auth.models",
    "PermissionDenied": "satchel.auth.guards",
    "User": "satchel.auth.models",
    "login_required": "satchel.auth.guards",
    "permission_required": "satchel.auth.guards",
    "staff_required": "satchel.auth.guards",
}


def __getattr__(name: str) -> Any:
    # SQLAlchemy, argon2 and jinja2 load only when a name that needs them is used.
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'satchel.auth' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AccountInvalid",
    "AnonymousUser",
    "ApiToken",
    "Auth",
    "CurrentUser",
    "Group",
    "Guard",
    "LoginLimits",
    "MaybeUser",
    "NotAuthenticated",
    "Permission",
    "PermissionDenied",
    "User",
    "login_required",
    "permission_required",
    "staff_required",
]
