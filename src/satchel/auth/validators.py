"""Password rules: length, common passwords, all digits, too close to the username or email.

``validate_password(password, username=..., email=...)`` runs every rule and raises one
``PasswordInvalid`` carrying all the messages, so a form can show them together.

The default minimum is **15 characters**. NIST SP 800-63B-4 (2025) requires at least 15
for a password that is the only factor and allows 8 when it is one part of multi-factor
login; OWASP ASVS 5.0 asks for at least 8 and "strongly recommends" 15. Satchel's login is
single-factor, so it takes 15; a project with a second factor can pass
``MinimumLength(8)``. Lengths count Unicode code points, as NIST says.

The common-password list (``common_passwords.txt.gz``, 30,000 entries) comes from the
zxcvbn project; see ``common_passwords.NOTICE.md`` beside this file for source and licence.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from satchel.auth.passwords import MAX_PASSWORD_LENGTH

DEFAULT_MIN_LENGTH = 15
COMMON_PASSWORDS_PATH = Path(__file__).with_name("common_passwords.txt.gz")
_WORD_SPLIT = re.compile(r"\W+")


class PasswordInvalid(ValueError):
    """A password broke one or more rules; ``messages`` says which, for the user."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class PasswordValidator(Protocol):
    """One password rule."""

    @property
    def help_text(self) -> str:
        """Describe the rule to someone choosing a password."""
        ...

    def check(self, password: str, *, username: str | None, email: str | None) -> str | None:
        """Return what is wrong with ``password``, or ``None`` when it passes."""
        ...


class MinimumLength:
    """At least ``min_length`` characters."""

    def __init__(self, min_length: int = DEFAULT_MIN_LENGTH) -> None:
        if min_length < 1:
            raise ValueError(f"min_length must be positive, got {min_length}")
        self.min_length = min_length

    @property
    def help_text(self) -> str:
        """Describe the rule."""
        return f"Your password must contain at least {self.min_length} characters."

    def check(self, password: str, *, username: str | None, email: str | None) -> str | None:
        """Refuse a password shorter than the minimum."""
        if len(password) < self.min_length:
            return (
                f"This password is too short. It must contain at least {self.min_length} "
                "characters."
            )
        return None


def _too_long(max_length: int) -> str:
    return f"This password is too long. It must contain at most {max_length} characters."


class MaximumLength:
    """At most ``max_length`` characters (longer ones are refused by the hasher too)."""

    def __init__(self, max_length: int = MAX_PASSWORD_LENGTH) -> None:
        if max_length < 1:
            raise ValueError(f"max_length must be positive, got {max_length}")
        self.max_length = max_length

    @property
    def help_text(self) -> str:
        """Describe the rule."""
        return f"Your password must contain at most {self.max_length} characters."

    def check(self, password: str, *, username: str | None, email: str | None) -> str | None:
        """Refuse a password longer than the maximum."""
        if len(password) > self.max_length:
            return _too_long(self.max_length)
        return None


@lru_cache(maxsize=4)
def load_password_list(path: Path = COMMON_PASSWORDS_PATH) -> frozenset[str]:
    """Return the case-folded passwords in a (gzipped or plain) one-a-line file."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().casefold() for line in lines if line.strip())


class CommonPassword:
    """Not one of the most commonly used passwords (compared case-insensitively)."""

    def __init__(self, path: Path | str = COMMON_PASSWORDS_PATH) -> None:
        self.path = Path(path)

    @property
    def help_text(self) -> str:
        """Describe the rule."""
        return "Your password can't be a commonly used password."

    def check(self, password: str, *, username: str | None, email: str | None) -> str | None:
        """Refuse a password found in the list, ignoring case and surrounding spaces."""
        if password.strip().casefold() in load_password_list(self.path):
            return "This password is too common."
        return None


class NumericPassword:
    """Not made of digits only."""

    @property
    def help_text(self) -> str:
        """Describe the rule."""
        return "Your password can't be entirely numeric."

    def check(self, password: str, *, username: str | None, email: str | None) -> str | None:
        """Refuse a password of digits only (in any script)."""
        if password.isdigit():
            return "This password is entirely numeric."
        return None


class UserAttributeSimilarity:
    """Not too close to the username or email, or to any word in them.

    Each value and each of its words (split on non-word characters, so
    ``ann.lee@example.com`` also gives ``ann``, ``lee``, ``example``, ``com``) is compared
    with ``difflib.SequenceMatcher``; a ratio at or above ``max_similarity`` fails.
    """

    def __init__(self, max_similarity: float = 0.7) -> None:
        if not 0.1 <= max_similarity <= 1.0:
            raise ValueError(f"max_similarity must be between 0.1 and 1.0, got {max_similarity}")
        self.max_similarity = max_similarity

    @property
    def help_text(self) -> str:
        """Describe the rule."""
        return "Your password can't be too similar to your other personal information."

    def check(self, password: str, *, username: str | None, email: str | None) -> str | None:
        """Refuse a password too similar to the username, the email or a part of them."""
        lowered = password.casefold()
        for label, value in (("username", username), ("email address", email)):
            if value and self._too_similar(lowered, value.casefold()):
                return f"The password is too similar to the {label}."
        return None

    def _too_similar(self, password: str, value: str) -> bool:
        parts = {value, *(part for part in _WORD_SPLIT.split(value) if part)}
        for part in parts:
            # The ratio is 2*matches/(len(a)+len(b)), so it can't exceed this bound;
            # skipping early keeps a long password from costing len(a)*len(b) work.
            bound = 2 * min(len(password), len(part)) / (len(password) + len(part))
            if bound < self.max_similarity:
                continue
            matcher = SequenceMatcher(a=password, b=part, autojunk=False)
            if (
                matcher.quick_ratio() >= self.max_similarity
                and matcher.ratio() >= self.max_similarity
            ):
                return True
        return False


def default_validators(min_length: int = DEFAULT_MIN_LENGTH) -> tuple[PasswordValidator, ...]:
    """Return Satchel's default rules, with ``min_length`` as the minimum."""
    return (
        MinimumLength(min_length),
        MaximumLength(),
        CommonPassword(),
        NumericPassword(),
        UserAttributeSimilarity(),
    )


DEFAULT_VALIDATORS: tuple[PasswordValidator, ...] = default_validators()


def validate_password(
    password: str,
    *,
    username: str | None = None,
    email: str | None = None,
    validators: Sequence[PasswordValidator] | None = None,
) -> None:
    """Raise ``PasswordInvalid`` with every broken rule's message, or return ``None``.

    A password over ``MAX_PASSWORD_LENGTH`` is refused with that message alone, before
    the other rules look at it.
    """
    if not isinstance(password, str):
        raise TypeError(f"a password must be str, not {type(password).__name__}")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordInvalid([_too_long(MAX_PASSWORD_LENGTH)])
    rules = DEFAULT_VALIDATORS if validators is None else validators
    messages = []
    for rule in rules:
        message = rule.check(password, username=username, email=email)
        if message is not None:
            messages.append(message)
    if messages:
        raise PasswordInvalid(messages)


def password_help_texts(validators: Sequence[PasswordValidator] | None = None) -> list[str]:
    """Return each rule's help text, for a form's hint."""
    rules = DEFAULT_VALIDATORS if validators is None else validators
    return [rule.help_text for rule in rules]


__all__ = [
    "COMMON_PASSWORDS_PATH",
    "DEFAULT_MIN_LENGTH",
    "DEFAULT_VALIDATORS",
    "CommonPassword",
    "MaximumLength",
    "MinimumLength",
    "NumericPassword",
    "PasswordInvalid",
    "PasswordValidator",
    "UserAttributeSimilarity",
    "default_validators",
    "load_password_list",
    "password_help_texts",
    "validate_password",
]
