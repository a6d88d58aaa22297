"""The typed middleware that saves sessions, composed once per route at startup.

When the handler never touched ``request.session`` the middleware does one
attribute check and returns: the session costs nothing on pages that do not use
it. Server-side stores first fetch the session named by the cookie, because
``request.session`` is synchronous and cannot wait for the database or Redis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from satchel.http.request import Request
    from satchel.http.response import Response
    from satchel.scaffold import CallNext, TypedMiddleware
    from satchel.sessions.store import SessionStore


def session_middleware(store: SessionStore) -> TypedMiddleware:
    """Return the middleware that finishes ``store``'s sessions after each handler."""
    finish = store.finish

    if not store.preloads:

        async def sessions(request: Request, call_next: CallNext) -> Response:
            response = await call_next(request)
            session = request._session
            if session is not None:
                await finish(request, response, session)
            return response

        return sessions

    name = store.cookie.name
    preload = store.preload

    async def server_sessions(request: Request, call_next: CallNext) -> Response:
        raw = request.cookies.get(name)
        if raw:
            request._session = await preload(request, raw)
        response = await call_next(request)
        session = request._session
        if session is not None:
            await finish(request, response, session)
        return response

    return server_sessions


__all__ = ["session_middleware"]
