"""Handler parameters for the request's user.

``user: CurrentUser`` gives the logged-in :class:`~satchel.auth.User`; when nobody is
logged in the request is refused as ``login_required`` refuses it (a redirect to the
login page, or 401), so the annotation never lies. ``user: MaybeUser`` gives the user or
the :class:`~satchel.auth.AnonymousUser`, for pages that anyone may see.
"""

from __future__ import annotations

from typing import Annotated, Any

from satchel.auth.anonymous import AnonymousUser
from satchel.auth.guards import _logged_in_user, auth_of
from satchel.auth.models import User
from satchel.handlers.params import Provide
from satchel.http.request import Request


async def current_user(request: Request) -> Any:
    """Return the logged-in user, or refuse the request (``NotAuthenticated``)."""
    return await _logged_in_user(request)


async def maybe_user(request: Request) -> Any:
    """Return the request's user: a :class:`User` or the anonymous user."""
    return await auth_of(request).get_user(request)


#: The logged-in user (refuses anonymous requests).
CurrentUser = Annotated[User, Provide(current_user)]
#: The request's user, possibly anonymous.
MaybeUser = Annotated[User | AnonymousUser, Provide(maybe_user)]

__all__ = ["CurrentUser", "MaybeUser", "current_user", "maybe_user"]
