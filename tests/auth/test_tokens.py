"""Reset tokens (signed, expiring, bound to the user's state) and API tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from satchel.auth.tokens import (
    ApiToken,
    ResetTokens,
    api_token_length,
    bearer_token,
    check_reset_token,
    generate_api_token,
    hash_api_token,
    make_reset_token,
    parse_api_token,
    verify_api_token,
)

KEY = "reset-test-key"
PW_HASH = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"
LOGIN = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(clock: Clock) -> ResetTokens:
    return ResetTokens(KEY, clock=clock)


# -- reset tokens ----------------------------------------------------------------------


def test_token_works_for_its_user_in_the_same_state(tokens: ResetTokens) -> None:
    token = tokens.make(42, PW_HASH, LOGIN)
    assert re.fullmatch(r"[A-Za-z0-9_.\-]+", token)  # safe in a URL path
    assert tokens.user_id(token) == "42"
    assert tokens.check(token, 42, PW_HASH, LOGIN)
    assert tokens.check(token, "42", PW_HASH, LOGIN)  # ids compare as text


def test_token_stops_working_after_the_password_changes(tokens: ResetTokens) -> None:
    token = tokens.make(42, PW_HASH, LOGIN)
    assert not tokens.check(token, 42, PW_HASH + "x", LOGIN)
    assert not tokens.check(token, 42, "!unusable", LOGIN)


def test_token_stops_working_after_a_login(tokens: ResetTokens) -> None:
    never = tokens.make(42, PW_HASH, None)
    assert tokens.check(never, 42, PW_HASH, None)
    assert not tokens.check(never, 42, PW_HASH, LOGIN)
    token = tokens.make(42, PW_HASH, LOGIN)
    assert not tokens.check(token, 42, PW_HASH, LOGIN + timedelta(seconds=1))


def test_token_for_another_user_fails(tokens: ResetTokens) -> None:
    token = tokens.make(42, PW_HASH, LOGIN)
    assert not tokens.check(token, 43, PW_HASH, LOGIN)
    assert not tokens.check(token, "420", PW_HASH, LOGIN)
    # Same state, other user: the fingerprint includes the id too.
    other = tokens.make(7, PW_HASH, LOGIN)
    assert tokens.user_id(other) == "7"
    assert not tokens.check(other, 42, PW_HASH, LOGIN)


def test_token_expires(tokens: ResetTokens, clock: Clock) -> None:
    token = tokens.make(42, PW_HASH, LOGIN)
    clock.now += 3600
    assert tokens.check(token, 42, PW_HASH, LOGIN)
    clock.now += 1
    assert not tokens.check(token, 42, PW_HASH, LOGIN)
    assert tokens.user_id(token) is None


def test_token_from_the_future_is_refused(tokens: ResetTokens, clock: Clock) -> None:
    token = tokens.make(42, PW_HASH, LOGIN)
    clock.now -= 120
    assert not tokens.check(token, 42, PW_HASH, LOGIN)


def test_configurable_max_age(clock: Clock) -> None:
    short = ResetTokens(KEY, max_age=60, clock=clock)
    token = short.make(1, PW_HASH, None)
    clock.now += 61
    assert not short.check(token, 1, PW_HASH, None)


def test_tampered_tokens_fail(tokens: ResetTokens) -> None:
    token = tokens.make(42, PW_HASH, LOGIN)
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    payload, _, rest = token.partition(".")
    forged = tokens.make(43, PW_HASH, LOGIN).partition(".")[0] + "." + rest
    for bad in (flipped, forged, token + "x", token[:-1], "", "garbage", "a.b.c", payload):
        assert not tokens.check(bad, 42, PW_HASH, LOGIN), bad
        assert tokens.user_id(bad) is None


def test_hostile_token_sizes_and_types(tokens: ResetTokens) -> None:
    assert not tokens.check("A" * 1_000_000, 42, PW_HASH, LOGIN)
    assert not tokens.check("\ud800\x00<script>", 42, PW_HASH, LOGIN)
    assert tokens.user_id(None) is None  # type: ignore[arg-type]


def test_other_key_or_salt_fails(clock: Clock) -> None:
    token = ResetTokens(KEY, clock=clock).make(42, PW_HASH, LOGIN)
    assert not ResetTokens("another key", clock=clock).check(token, 42, PW_HASH, LOGIN)
    other_purpose = ResetTokens(KEY, salt="email-confirm", clock=clock)
    assert not other_purpose.check(token, 42, PW_HASH, LOGIN)


def test_key_rotation(clock: Clock) -> None:
    old = ResetTokens("old key", clock=clock).make(42, PW_HASH, LOGIN)
    rotated = ResetTokens(["old key", "new key"], clock=clock)
    assert rotated.check(old, 42, PW_HASH, LOGIN)
    fresh = rotated.make(42, PW_HASH, LOGIN)
    assert ResetTokens("new key", clock=clock).check(fresh, 42, PW_HASH, LOGIN)
    assert not ResetTokens("old key", clock=clock).check(fresh, 42, PW_HASH, LOGIN)


def test_from_settings_uses_key_and_fallbacks() -> None:
    settings = SimpleNamespace(
        secret_key=SecretStr("current"), secret_key_fallbacks=[SecretStr("previous")]
    )
    tokens = ResetTokens.from_settings(settings)
    old = ResetTokens("previous").make(1, PW_HASH, None)
    assert tokens.check(old, 1, PW_HASH, None)
    assert ResetTokens("current").check(tokens.make(1, PW_HASH, None), 1, PW_HASH, None)


def test_last_login_survives_a_database_round_trip(tokens: ResetTokens) -> None:
    token = tokens.make(42, PW_HASH, LOGIN)
    # MySQL DATETIME drops microseconds; SQLite may hand back a naive UTC value; another
    # driver an aware value in another zone. All are the same login.
    assert tokens.check(token, 42, PW_HASH, LOGIN.replace(microsecond=0))
    assert tokens.check(token, 42, PW_HASH, LOGIN.replace(tzinfo=None))
    plus_two = timezone(timedelta(hours=2))
    assert tokens.check(token, 42, PW_HASH, LOGIN.astimezone(plus_two))


def test_payload_does_not_contain_the_password_hash(tokens: ResetTokens) -> None:
    import base64

    token = tokens.make(42, PW_HASH, LOGIN)
    payload = token.partition(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b"argon2" not in decoded and b"42" in decoded


def test_function_forms(clock: Clock) -> None:
    token = make_reset_token(5, PW_HASH, None, KEY)
    assert check_reset_token(token, 5, PW_HASH, None, KEY)
    assert not check_reset_token(token, 5, PW_HASH, None, "wrong")
    assert not check_reset_token(token, 6, PW_HASH, None, KEY)


def test_bad_configuration() -> None:
    with pytest.raises(ValueError, match="secret key"):
        ResetTokens("")
    with pytest.raises(ValueError, match="secret key"):
        ResetTokens([])
    with pytest.raises(ValueError, match="max_age"):
        ResetTokens(KEY, max_age=0)


# -- API tokens ------------------------------------------------------------------------


def test_generated_token_shape() -> None:
    token = generate_api_token()
    assert isinstance(token, ApiToken)
    assert token.plaintext.startswith("stl_")
    assert len(token.plaintext) == api_token_length() == 54
    assert re.fullmatch(r"stl_[0-9A-Za-z]{50}", token.plaintext)
    assert token.token_hash == hash_api_token(token.plaintext)
    assert re.fullmatch(r"[0-9a-f]{64}", token.token_hash)
    assert token.plaintext not in token.token_hash
    assert parse_api_token(token.plaintext) == token.lookup_id
    assert token.plaintext[4:16] == token.lookup_id


def test_tokens_are_unique() -> None:
    made = [generate_api_token() for _ in range(200)]
    assert len({t.plaintext for t in made}) == 200
    assert len({t.lookup_id for t in made}) == 200


def test_verify_is_exact() -> None:
    token = generate_api_token()
    assert verify_api_token(token.plaintext, token.token_hash)
    other = "0" if token.plaintext[-1] != "0" else "1"  # a different last character
    assert not verify_api_token(token.plaintext[:-1] + other, token.token_hash)
    assert not verify_api_token(token.plaintext, generate_api_token().token_hash)


def test_custom_prefix() -> None:
    token = generate_api_token("acme_")
    assert parse_api_token(token.plaintext, "acme_") == token.lookup_id
    assert parse_api_token(token.plaintext) is None
    for bad in ("", "acme", "Acme_", "a-b_", "x" * 17 + "_"):
        with pytest.raises(ValueError, match="prefix"):
            generate_api_token(bad)


def test_wrong_prefix_length_alphabet_or_checksum_is_refused_before_lookup() -> None:
    good = generate_api_token().plaintext
    body = good[4:]
    swapped = good[:20] + ("a" if good[20] != "a" else "b") + good[21:]
    cases = [
        "ghp_" + body,  # another service's prefix
        "STL_" + body,
        good[:-1],  # short
        good + "0",  # long
        good[:30] + "-" + good[31:],  # outside base62
        good[:30] + "\u0660" + good[31:],  # Arabic-Indic zero: a digit, not ours
        swapped,  # one character changed: checksum fails
        "",
        " " + good[1:],
        "stl_" + "0" * 50,
    ]
    for bad in cases:
        assert parse_api_token(bad) is None, bad
    assert parse_api_token(None) is None  # type: ignore[arg-type]
    assert parse_api_token("stl_" + "A" * 1_000_000) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer stl_abc", "stl_abc"),
        ("bearer stl_abc", "stl_abc"),
        ("BEARER   stl_abc  ", "stl_abc"),
        ("Basic dXNlcjpwdw==", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer a b", None),
        ("Bearer stl_\u00e9", None),
        ("Bearer stl_abc\r\nX-Evil: 1", None),
        ("Token stl_abc", None),
        ("", None),
        (None, None),
        ("Bearer " + "a" * 5000, None),
    ],
)
def test_bearer_token(header: str | None, expected: str | None) -> None:
    assert bearer_token(header) == expected
