"""Password-reset tokens and API tokens.

**Reset tokens** are signed with the app's secret key (itsdangerous; fallback keys still
verify, the newest key signs), expire after ``max_age`` seconds (default one hour), and
carry the user id and a fingerprint of the user's state: the stored password hash and
the last login time. Once the password changes, or the user logs in, the fingerprint no
longer matches and the token stops working; that also makes a token single-use, since
using it changes the password. Nothing is stored server-side.

**API tokens** look like ``stl_<12 lookup chars><32 secret chars><6 checksum chars>``,
all base62, 54 characters with the default prefix. The lookup part finds the row; the
row stores only ``sha256(token)``. A plain SHA-256 is the right hash here, not argon2:
the token carries about 190 random bits, so no amount of hashing speed makes guessing
feasible (slow hashes exist to protect *low-entropy* human passwords), and every API
request verifies a token, which must not cost 170 ms. The prefix makes leaked tokens
easy to recognise (secret scanners), and the fixed length, alphabet and CRC32 checksum
let ``parse_api_token`` refuse a mistyped or forged token before any database lookup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

DEFAULT_RESET_MAX_AGE = 3600
RESET_SALT = "satchel.auth.password-reset"
#: Longer input is not a token we made; refuse it before decoding anything.
_MAX_RESET_TOKEN_LENGTH = 512

Secret = str | bytes


class _ClockSigner(TimestampSigner):
    """A timestamp signer that reads the time from a given clock (tests move it)."""

    def __init__(self, *args: Any, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


def _login_stamp(last_login: datetime | None) -> str:
    # Databases differ in what they store (MySQL DATETIME drops microseconds, SQLite
    # may lose the zone), so compare whole seconds in UTC without a zone.
    if last_login is None:
        return ""
    if last_login.tzinfo is not None:
        last_login = last_login.astimezone(UTC).replace(tzinfo=None)
    return last_login.replace(microsecond=0).isoformat()


def _fingerprint(user_id: str, password_hash: str | None, last_login: datetime | None) -> str:
    # Unkeyed is enough: the whole payload is signed, and a hash of a salted password
    # hash tells the token's holder nothing they could attack.
    state = "\0".join((user_id, password_hash or "", _login_stamp(last_login)))
    digest = hashlib.sha256(b"satchel.reset\0" + state.encode("utf-8", "surrogatepass")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


class ResetTokens:
    """Make and check password-reset tokens with the given secret keys.

    ``secret_keys`` is one key or a list, oldest first: the last one signs, all verify
    (pass ``[*settings.secret_key_fallbacks, settings.secret_key]``).
    """

    def __init__(
        self,
        secret_keys: Secret | Sequence[Secret],
        *,
        max_age: int = DEFAULT_RESET_MAX_AGE,
        salt: str = RESET_SALT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        given = [secret_keys] if isinstance(secret_keys, str | bytes) else list(secret_keys)
        keys = [key.encode() if isinstance(key, str) else key for key in given]
        if not keys or not all(keys):
            raise ValueError("ResetTokens needs at least one non-empty secret key")
        if max_age <= 0:
            raise ValueError(f"max_age must be positive, got {max_age}")
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(
            keys, salt=salt, signer=_ClockSigner, signer_kwargs={"clock": clock}
        )

    @classmethod
    def from_settings(cls, settings: Any, *, max_age: int = DEFAULT_RESET_MAX_AGE) -> ResetTokens:
        """Build from ``app.settings`` (``secret_key`` plus ``secret_key_fallbacks``)."""
        keys = [key.get_secret_value() for key in settings.secret_key_fallbacks]
        keys.append(settings.secret_key.get_secret_value())
        return cls(keys, max_age=max_age)

    def make(
        self, user_id: int | str, password_hash: str | None, last_login: datetime | None
    ) -> str:
        """Return a URL-safe token for this user in their current state."""
        uid = str(user_id)
        return str(self._serializer.dumps([uid, _fingerprint(uid, password_hash, last_login)]))

    def user_id(self, token: str) -> str | None:
        """Return the user id a genuine, unexpired token names (as ``str``), else ``None``.

        This only proves the token was signed by us recently; call ``check`` with the
        user's current state before trusting it.
        """
        payload = self._load(token)
        return payload[0] if payload is not None else None

    def check(
        self,
        token: str,
        user_id: int | str,
        password_hash: str | None,
        last_login: datetime | None,
    ) -> bool:
        """Return whether ``token`` is genuine, unexpired and made for this user as now."""
        payload = self._load(token)
        if payload is None:
            return False
        uid = str(user_id)
        expected = _fingerprint(uid, password_hash, last_login).encode()
        given = payload[1].encode("utf-8", "surrogatepass")
        return payload[0] == uid and hmac.compare_digest(given, expected)

    def _load(self, token: str) -> list[str] | None:
        if not isinstance(token, str) or not 0 < len(token) <= _MAX_RESET_TOKEN_LENGTH:
            return None
        if not token.isascii():  # ours are; and itsdangerous can't encode lone surrogates
            return None
        try:
            payload = self._serializer.loads(token, max_age=self.max_age)
        except BadData:
            return None
        if (
            isinstance(payload, list)
            and len(payload) == 2
            and all(isinstance(item, str) for item in payload)
        ):
            return payload
        return None


def make_reset_token(
    user_id: int | str,
    password_hash: str | None,
    last_login: datetime | None,
    secret: Secret | Sequence[Secret],
) -> str:
    """Return a reset token (see ``ResetTokens.make``)."""
    return ResetTokens(secret).make(user_id, password_hash, last_login)


def check_reset_token(
    token: str,
    user_id: int | str,
    password_hash: str | None,
    last_login: datetime | None,
    secret: Secret | Sequence[Secret],
    *,
    max_age: int = DEFAULT_RESET_MAX_AGE,
) -> bool:
    """Return whether a reset token is valid (see ``ResetTokens.check``)."""
    return ResetTokens(secret, max_age=max_age).check(token, user_id, password_hash, last_login)


# -- API tokens --------------------------------------------------------------------

DEFAULT_API_PREFIX = "stl_"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LOOKUP_LENGTH = 12  # ~71 bits: unique per row without a retry loop in practice
_SECRET_LENGTH = 32  # ~190 bits
_CHECKSUM_LENGTH = 6  # 62**6 > 2**32, so a CRC32 always fits
_BODY = re.compile(rf"[0-9A-Za-z]{{{_LOOKUP_LENGTH + _SECRET_LENGTH + _CHECKSUM_LENGTH}}}")
_PREFIX = re.compile(r"[a-z0-9]{1,16}_")
_BEARER = re.compile(r"Bearer +([!-~]+) *", re.IGNORECASE)


class ApiToken(NamedTuple):
    """A new API token: show ``plaintext`` once, store ``token_hash`` and ``lookup_id``."""

    plaintext: str
    token_hash: str
    lookup_id: str


def _check_prefix(prefix: str) -> None:
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(
            f"API token prefix {prefix!r} must be 1-16 lower-case letters or digits "
            "followed by '_' (like 'stl_')"
        )


def _checksum(text: str) -> str:
    value = zlib.crc32(text.encode("ascii"))
    chars = []
    for _ in range(_CHECKSUM_LENGTH):
        value, digit = divmod(value, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def api_token_length(prefix: str = DEFAULT_API_PREFIX) -> int:
    """Return the exact length of every token with this prefix."""
    return len(prefix) + _LOOKUP_LENGTH + _SECRET_LENGTH + _CHECKSUM_LENGTH


def hash_api_token(plaintext: str) -> str:
    """Return the SHA-256 hex digest stored for a token."""
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


def generate_api_token(prefix: str = DEFAULT_API_PREFIX) -> ApiToken:
    """Return a fresh random token with its hash and lookup id."""
    _check_prefix(prefix)
    lookup = "".join(secrets.choice(_ALPHABET) for _ in range(_LOOKUP_LENGTH))
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LENGTH))
    head = prefix + lookup + secret
    plaintext = head + _checksum(head)
    return ApiToken(plaintext, hash_api_token(plaintext), lookup)


def parse_api_token(text: str, prefix: str = DEFAULT_API_PREFIX) -> str | None:
    """Return the lookup id of a well-formed token, or ``None`` (no lookup needed then)."""
    if not isinstance(text, str) or len(text) != api_token_length(prefix):
        return None
    if not text.startswith(prefix) or not _BODY.fullmatch(text, len(prefix)):
        return None
    head, checksum = text[:-_CHECKSUM_LENGTH], text[-_CHECKSUM_LENGTH:]
    if not hmac.compare_digest(_checksum(head), checksum):
        return None
    return text[len(prefix) : len(prefix) + _LOOKUP_LENGTH]


def verify_api_token(plaintext: str, token_hash: str) -> bool:
    """Return whether ``plaintext`` hashes to the stored ``token_hash`` (constant time)."""
    return hmac.compare_digest(hash_api_token(plaintext), token_hash)


def bearer_token(authorization: str | None) -> str | None:
    """Return the token in an ``Authorization: Bearer <token>`` value, or ``None``."""
    if not authorization or len(authorization) > 1024:
        return None
    match = _BEARER.fullmatch(authorization)
    return match.group(1) if match else None


__all__ = [
    "DEFAULT_API_PREFIX",
    "DEFAULT_RESET_MAX_AGE",
    "ApiToken",
    "ResetTokens",
    "api_token_length",
    "bearer_token",
    "check_reset_token",
    "generate_api_token",
    "hash_api_token",
    "make_reset_token",
    "parse_api_token",
    "verify_api_token",
]
