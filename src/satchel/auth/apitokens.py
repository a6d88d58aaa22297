"""API tokens: made for a user, shown once, sent as ``Authorization: Bearer stl_...``.

Only the SHA-256 of a token is stored (see ``satchel.auth.tokens`` for why a fast hash
is right for random tokens). A bearer header is checked in this order, and the first
failure answers 401 without going further:

1. the header is ``Bearer <token>`` of printable ASCII (no lookup);
2. the token has the app's prefix, the exact length, the alphabet and a valid checksum
   (no lookup: a guessed or mistyped token costs no query);
3. one query finds the token by its lookup id, joined with its user;
4. the stored hash matches (constant time), the token is not revoked or expired, and
   the user is active.

A request with a bearer header is authenticated by the token alone: a refused token
never falls back to the session cookie (the CSRF check skips bearer requests, so a
fallback would let a forged request ride on the cookie). ``last_used_at`` is written at
most once a minute per token, so a busy client doesn't turn every read into a write.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from satchel.auth.backend import users as queries
from satchel.auth.models import ApiToken
from satchel.auth.tokens import bearer_token, generate_api_token, parse_api_token, verify_api_token

if TYPE_CHECKING:
    from satchel.auth.accounts import Accounts as Auth

#: ``last_used_at`` is refreshed when it is older than this.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)
MAX_NAME_LENGTH = 100


def _expiry(expires: dt.datetime | dt.timedelta | None, now: dt.datetime) -> dt.datetime | None:
    if expires is None:
        return None
    if isinstance(expires, dt.timedelta):
        if expires <= dt.timedelta(0):
            raise ValueError("a token's lifetime must be positive")
        return now + expires
    if expires.tzinfo is None:
        raise ValueError("expires must be an aware datetime (e.g. datetime.now(UTC) + ...)")
    if expires <= now:
        raise ValueError("expires is in the past")
    return expires


async def create_token(
    auth: Auth,
    user: Any,
    name: str,
    *,
    expires: dt.datetime | dt.timedelta | None = None,
    session: Any = None,
) -> str:
    """Store a new token for ``user`` and return its plaintext (shown once, never again)."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"a token needs a name of 1 to {MAX_NAME_LENGTH} characters")
    if user is None or not getattr(user, "is_authenticated", False) or user.id is None:
        raise ValueError("a token belongs to a saved user")
    now = dt.datetime.now(dt.UTC)
    new = generate_api_token(auth.token_prefix)
    row = ApiToken(
        user_id=user.id,
        name=name.strip(),
        lookup_id=new.lookup_id,
        token_hash=new.token_hash,
        created_at=now,
        expires_at=_expiry(expires, now),
    )
    async with auth.session(session) as db:
        db.add(row)
        await db.flush()
    return new.plaintext


async def revoke_token(auth: Auth, token: str | int, *, session: Any = None) -> bool:
    """Revoke a token given as its plaintext or its row id; return whether one was revoked."""
    now = dt.datetime.now(dt.UTC)
    if isinstance(token, int):
        condition = ApiToken.id == token
    else:
        lookup = parse_api_token(token, auth.token_prefix)
        if lookup is None:
            return False
        condition = ApiToken.lookup_id == lookup
    async with auth.session(session) as db:
        result = await db.execute(
            update(ApiToken)
            .where(condition, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    return bool(getattr(result, "rowcount", 0))


async def list_tokens(auth: Auth, user: Any, *, session: Any = None) -> list[ApiToken]:
    """Return ``user``'s tokens, newest first (their hashes, never their plaintexts)."""
    async with auth.session(session) as db:
        rows = await db.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
        return list(rows)


async def user_for_bearer(auth: Auth, authorization: str) -> Any:
    """Return the active user a bearer header's token belongs to, or ``None``."""
    text = bearer_token(authorization)
    if text is None:
        return None
    lookup = parse_api_token(text, auth.token_prefix)
    if lookup is None:
        return None
    now = dt.datetime.now(dt.UTC)
    async with auth.reading() as db:
        query = queries.token_and_user(auth.user_model)
        row = (await db.execute(query, {"lookup_id": lookup})).first()
    if row is None:
        return None
    token, user = row
    if not verify_api_token(text, token.token_hash):
        return None
    if not token.is_usable(now) or not user.is_active:
        return None
    last = token.last_used_at
    if last is None or now - last > LAST_USED_RESOLUTION:
        async with auth.session() as db:  # a write of its own, at most once a minute
            await db.execute(
                update(ApiToken)
                .where(ApiToken.id == token.id)
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
    user._satchel_token = token
    return user


__all__ = ["create_token", "list_tokens", "revoke_token", "user_for_bearer"]
