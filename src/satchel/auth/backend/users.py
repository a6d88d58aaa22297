"""The queries behind accounts, built as SQLAlchemy statements.

Each function returns a statement, so the same query runs from async code (views, the
request's user) and sync code (the CLI, scripts) alike. The queries every request may run
(the user by id, a token with its user, a user's permissions) are built once per model
with bound parameters: building a SQLAlchemy statement costs more than running it.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, bindparam, or_, select, update
from sqlalchemy.sql.dml import Update

from satchel.auth.models import (
    ApiToken,
    Permission,
    group_permissions,
    user_groups,
    user_permissions,
)
from satchel.auth.normalize import email_key, is_lookup_sized, username_key


def by_login(user_model: type[Any], login: str) -> Select[Any] | None:
    """Return the query for the user ``login`` names (a username, or an email with ``@``).

    ``None`` when ``login`` is empty or too long to be anything stored (no query then).
    """
    if not isinstance(login, str) or not is_lookup_sized(login.strip()):
        return None
    if "@" in login:
        return select(user_model).where(user_model.email_key == email_key(login))
    return select(user_model).where(user_model.username_key == username_key(login))


def by_email(user_model: type[Any], address: str) -> Select[Any] | None:
    """Return the query for the active user whose address folds to ``address``."""
    if not isinstance(address, str) or not is_lookup_sized(address.strip()) or "@" not in address:
        return None
    return select(user_model).where(
        user_model.email_key == email_key(address), user_model.is_active.is_(True)
    )


def by_id(user_model: type[Any], user_id: Any) -> Select[Any]:
    """Return the query for the user with primary key ``user_id``."""
    return select(user_model).where(user_model.id == user_id)


@functools.cache
def user_by_id(user_model: type[Any]) -> Select[Any]:
    """Return the query for the user whose id is the ``user_id`` parameter (built once)."""
    return select(user_model).where(user_model.id == bindparam("user_id"))


@functools.cache
def token_and_user(user_model: type[Any]) -> Select[Any]:
    """Return the query for a token (``lookup_id`` parameter) with its user (built once)."""
    return (
        select(ApiToken, user_model)
        .join(user_model, user_model.id == ApiToken.user_id)
        .where(ApiToken.lookup_id == bindparam("lookup_id"))
    )


@functools.cache
def user_codenames() -> Select[Any]:
    """Return :func:`permission_codenames` for the ``user_id`` parameter (built once)."""
    return permission_codenames(bindparam("user_id"))


def permission_codenames(user_id: Any) -> Select[Any]:
    """Return the query for every codename the user has, directly or through a group."""
    direct = select(user_permissions.c.permission_id).where(user_permissions.c.user_id == user_id)
    grouped = (
        select(group_permissions.c.permission_id)
        .join(user_groups, user_groups.c.group_id == group_permissions.c.group_id)
        .where(user_groups.c.user_id == user_id)
    )
    # One ORM select with two semi-joins (not a UNION): an ORM result, on every database.
    return select(Permission.codename).where(
        or_(Permission.id.in_(direct), Permission.id.in_(grouped))
    )


def token_with_user(user_model: type[Any], lookup_id: str) -> Select[Any]:
    """Return the query for an API token and its user, found by lookup id (one query)."""
    return (
        select(ApiToken, user_model)
        .join(user_model, user_model.id == ApiToken.user_id)
        .where(ApiToken.lookup_id == lookup_id)
    )


def set_columns(user_model: type[Any], user_id: Any, **values: Any) -> Update:
    """Return an UPDATE of one user's columns (no load, no lost concurrent changes)."""
    return update(user_model).where(user_model.id == user_id).values(**values)


__all__ = [
    "by_email",
    "by_id",
    "by_login",
    "permission_codenames",
    "set_columns",
    "token_and_user",
    "token_with_user",
    "user_by_id",
    "user_codenames",
]
