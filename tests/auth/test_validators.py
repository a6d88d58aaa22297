"""Password rules: each alone, together, and against hostile input."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest

from satchel.auth.validators import (
    COMMON_PASSWORDS_PATH,
    DEFAULT_MIN_LENGTH,
    CommonPassword,
    MaximumLength,
    MinimumLength,
    NumericPassword,
    PasswordInvalid,
    UserAttributeSimilarity,
    default_validators,
    load_password_list,
    password_help_texts,
    validate_password,
)

GOOD = "violet kettle drums at noon"


def problems(password: str, **kwargs: str) -> list[str]:
    try:
        validate_password(password, **kwargs)  # type: ignore[arg-type]
    except PasswordInvalid as exc:
        return exc.messages
    return []


def test_a_good_password_passes() -> None:
    assert validate_password(GOOD, username="ann", email="ann@example.com") is None


def test_default_minimum_is_fifteen() -> None:
    assert DEFAULT_MIN_LENGTH == 15
    assert problems("x7#kQ9!mZ2@vL4") == [
        "This password is too short. It must contain at least 15 characters."
    ]
    assert problems("x7#kQ9!mZ2@vL4$") == []


def test_minimum_counts_code_points() -> None:
    rule = MinimumLength(3)
    assert rule.check("\U0001f511\U0001f511\U0001f511", username=None, email=None) is None
    assert rule.check("\U0001f511\U0001f511", username=None, email=None) is not None


def test_minimum_can_be_lowered_for_mfa_projects() -> None:
    rules = default_validators(min_length=8)
    validate_password("x7#kQ9!m", validators=rules)
    with pytest.raises(PasswordInvalid):
        validate_password("x7#kQ9!", validators=rules)


def test_every_broken_rule_is_reported_at_once() -> None:
    messages = problems("1234")
    assert messages == [
        "This password is too short. It must contain at least 15 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ]
    with pytest.raises(PasswordInvalid) as caught:
        validate_password("1234")
    assert isinstance(caught.value, ValueError)
    assert "too common" in str(caught.value)


@pytest.mark.parametrize("password", ["password", "PassWord", "  qwerty  ", "DRAGON", "Iloveyou"])
def test_common_passwords_are_refused_ignoring_case(password: str) -> None:
    rule = CommonPassword()
    assert rule.check(password, username=None, email=None) == "This password is too common."


def test_the_shipped_list_is_the_real_one() -> None:
    with gzip.open(COMMON_PASSWORDS_PATH, "rt", encoding="utf-8") as lines:
        first = [next(lines).strip() for _ in range(5)]
    assert first == ["123456", "password", "12345678", "qwerty", "123456789"]
    words = load_password_list()
    assert len(words) == 30000
    assert "letmein" in words and "trustno1" in words
    assert GOOD not in words
    assert (COMMON_PASSWORDS_PATH.parent / "common_passwords.NOTICE.md").exists()


def test_a_project_can_use_its_own_list(tmp_path: Path) -> None:
    own = tmp_path / "words.txt"
    own.write_text("Hunter2Forever\nopen sesame please\n", encoding="utf-8")
    rule = CommonPassword(own)
    assert rule.check("hunter2forever", username=None, email=None) is not None
    assert rule.check("password", username=None, email=None) is None


@pytest.mark.parametrize(
    "password", ["123456789012345678", "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦", "１２３４５６７８９０１２３４５"]
)
def test_all_digit_passwords_in_any_script_are_refused(password: str) -> None:
    assert "This password is entirely numeric." in problems(password)


def test_digits_with_anything_else_pass_the_numeric_rule() -> None:
    rule = NumericPassword()
    assert rule.check("1234567890123456a", username=None, email=None) is None


@pytest.mark.parametrize(
    ("password", "kwargs", "message"),
    [
        ("annabelle-smith-1", {"username": "annabelle_smith"}, "username"),
        ("AnnabelleSmith!!", {"username": "annabellesmith"}, "username"),
        ("bartholomew2024", {"email": "bartholomew@example.com"}, "email address"),
        ("Ann.Lee@Example.org!", {"email": "ann.lee@example.org"}, "email address"),
    ],
)
def test_passwords_close_to_username_or_email_are_refused(
    password: str, kwargs: dict[str, str], message: str
) -> None:
    found = problems(password, **kwargs)
    assert f"The password is too similar to the {message}." in found


def test_unrelated_password_is_not_similar() -> None:
    rule = UserAttributeSimilarity()
    assert rule.check(GOOD, username="annabelle", email="annabelle@example.com") is None
    assert rule.check(GOOD, username=None, email=None) is None
    assert rule.check(GOOD, username="", email="") is None


def test_similarity_threshold_is_checked() -> None:
    with pytest.raises(ValueError, match="max_similarity"):
        UserAttributeSimilarity(0.05)
    strict = UserAttributeSimilarity(1.0)
    assert strict.check("annabelle", username="annabelle", email=None) is not None
    assert strict.check("annabelle1", username="annabelle", email=None) is None


def test_long_password_against_long_attribute_is_fast() -> None:
    rule = UserAttributeSimilarity()
    password = "ab" * 2048  # at the maximum length
    started = time.perf_counter()
    rule.check(password, username="a" * 150, email=("b" * 60 + "@" + "c" * 60 + ".com"))
    assert time.perf_counter() - started < 0.5


def test_maximum_length() -> None:
    rule = MaximumLength(20)
    assert rule.check("x" * 20, username=None, email=None) is None
    assert rule.check("x" * 21, username=None, email=None) == (
        "This password is too long. It must contain at most 20 characters."
    )


def test_megabyte_password_is_refused_fast_with_one_message() -> None:
    huge = "Aa1!" * (256 * 1024)
    started = time.perf_counter()
    assert problems(huge, username="ann", email="ann@example.com") == [
        "This password is too long. It must contain at most 4096 characters."
    ]
    assert time.perf_counter() - started < 0.05


def test_custom_rules_and_help_texts() -> None:
    class NoSpaces:
        help_text = "No spaces."

        def check(self, password: str, *, username: str | None, email: str | None) -> str | None:
            return "Spaces are not allowed." if " " in password else None

    rules = [NoSpaces(), MinimumLength(4)]
    with pytest.raises(PasswordInvalid) as caught:
        validate_password("a b", validators=rules)
    assert caught.value.messages == [
        "Spaces are not allowed.",
        "This password is too short. It must contain at least 4 characters.",
    ]
    assert password_help_texts(rules) == [
        "No spaces.",
        "Your password must contain at least 4 characters.",
    ]
    assert len(password_help_texts()) == 5
    assert all(text.endswith(".") for text in password_help_texts())


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="min_length"):
        MinimumLength(0)
    with pytest.raises(ValueError, match="max_length"):
        MaximumLength(0)
    with pytest.raises(TypeError, match="must be str"):
        validate_password(None)  # type: ignore[arg-type]


def test_script_and_sql_payloads_are_just_text() -> None:
    assert problems("<script>alert(1)</script>") == []
    assert problems("' OR 1=1; DROP TABLE users; --") == []
