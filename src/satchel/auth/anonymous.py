"""The user of a request nobody is logged in to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Literal


class AnonymousUser:
    """Who ``request.user`` is when nobody is logged in: no id, no permissions.

    ``invalid_token`` is true when the request sent a bearer token that was refused
    (so a 401 can say ``error="invalid_token"``).
    """

    __slots__ = ("invalid_token",)

    id: ClassVar[None] = None
    pk: ClassVar[None] = None
    username: ClassVar[str] = ""
    email: ClassVar[None] = None
    is_active: ClassVar[bool] = False
    is_staff: ClassVar[bool] = False
    is_superuser: ClassVar[bool] = False
    is_authenticated: ClassVar[bool] = False
    is_anonymous: ClassVar[bool] = True
    loaded_permissions: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *, invalid_token: bool = False) -> None:
        self.invalid_token = invalid_token

    def has_perm(self, codename: str) -> bool:
        """Return ``False``: an anonymous visitor has no permissions."""
        return False

    def has_perms(self, codenames: Iterable[str], require: Literal["all", "any"] = "all") -> bool:
        """Return ``False``."""
        return False

    def has_usable_password(self) -> bool:
        """Return ``False``."""
        return False

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, AnonymousUser)

    def __hash__(self) -> int:
        return hash(AnonymousUser)

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        return "AnonymousUser"

    def __repr__(self) -> str:
        return "<AnonymousUser>"


#: The anonymous user every request without a login shares (it holds no state).
ANONYMOUS = AnonymousUser()
#: The anonymous user of a request whose bearer token was refused.
REFUSED_TOKEN = AnonymousUser(invalid_token=True)

__all__ = ["ANONYMOUS", "REFUSED_TOKEN", "AnonymousUser"]
