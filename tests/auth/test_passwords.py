"""Password hashing: argon2id, Django hashes, limits, unusable passwords, equal work for nobody."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import argon2
import pytest

from satchel.auth.passwords import (
    DEFAULT_HASHER,
    MAX_PASSWORD_LENGTH,
    PasswordHasher,
    acheck_password,
    adummy_check,
    amake_password,
    check_password,
    dummy_check,
    is_password_usable,
    make_password,
    make_unusable_password,
    needs_rehash,
)

#: Cheap parameters so most tests run in microseconds (and are flagged as weak).
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

# Made by Django 5.2's own hashers (django.contrib.auth.hashers), copied here so the
# tests need no Django install.
DJANGO_PBKDF2_1000 = (
    "pbkdf2_sha256$1000$S4ltS4ltS4ltS4ltS4lt12$lVT4tZQsxdwjBV1+qnXl4w7XRXg2P/4mISOglILzM1g="
)
DJANGO_PBKDF2_DEFAULT_UNICODE = (  # "pässwörd ünïcode", Django's default 1,000,000 iterations
    "pbkdf2_sha256$1000000$epLZlmcM3KV1l5Q3pfqGoK$+E5dvnKAF3lLLYMcJRDpy2TtMGyufbYXwDmriyvemNc="
)
DJANGO_ARGON2 = (  # Django's Argon2PasswordHasher with t=1, m=1024, p=1 (cheap to test)
    "argon2$argon2id$v=19$m=1024,t=1,p=1$OEtneGZmZ3Y4THJROVJBNDRTYkpucw"
    "$nKMKVIR6ilQqWByFpnhGfVFfitvDxuqdNUzFxJe8ZnY"
)
DJANGO_PASSWORD = "correct horse battery"


# -- argon2id --------------------------------------------------------------------------


def test_default_parameters_meet_owasp_and_are_in_the_hash() -> None:
    assert not DEFAULT_HASHER.below_recommendation
    assert DEFAULT_HASHER.memory_cost >= 19456 and DEFAULT_HASHER.time_cost >= 2
    encoded = make_password("correct horse battery staple")
    assert encoded.startswith("$argon2id$v=19$m=65536,t=2,p=1$")
    assert check_password("correct horse battery staple", encoded)
    assert not needs_rehash(encoded)


def test_weak_parameters_are_flagged() -> None:
    assert FAST.below_recommendation
    assert PasswordHasher(time_cost=1, memory_cost=47104).below_recommendation is False
    assert PasswordHasher(time_cost=5, memory_cost=7168).below_recommendation is False
    assert PasswordHasher(time_cost=2, memory_cost=19456).below_recommendation is False
    assert PasswordHasher(time_cost=2, memory_cost=16384).below_recommendation is True
    assert PasswordHasher(time_cost=9, memory_cost=6144).below_recommendation is True


def test_round_trip_and_wrong_password() -> None:
    encoded = FAST.hash("s3cret passphrase")
    assert FAST.verify("s3cret passphrase", encoded)
    assert not FAST.verify("s3cret passphrasE", encoded)
    assert not FAST.verify("", encoded)


def test_each_hash_has_its_own_salt() -> None:
    first, second = FAST.hash("same"), FAST.hash("same")
    assert first != second
    assert FAST.verify("same", first) and FAST.verify("same", second)


def test_empty_password_hashes_like_any_other() -> None:
    encoded = FAST.hash("")
    assert FAST.verify("", encoded)
    assert not FAST.verify(" ", encoded)


def test_needs_rehash_when_parameters_change() -> None:
    old = FAST.hash("pw")
    assert needs_rehash(old)  # default hasher has other parameters
    assert not FAST.needs_rehash(old)
    assert check_password("pw", old)  # still verifies with the default hasher


def test_argon2i_hash_verifies_and_asks_for_rehash() -> None:
    legacy = argon2.PasswordHasher(time_cost=1, memory_cost=1024, type=argon2.Type.I).hash("pw")
    assert legacy.startswith("$argon2i$")
    assert FAST.verify("pw", legacy)
    assert FAST.needs_rehash(legacy)


# -- Django hashes ---------------------------------------------------------------------


def test_django_pbkdf2_verifies_and_asks_for_upgrade() -> None:
    assert check_password(DJANGO_PASSWORD, DJANGO_PBKDF2_1000)
    assert not check_password(DJANGO_PASSWORD + "!", DJANGO_PBKDF2_1000)
    assert needs_rehash(DJANGO_PBKDF2_1000)


def test_django_default_pbkdf2_with_unicode_password() -> None:
    assert check_password("pässwörd ünïcode", DJANGO_PBKDF2_DEFAULT_UNICODE)


def test_django_argon2_format_verifies_and_asks_for_upgrade() -> None:
    assert check_password(DJANGO_PASSWORD, DJANGO_ARGON2)
    assert not check_password("wrong", DJANGO_ARGON2)
    assert needs_rehash(DJANGO_ARGON2)


@pytest.mark.parametrize(
    "encoded",
    [
        "pbkdf2_sha256$1000$salt",  # too few fields
        "pbkdf2_sha256$abc$salt$lVT4tZQsxdwjBV1+qnXl4w7XRXg2P/4mISOglILzM1g=",
        "pbkdf2_sha256$-5$salt$lVT4tZQsxdwjBV1+qnXl4w7XRXg2P/4mISOglILzM1g=",
        "pbkdf2_sha256$0$salt$lVT4tZQsxdwjBV1+qnXl4w7XRXg2P/4mISOglILzM1g=",
        "pbkdf2_sha256$1000$S4ltS4ltS4ltS4ltS4lt12$not base64!!",
        "pbkdf2_sha256$1000$S4ltS4ltS4ltS4ltS4lt12$c2hvcnQ=",  # wrong digest length
        "pbkdf2_sha256$１０００$S4ltS4ltS4ltS4ltS4lt12$lVT4tZQsxdwjBV1+qnXl4w7XRXg2P/4mISOglILzM1g=",
        "md5$salt$abcdef",
        "$argon2id$v=19$m=65536,t=2,p=1$garbage",
        "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$ä",
        "plain text password",
    ],
)
def test_malformed_or_unknown_hashes_do_not_match(encoded: str) -> None:
    assert check_password(DJANGO_PASSWORD, encoded, hasher=FAST) is False
    assert needs_rehash(encoded, hasher=FAST)


def test_hostile_cost_in_a_stored_hash_is_refused_without_the_work() -> None:
    pbkdf2 = "pbkdf2_sha256$999999999999$salt$lVT4tZQsxdwjBV1+qnXl4w7XRXg2P/4mISOglILzM1g="
    huge_memory = FAST.hash("pw").replace("m=1024", "m=4194304")  # 4 GiB
    started = time.perf_counter()
    assert not check_password("pw", pbkdf2)
    assert not check_password("pw", huge_memory)
    assert time.perf_counter() - started < 0.5


# -- limits and hostile input ----------------------------------------------------------


def test_megabyte_password_is_refused_fast() -> None:
    huge = "a" * (1024 * 1024)
    encoded = FAST.hash("a")
    started = time.perf_counter()
    assert check_password(huge, encoded) is False
    assert check_password(huge, DJANGO_PBKDF2_1000) is False
    assert dummy_check(huge) is False
    assert time.perf_counter() - started < 0.05
    with pytest.raises(ValueError, match="longer than 4096"):
        make_password(huge)


def test_length_limit_is_inclusive() -> None:
    at_limit = "x" * MAX_PASSWORD_LENGTH
    encoded = FAST.hash(at_limit)
    assert FAST.verify(at_limit, encoded)
    assert not FAST.verify(at_limit + "x", encoded)
    with pytest.raises(ValueError, match="password refused"):
        FAST.hash(at_limit + "x")


def test_lone_surrogate_is_refused_not_crashing() -> None:
    encoded = FAST.hash("abc")
    assert FAST.verify("abc\ud800", encoded) is False
    with pytest.raises(ValueError, match="not valid Unicode"):
        FAST.hash("abc\ud800")


def test_passwords_are_not_normalised() -> None:
    # The user model NFKC-normalises usernames; passwords are compared exactly.
    assert not FAST.verify("pass\u0131ord", FAST.hash("passiord"))  # dotless i
    assert not FAST.verify("\uff21BC", FAST.hash("ABC"))  # full-width A
    assert not FAST.verify("cafe\u0301", FAST.hash("caf\u00e9"))  # NFD vs NFC
    assert not FAST.verify("ABC", FAST.hash("abc"))
    assert FAST.verify("caf\u00e9 \U0001f511", FAST.hash("caf\u00e9 \U0001f511"))


@pytest.mark.parametrize("raw", [None, b"bytes", 12345])
def test_non_string_password_is_a_type_error(raw: Any) -> None:
    with pytest.raises(TypeError, match="must be str"):
        make_password(raw, hasher=FAST)
    with pytest.raises(TypeError, match="must be str"):
        check_password(raw, FAST.hash("x"), hasher=FAST)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="argon2 needs"):
        PasswordHasher(time_cost=0)
    with pytest.raises(ValueError, match="argon2 needs"):
        PasswordHasher(memory_cost=8, parallelism=4)
    with pytest.raises(ValueError, match="max_length"):
        PasswordHasher(max_length=0)


# -- unusable passwords ----------------------------------------------------------------


def test_unusable_passwords_never_match() -> None:
    first, second = make_unusable_password(), make_unusable_password()
    assert first.startswith("!") and len(first) == 41 and first != second
    assert not is_password_usable(first)
    assert not check_password(first, first, hasher=FAST)
    assert not check_password("", first, hasher=FAST)
    assert not FAST.needs_rehash(first)


def test_usable_or_not() -> None:
    assert is_password_usable(FAST.hash("x"))
    assert is_password_usable(DJANGO_PBKDF2_1000)
    assert not is_password_usable(None)
    assert not is_password_usable("")
    assert not check_password("x", None, hasher=FAST)
    assert not check_password("x", "", hasher=FAST)


# -- the same work for an unknown user -------------------------------------------------


def test_dummy_check_returns_false_and_is_prepared_once() -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024)
    hasher.prepare()
    fixed = hasher.dummy_hash()
    assert hasher.dummy_verify("anything") is False
    assert hasher.dummy_hash() == fixed
    assert fixed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")


def _median_time(func: Any, *args: Any, rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        func(*args)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_unknown_user_costs_about_the_same_as_a_wrong_password() -> None:
    hasher = PasswordHasher(time_cost=2, memory_cost=19456)  # OWASP's minimum: real work
    stored = hasher.hash("the user's real password")
    hasher.prepare()
    known = _median_time(hasher.verify, "a wrong guess", stored)
    unknown = _median_time(hasher.dummy_verify, "a wrong guess")
    unusable = _median_time(hasher.verify, "a wrong guess", make_unusable_password())
    # Generous bounds: a shared, noisy machine. Without the dummy work, "unknown"
    # would be microseconds against tens of milliseconds.
    assert known / 3 < unknown < known * 3, (known, unknown)
    assert known / 3 < unusable < known * 3, (known, unusable)


# -- async -----------------------------------------------------------------------------


async def test_async_wrappers() -> None:
    encoded = await amake_password("async pw", hasher=FAST)
    assert await acheck_password("async pw", encoded, hasher=FAST)
    assert not await acheck_password("nope", encoded, hasher=FAST)
    assert await adummy_check("nope", hasher=FAST) is False


async def test_async_uses_the_given_run_sync() -> None:
    calls: list[str] = []

    async def run_sync(func: Any, *args: Any) -> Any:
        calls.append(func.__name__)
        return await asyncio.to_thread(func, *args)

    encoded = await amake_password("pw", hasher=FAST, run_sync=run_sync)
    assert await acheck_password("pw", encoded, hasher=FAST, run_sync=run_sync)
    await adummy_check("pw", hasher=FAST, run_sync=run_sync)
    assert calls == ["hash", "verify", "dummy_verify"]


async def test_async_refuses_over_long_input_without_a_thread() -> None:
    async def run_sync(func: Any, *args: Any) -> Any:
        raise AssertionError("no thread for input refused up front")

    huge = "a" * (MAX_PASSWORD_LENGTH + 1)
    assert not await acheck_password(huge, FAST.hash("a"), hasher=FAST, run_sync=run_sync)
    assert not await adummy_check(huge, hasher=FAST, run_sync=run_sync)


async def test_async_check_does_not_block_the_event_loop() -> None:
    hasher = PasswordHasher(time_cost=2, memory_cost=19456)
    encoded = hasher.hash("pw")
    ticks = 0
    done = False

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            await asyncio.sleep(0.002)
            ticks += 1

    task = asyncio.create_task(ticker())
    for _ in range(3):
        assert await acheck_password("pw", encoded, hasher=hasher)
    done = True
    await task
    assert ticks >= 5
