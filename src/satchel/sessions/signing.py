"""Sign and verify what goes into session cookies: itsdangerous, HMAC-SHA256, timestamped.

Loaded on the first session read or write, not at startup. The current secret
key signs; ``secret_key_fallbacks`` only verify, and a value they verify is
reported as such so the store re-issues it under the current key.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from itsdangerous import (
    BadData,
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeTimedSerializer,
)
from itsdangerous.encoding import base64_encode

#: JSON shorter than this is not compressed: zlib seldom wins there, and trying
#: cost more than signing (measured: dumps 20-26 us with it, ~9 us without).
COMPRESS_FROM = 256


class SessionSerializer(URLSafeTimedSerializer):
    """itsdangerous' URL-safe timed serializer, compressing only payloads worth it.

    The format is unchanged (a leading ``.`` marks a compressed payload), so
    ``URLSafeTimedSerializer.loads`` reads what this writes.
    """

    def dump_payload(self, obj: Any) -> bytes:
        """Return ``obj`` as URL-safe base64 JSON, zlib-compressed when that is shorter."""
        json = orjson.dumps(obj)
        if len(json) >= COMPRESS_FROM:
            compressed = zlib.compress(json)
            if len(compressed) < len(json) - 1:
                return b"." + base64_encode(compressed)
        return base64_encode(json)


class Signing:
    """The signers for one salt: the current key, plus the fallback keys if any."""

    def __init__(self, secret: str, fallbacks: Sequence[str], salt: str) -> None:
        options: dict[str, Any] = {
            "salt": salt,
            "serializer": orjson,
            "signer_kwargs": {"digest_method": hashlib.sha256},
        }
        self.serializer = SessionSerializer(secret, **options)
        self.old_serializer = SessionSerializer(list(fallbacks), **options) if fallbacks else None
        key_salt = salt + ".key"
        self.signer = TimestampSigner(secret, salt=key_salt, digest_method=hashlib.sha256)
        self.old_signer = (
            TimestampSigner(list(fallbacks), salt=key_salt, digest_method=hashlib.sha256)
            if fallbacks
            else None
        )

    def dumps(self, data: Any) -> str:
        """Return ``data`` as signed, timestamped, URL-safe text."""
        signed: str | bytes = self.serializer.dumps(data)
        # orjson writes bytes, so itsdangerous treats it as a binary serializer.
        return signed.decode("ascii") if isinstance(signed, bytes) else signed

    def loads(self, value: str, max_age: int) -> tuple[Any, float, bool] | None:
        """Return ``(data, signed_at, signed_with_a_fallback_key)``, or ``None``."""
        found: tuple[Any, float, bool] | None = _verify(
            lambda s: s.loads(value, max_age=max_age, return_timestamp=True),
            self.serializer,
            self.old_serializer,
        )
        return found

    def sign_key(self, key: str) -> str:
        """Return ``key`` signed and timestamped with the current secret key."""
        return self.signer.sign(key).decode("ascii")

    def unsign_key(self, value: str, max_age: int) -> tuple[str, float, bool] | None:
        """Return ``(key, signed_at, signed_with_a_fallback_key)``, or ``None``."""
        found = _verify(
            lambda s: s.unsign(value, max_age=max_age, return_timestamp=True),
            self.signer,
            self.old_signer,
        )
        if found is None:
            return None
        key, signed_at, old = found
        return key.decode("ascii", "replace"), signed_at, old


def _verify(check: Callable[[Any], Any], primary: Any, fallback: Any) -> Any:
    try:
        payload, signed_at = check(primary)
        return payload, signed_at.timestamp(), False
    except SignatureExpired:
        return None  # signed with the current key but too old: never try older keys
    except BadSignature:
        if fallback is None:
            return None
    except BadData:
        return None  # a valid signature over an undecodable payload
    try:
        payload, signed_at = check(fallback)
    except BadData:
        return None
    return payload, signed_at.timestamp(), True


__all__ = ["COMPRESS_FROM", "SessionSerializer", "Signing"]
