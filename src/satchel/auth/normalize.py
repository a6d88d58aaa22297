"""How usernames and email addresses are cleaned up, compared and checked.

The rules (also in docs/accounts.md):

- **Both** are NFKC-normalised and stripped of surrounding white space before they are
  stored or looked up, so full-width forms (U+FF41 for ``a``...), ligatures and other
  compatibility characters count as their plain equivalents.
- **Comparison** is case-insensitive: lookups and the unique constraints use a *key*,
  the case-folded normal form (``str.casefold``), kept in its own column
  (``username_key``, ``email_key``) with a binary collation on MySQL/MariaDB, so every
  database compares exactly the same way.
- **Usernames** are limited by default to ASCII letters, digits and ``. _ + -`` (1 to
  150 characters, no ``@``, so a login name is never ambiguous with an email address).
  That refuses look-alikes that normalisation cannot fold: a dotless i (U+0131), a
  Cyrillic a (U+0430) or a Greek omicron (U+03BF) stay different letters after NFKC
  and case folding, and would let "adm\u0131n" pose as ``admin``. A project that wants
  Unicode usernames passes its own ``username_validator`` to ``Auth``.
- **Email addresses** keep Unicode (internationalised addresses are real), are checked
  by ``email-validator`` (syntax only, no DNS), and mail always goes to the address
  *stored* for the account, never to the one typed in a form: two addresses that
  merely fold alike can't receive each other's reset links.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

USERNAME_MAX_LENGTH = 150
EMAIL_MAX_LENGTH = 254
#: Longer input to a lookup is not a username or address we could have stored.
LOOKUP_MAX_LENGTH = 320

_USERNAME = re.compile(r"[A-Za-z0-9._+-]+")

#: Returns the problems with a (normalised) username; empty when it is acceptable.
UsernameValidator = Callable[[str], list[str]]


def normalize_username(raw: str) -> str:
    """Return ``raw`` as stored: NFKC-normalised, surrounding white space removed."""
    return unicodedata.normalize("NFKC", raw).strip()


def username_key(raw: str) -> str:
    """Return what usernames are compared and kept unique by (normalised, case-folded)."""
    return normalize_username(raw).casefold()


def normalize_email(raw: str) -> str:
    """Return ``raw`` NFKC-normalised and stripped, with the domain in lower case."""
    text = unicodedata.normalize("NFKC", raw).strip()
    local, at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}" if at else text


def email_key(raw: str) -> str:
    """Return what addresses are compared and kept unique by (normalised, case-folded)."""
    return normalize_email(raw).casefold()


def default_username_validator(username: str) -> list[str]:
    """Check a normalised username against the default policy (see the module docs)."""
    if not username:
        return ["Enter a username."]
    if len(username) > USERNAME_MAX_LENGTH:
        return [f"A username can have at most {USERNAME_MAX_LENGTH} characters."]
    if not _USERNAME.fullmatch(username):
        return [
            "A username may contain only English letters, digits and the characters "
            ". _ + - (no spaces, no @)."
        ]
    return []


def validate_email_address(raw: str) -> tuple[str | None, list[str]]:
    """Return ``(normalised address, [])``, or ``(None, [problems])`` for a bad address."""
    # Imported here: email-validator is needed only when an address is saved.
    from email_validator import EmailNotValidError, validate_email

    text = normalize_email(raw)
    if not text:
        return None, ["Enter an email address."]
    if len(text) > EMAIL_MAX_LENGTH:
        return None, [f"An email address can have at most {EMAIL_MAX_LENGTH} characters."]
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        return None, [f"Enter a valid email address ({exc})."]
    return normalize_email(checked.normalized), []


def is_lookup_sized(raw: str) -> bool:
    """Return whether ``raw`` is short enough to be worth a database lookup."""
    return 0 < len(raw) <= LOOKUP_MAX_LENGTH


__all__ = [
    "EMAIL_MAX_LENGTH",
    "LOOKUP_MAX_LENGTH",
    "USERNAME_MAX_LENGTH",
    "UsernameValidator",
    "default_username_validator",
    "email_key",
    "is_lookup_sized",
    "normalize_email",
    "normalize_username",
    "username_key",
    "validate_email_address",
]
