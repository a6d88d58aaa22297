"""What a login keeps in ``request.session``, and the checks made when it is read back.

Three keys: the user id, a *session auth hash* and, for a login without "remember me",
when it ends. The hash is an HMAC (keyed with the app's secret key) of the user's
stored password hash, as Django's ``get_session_auth_hash``: when the password changes,
every other session of that user stops matching and is logged out on its next request,
while the session that made the change is given the new hash and stays in.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence
from typing import Any

USER_KEY = "_auth_user_id"
HASH_KEY = "_auth_user_hash"
EXPIRES_KEY = "_auth_expires"
_KEYS = (USER_KEY, HASH_KEY, EXPIRES_KEY)
_SALT = b"satchel.auth.session-hash\0"


def session_auth_hash(password_hash: str, secret: str | bytes) -> str:
    """Return the hash kept in the session for a user whose password hash is given."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(_SALT + key, password_hash.encode("utf-8", "surrogatepass"), "sha256")
    return digest.hexdigest()


def hash_matches(stored: Any, password_hash: str, secrets: Sequence[str | bytes]) -> int | None:
    """Return the index of the secret ``stored`` was made with, or ``None`` for no match.

    ``secrets`` lists the current key first, then the fallbacks: a session made before a
    key rotation still matches (and is then given a hash made with the current key).
    """
    if not isinstance(stored, str):
        return None
    given = stored.encode("ascii", "replace")
    for index, secret in enumerate(secrets):
        if hmac.compare_digest(given, session_auth_hash(password_hash, secret).encode()):
            return index
    return None


def remember(session: Any, user_id: Any, auth_hash: str, max_age: int | None) -> None:
    """Store a login in ``session``; ``max_age`` (seconds) ends it early, ``None`` doesn't."""
    session[USER_KEY] = user_id
    session[HASH_KEY] = auth_hash
    if max_age is None:
        if EXPIRES_KEY in session.data:
            del session[EXPIRES_KEY]
    else:
        session[EXPIRES_KEY] = int(time.time()) + max_age


def logged_in_id(data: dict[str, Any]) -> Any:
    """Return the user id a session's data names, unless that login has ended."""
    user_id = data.get(USER_KEY)
    if user_id is None:
        return None
    expires = data.get(EXPIRES_KEY)
    if expires is not None and (not isinstance(expires, int) or expires <= time.time()):
        return None
    return user_id


def forget(session: Any) -> None:
    """Remove the login from ``session`` (other values, such as the CSRF secret, stay)."""
    data = session.data
    if any(key in data for key in _KEYS):
        for key in _KEYS:
            if key in data:
                del session[key]
        session.cycle_key()


def has_login(data: dict[str, Any]) -> bool:
    """Return whether a session's data holds a login at all (ended or not)."""
    return USER_KEY in data


__all__ = [
    "EXPIRES_KEY",
    "HASH_KEY",
    "USER_KEY",
    "forget",
    "has_login",
    "hash_matches",
    "logged_in_id",
    "remember",
    "session_auth_hash",
]
