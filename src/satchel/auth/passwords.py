"""Hash and check passwords: argon2id, Django imports, limits, the same work for nobody.

Parameters (``DEFAULT_TIME_COST``, ``DEFAULT_MEMORY_COST``, ``DEFAULT_PARALLELISM``):
argon2id with **t=2 passes over m=64 MiB (65536 KiB), p=1 lane**, a 16-byte salt and a
32-byte hash. OWASP's Password Storage Cheat Sheet asks for argon2id with at least
m=19 MiB, t=2, p=1 (or an equivalent trade such as m=46 MiB, t=1); these parameters
are the same number of passes over 3.4 times the memory, so an attacker with a GPU or
ASIC pays 3.4 times as much per guess. On the 2-core development box one check took
about 170 ms (OWASP's minimum: about 38 ms), which bounds a login POST to about six a
second per core: slow enough to hurt guessing, fast enough for people. p=1 because a
server hashes for many users at once; more lanes only help one login on an idle box.

Rules that hold for every function here:

- Passwords are compared exactly, as UTF-8 bytes. Nothing is normalised: a dotless i
  (U+0131) and ``i``, or a full-width A (U+FF21) and ``A``, are different passwords.
  (Usernames are NFKC-normalised by the user model; passwords stay as typed.)
- A password longer than ``MAX_PASSWORD_LENGTH`` characters, or one that is not valid
  Unicode (a lone surrogate), is refused before any hashing: ``check_password`` returns
  ``False`` at once and ``make_password`` raises ``ValueError``.
- Stored hashes in Django's ``pbkdf2_sha256$...`` and ``argon2$argon2id$...`` formats
  are verified and reported by ``needs_rehash``, so a login can upgrade them.
- Hashing is CPU-bound and blocks for the time above: from async code use
  ``amake_password`` / ``acheck_password`` / ``adummy_check``, which run it in a
  thread (``asyncio.to_thread``, or ``run_sync=app.run_sync`` for the app's pool).
  argon2-cffi releases the GIL while it hashes, so other requests keep running.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

DEFAULT_TIME_COST = 2
DEFAULT_MEMORY_COST = 65536  # KiB, i.e. 64 MiB
DEFAULT_PARALLELISM = 1
#: Longest password accepted, in characters. Longer input is refused unhashed.
MAX_PASSWORD_LENGTH = 4096
#: Stored values starting with this can never match a password.
UNUSABLE_PASSWORD_PREFIX = "!"  # noqa: S105 - a marker, not a password

#: OWASP lists equivalent minimums from m=46 MiB, t=1 to m=7 MiB, t=5: the smallest
#: memory x passes among them, and the smallest memory.
_OWASP_MEMORY_PASSES = 7168 * 5
_OWASP_MIN_MEMORY = 7168
#: Refuse stored hashes that would cost more than this to verify (a corrupt or hostile
#: row must not make one login allocate gigabytes or spin for minutes).
_MAX_ARGON2_MEMORY = 1024 * 1024  # KiB, 1 GiB
_MAX_ARGON2_TIME = 64
_MAX_PBKDF2_ITERATIONS = 10_000_000
_DJANGO_ARGON2 = "argon2$"
_DJANGO_PBKDF2 = "pbkdf2_sha256$"

RunSync = Callable[..., Awaitable[Any]]


class PasswordHasher:
    """Hash and verify passwords with one set of argon2id parameters.

    The module functions use ``DEFAULT_HASHER``; make your own instance to change the
    cost (tests use a cheap one). A stored hash made with other parameters still
    verifies, and ``needs_rehash`` says so.
    """

    __slots__ = ("_argon2", "_dummy_hash", "max_length", "memory_cost", "parallelism", "time_cost")

    def __init__(
        self,
        *,
        time_cost: int = DEFAULT_TIME_COST,
        memory_cost: int = DEFAULT_MEMORY_COST,
        parallelism: int = DEFAULT_PARALLELISM,
        max_length: int = MAX_PASSWORD_LENGTH,
    ) -> None:
        if time_cost < 1 or parallelism < 1 or memory_cost < 8 * parallelism:
            raise ValueError(
                "argon2 needs time_cost >= 1, parallelism >= 1 and memory_cost >= "
                f"8 * parallelism KiB; got t={time_cost}, m={memory_cost}, p={parallelism}"
            )
        if max_length < 1:
            raise ValueError(f"max_length must be positive, got {max_length}")
        self.time_cost = time_cost
        self.memory_cost = memory_cost
        self.parallelism = parallelism
        self.max_length = max_length
        self._argon2 = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=argon2.Type.ID,
        )
        self._dummy_hash: str | None = None

    def __repr__(self) -> str:
        return (
            f"PasswordHasher(time_cost={self.time_cost}, memory_cost={self.memory_cost}, "
            f"parallelism={self.parallelism})"
        )

    @property
    def below_recommendation(self) -> bool:
        """Whether these parameters are weaker than OWASP's argon2id minimum."""
        return (
            self.memory_cost * self.time_cost < _OWASP_MEMORY_PASSES
            or self.memory_cost < _OWASP_MIN_MEMORY
        )

    # -- hashing -------------------------------------------------------------------

    def hash(self, raw: str) -> str:
        """Return the argon2id hash of ``raw`` (a PHC string starting ``$argon2id$``).

        Raises ``ValueError`` when ``raw`` is too long or not valid Unicode.
        """
        secret = self._encode(raw)
        if secret is None:
            raise ValueError(
                f"password refused: longer than {self.max_length} characters "
                "or not valid Unicode text"
            )
        return self._argon2.hash(secret)

    def verify(self, raw: str, encoded: str | None) -> bool:
        """Return whether ``raw`` matches the stored ``encoded`` hash.

        An unusable or missing hash does the same work as a real check and returns
        ``False``; an unrecognised or out-of-bounds hash returns ``False``.
        """
        secret = self._encode(raw)
        if secret is None:
            return False
        if not encoded or encoded.startswith(UNUSABLE_PASSWORD_PREFIX):
            self._verify_argon2(secret, self.dummy_hash())
            return False
        if encoded.startswith(_DJANGO_PBKDF2):
            return _verify_pbkdf2(secret, encoded)
        if encoded.startswith(_DJANGO_ARGON2):
            encoded = encoded[len(_DJANGO_ARGON2) - 1 :]
        return self._verify_argon2(secret, encoded)

    def needs_rehash(self, encoded: str) -> bool:
        """Return whether ``encoded`` should be replaced by a fresh hash at next login.

        True for Django's formats, for argon2 hashes with other parameters or type, and
        for anything unrecognised; False for unusable passwords (nothing to upgrade).
        """
        if encoded.startswith(UNUSABLE_PASSWORD_PREFIX):
            return False
        if not encoded.startswith("$argon2id$"):
            return True
        try:
            return self._argon2.check_needs_rehash(encoded)
        except (InvalidHashError, ValueError):
            return True

    def dummy_hash(self) -> str:
        """Return a fixed hash with these parameters, made once (for ``dummy_verify``)."""
        if self._dummy_hash is None:
            self._dummy_hash = self._argon2.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    def prepare(self) -> None:
        """Compute the dummy hash now, so the first unknown-user check costs no extra."""
        self.dummy_hash()

    def dummy_verify(self, raw: str) -> bool:
        """Do the work of a real check against a fixed hash, and return ``False``.

        Call it when the user does not exist, so that answering takes as long as for a
        wrong password and the timing does not reveal which usernames are registered.
        """
        secret = self._encode(raw)
        if secret is not None:
            self._verify_argon2(secret, self.dummy_hash())
        return False

    # -- async wrappers ------------------------------------------------------------

    async def ahash(self, raw: str, *, run_sync: RunSync | None = None) -> str:
        """Run ``hash`` in a thread."""
        return str(await _in_thread(run_sync, self.hash, raw))

    async def averify(
        self, raw: str, encoded: str | None, *, run_sync: RunSync | None = None
    ) -> bool:
        """Run ``verify`` in a thread (refusing over-long input without one)."""
        if self._encode(raw) is None:
            return False
        return bool(await _in_thread(run_sync, self.verify, raw, encoded))

    async def adummy_verify(self, raw: str, *, run_sync: RunSync | None = None) -> bool:
        """Run ``dummy_verify`` in a thread."""
        if self._encode(raw) is None:
            return False
        return bool(await _in_thread(run_sync, self.dummy_verify, raw))

    # -- internals -----------------------------------------------------------------

    def _encode(self, raw: str) -> bytes | None:
        if not isinstance(raw, str):
            raise TypeError(f"a password must be str, not {type(raw).__name__}")
        if len(raw) > self.max_length:
            return None
        try:
            return raw.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates, e.g. "\ud800" from JSON
            return None

    def _verify_argon2(self, secret: bytes, encoded: str) -> bool:
        try:
            params = argon2.extract_parameters(encoded)
        except (InvalidHashError, ValueError):
            return False
        if params.memory_cost > _MAX_ARGON2_MEMORY or params.time_cost > _MAX_ARGON2_TIME:
            return False
        try:
            return self._argon2.verify(encoded, secret)
        except (VerificationError, InvalidHashError, UnicodeEncodeError):
            return False


def _verify_pbkdf2(secret: bytes, encoded: str) -> bool:
    """Check Django's ``pbkdf2_sha256$<iterations>$<salt>$<base64 hash>``."""
    parts = encoded.split("$")
    if len(parts) != 4 or not parts[1].isascii() or not parts[1].isdigit():
        return False
    iterations = int(parts[1])
    if not 0 < iterations <= _MAX_PBKDF2_ITERATIONS:
        return False
    try:
        expected = base64.b64decode(parts[3].encode("ascii"), validate=True)
        salt = parts[2].encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return False
    if len(expected) != 32:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", secret, salt, iterations)
    return hmac.compare_digest(actual, expected)


async def _in_thread(run_sync: RunSync | None, func: Callable[..., Any], *args: Any) -> Any:
    if run_sync is not None:
        return await run_sync(func, *args)
    return await asyncio.to_thread(func, *args)


#: The hasher the module functions use when none is passed.
DEFAULT_HASHER = PasswordHasher()


def make_password(raw: str, *, hasher: PasswordHasher | None = None) -> str:
    """Return the argon2id hash of ``raw``, to store (``ValueError`` if over-long)."""
    return (hasher or DEFAULT_HASHER).hash(raw)


def check_password(raw: str, encoded: str | None, *, hasher: PasswordHasher | None = None) -> bool:
    """Return whether ``raw`` matches ``encoded`` (argon2, or Django's formats)."""
    return (hasher or DEFAULT_HASHER).verify(raw, encoded)


def needs_rehash(encoded: str, *, hasher: PasswordHasher | None = None) -> bool:
    """Return whether ``encoded`` should be rehashed now that the password is known."""
    return (hasher or DEFAULT_HASHER).needs_rehash(encoded)


def dummy_check(raw: str, *, hasher: PasswordHasher | None = None) -> bool:
    """Spend the time of a real check for a user who does not exist; return ``False``."""
    return (hasher or DEFAULT_HASHER).dummy_verify(raw)


async def amake_password(
    raw: str, *, hasher: PasswordHasher | None = None, run_sync: RunSync | None = None
) -> str:
    """Hash ``raw`` in a thread (see ``make_password``)."""
    return await (hasher or DEFAULT_HASHER).ahash(raw, run_sync=run_sync)


async def acheck_password(
    raw: str,
    encoded: str | None,
    *,
    hasher: PasswordHasher | None = None,
    run_sync: RunSync | None = None,
) -> bool:
    """Check ``raw`` against ``encoded`` in a thread (see ``check_password``)."""
    return await (hasher or DEFAULT_HASHER).averify(raw, encoded, run_sync=run_sync)


async def adummy_check(
    raw: str, *, hasher: PasswordHasher | None = None, run_sync: RunSync | None = None
) -> bool:
    """Do ``dummy_check`` in a thread; return ``False``."""
    return await (hasher or DEFAULT_HASHER).adummy_verify(raw, run_sync=run_sync)


def make_unusable_password() -> str:
    """Return a stored value that no password matches (``!`` and 40 random characters)."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def is_password_usable(encoded: str | None) -> bool:
    """Return whether ``encoded`` could match some password."""
    return encoded is not None and encoded != "" and encoded[0] != UNUSABLE_PASSWORD_PREFIX


__all__ = [
    "DEFAULT_HASHER",
    "DEFAULT_MEMORY_COST",
    "DEFAULT_PARALLELISM",
    "DEFAULT_TIME_COST",
    "MAX_PASSWORD_LENGTH",
    "UNUSABLE_PASSWORD_PREFIX",
    "PasswordHasher",
    "acheck_password",
    "adummy_check",
    "amake_password",
    "check_password",
    "dummy_check",
    "is_password_usable",
    "make_password",
    "make_unusable_password",
    "needs_rehash",
]
