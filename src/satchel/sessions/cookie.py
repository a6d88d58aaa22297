"""The default store: the whole session in a signed cookie, nothing on the server.

The data is JSON, signed (HMAC-SHA256, timestamped) with the app's secret key and
compressed when that is shorter. Signed is not encrypted: the visitor can read
what is in the cookie, so keep secrets out of it (a user id is fine, a password
reset token is not). A cookie that was tampered with, signed with an unknown key,
or is older than ``session_max_age`` is ignored: the visitor gets a fresh, empty
session, never an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from satchel.sessions.session import Session
from satchel.sessions.store import MAX_INCOMING_COOKIE, SessionStore

if TYPE_CHECKING:
    from satchel.http.request import Request
    from satchel.http.response import Response


class CookieStore(SessionStore):
    """Keep the session in a signed cookie (``session_store="cookie"``, the default)."""

    def load(self, request: Request) -> Session:
        """Return the session from the request's cookie, or a new empty one."""
        raw = request.cookies.get(self.cookie.name)
        if not raw:
            return Session()
        found = self.unsign_data(raw) if len(raw) <= MAX_INCOMING_COOKIE else None
        if found is None or not isinstance(found[0], dict):
            return Session(had_cookie=True)
        data, signed_at, old_key = found
        session = Session(data, issued_at=signed_at, had_cookie=True)
        session.renew = old_key
        return session

    async def save(self, request: Request, response: Response, session: Session) -> None:
        """Set the cookie to the signed data, or delete it when the session is empty."""
        data = session.data
        if not data:
            if session.had_cookie:
                self.delete_cookie(response)
            return
        self.set_cookie(response, self.sign_data(data))


__all__ = ["CookieStore"]
