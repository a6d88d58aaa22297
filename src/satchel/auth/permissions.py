"""Permissions: one row per thing a user may do, named ``"<app>.<action>_<model>"``.

Every model gets four: ``add``, ``change``, ``delete`` and ``view`` (``blog.add_post``
for ``Post`` in ``blog/models.py``). A model lists more in ``__permissions__``::

    class Post(Model):
        __tablename__ = "blog_post"
        __permissions__ = [("publish_post", "Can publish posts")]   # blog.publish_post
        ...

The ``<app>`` part is the model's ``__app_label__`` if it sets one, else the last part
of its module's dotted name that is not ``models`` (``myproject.blog.models`` ->
``blog``). ``satchel auth sync-permissions`` (or :func:`sync_permissions`) creates the
rows that are missing; it never deletes one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select

from satchel.auth.models import Permission
from satchel.db.model import Model
from satchel.exceptions import ImproperlyConfigured

DEFAULT_ACTIONS = ("add", "change", "delete", "view")
_CODENAME = re.compile(r"[a-z0-9_]+\.[a-z0-9_]+")
_WORD = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def app_label(model: type[Any]) -> str:
    """Return the ``<app>`` part of ``model``'s permission codenames."""
    label = getattr(model, "__app_label__", None)
    if isinstance(label, str) and label:
        return label
    parts = [part for part in model.__module__.split(".") if part not in ("models", "__main__")]
    return (parts[-1] if parts else "main").lower()


def model_name(model: type[Any]) -> str:
    """Return the ``<model>`` part: the class name in lower case (``ApiToken`` -> ``apitoken``)."""
    return model.__name__.lower()


def verbose_name(model: type[Any]) -> str:
    """Return the model's name for people (``ApiToken`` -> ``api token``)."""
    explicit = getattr(model, "__verbose_name__", None)
    return explicit if isinstance(explicit, str) else _WORD.sub(" ", model.__name__).lower()


def model_permissions(model: type[Any]) -> list[tuple[str, str]]:
    """Return ``(codename, name)`` for the default and custom permissions of ``model``."""
    label, name, readable = app_label(model), model_name(model), verbose_name(model)
    found = [(f"{label}.{action}_{name}", f"Can {action} {readable}") for action in DEFAULT_ACTIONS]
    for item in getattr(model, "__permissions__", ()) or ():
        try:
            code, description = item
        except (TypeError, ValueError):
            raise ImproperlyConfigured(
                f"{model.__qualname__}.__permissions__ lists (codename, name) pairs, not {item!r}"
            ) from None
        codename = code if "." in code else f"{label}.{code}"
        check_codename(codename)
        found.append((codename, str(description)))
    return found


def check_codename(codename: str) -> str:
    """Return ``codename`` if it looks like ``app.action_model``, else raise ``ValueError``."""
    if not isinstance(codename, str) or not _CODENAME.fullmatch(codename):
        raise ValueError(
            f"permission codename {codename!r} must look like 'blog.publish_post' "
            "(lower-case letters, digits and _, one dot)"
        )
    return codename


def mapped_models() -> Iterator[type[Any]]:
    """Yield every model class mapped on ``satchel.db.Model``, in a stable order."""
    classes = {mapper.class_ for mapper in Model.registry.mappers}
    yield from sorted(classes, key=lambda cls: (cls.__module__, cls.__qualname__))


def all_permissions(models: Iterable[type[Any]] | None = None) -> dict[str, str]:
    """Return ``{codename: name}`` for ``models`` (default: every mapped model)."""
    found: dict[str, str] = {}
    for model in mapped_models() if models is None else models:
        for codename, name in model_permissions(model):
            found.setdefault(codename, name)
    return found


def _missing(existing: Iterable[str], wanted: dict[str, str]) -> list[Permission]:
    have = set(existing)
    return [
        Permission(codename=code, name=name) for code, name in wanted.items() if code not in have
    ]


def sync_permissions(session: Any, models: Iterable[type[Any]] | None = None) -> list[str]:
    """Create the missing permissions of ``models`` with a sync session; return their codenames.

    The caller commits.
    """
    wanted = all_permissions(models)
    new = _missing(session.scalars(select(Permission.codename)), wanted)
    session.add_all(new)
    session.flush()
    return [permission.codename for permission in new]


async def async_sync_permissions(
    session: Any, models: Iterable[type[Any]] | None = None
) -> list[str]:
    """Create the missing permissions with an async session; return their codenames."""
    wanted = all_permissions(models)
    new = _missing(await session.scalars(select(Permission.codename)), wanted)
    session.add_all(new)
    await session.flush()
    return [permission.codename for permission in new]


async def ensure_permission(session: Any, codename: str, name: str | None = None) -> Permission:
    """Return the permission ``codename``, creating it (flushed, not committed) if needed."""
    check_codename(codename)
    found: Permission | None = await session.scalar(
        select(Permission).where(Permission.codename == codename)
    )
    if found is None:
        found = Permission(codename=codename, name=name or codename)
        session.add(found)
        await session.flush()
    return found


__all__ = [
    "DEFAULT_ACTIONS",
    "all_permissions",
    "app_label",
    "async_sync_permissions",
    "check_codename",
    "ensure_permission",
    "mapped_models",
    "model_name",
    "model_permissions",
    "sync_permissions",
    "verbose_name",
]
