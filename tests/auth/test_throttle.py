"""Login throttling: memory store (bounded) and Redis store (shared across processes)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from satchel.auth.throttle import (
    MemoryThrottleStore,
    RedisThrottleStore,
    Throttle,
    ThrottleResult,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the throttle over the memory store ------------------------------------------------


async def test_allows_limit_hits_then_refuses_with_retry_after() -> None:
    clock = Clock()
    throttle = Throttle(MemoryThrottleStore(clock=clock), limit=3, window=60)
    results = [await throttle.hit("ann") for _ in range(3)]
    assert all(r.allowed and r.retry_after == 0 for r in results)
    assert [r.hits for r in results] == [1, 2, 3]
    clock.now += 10
    refused = await throttle.hit("ann")
    assert refused == ThrottleResult(False, 50, 4)
    clock.now += 49.5
    assert (await throttle.hit("ann")).retry_after == 1  # rounded up, never 0
    clock.now += 0.5
    assert (await throttle.hit("ann")).allowed  # the window closed: a fresh count


async def test_keys_and_scopes_are_separate() -> None:
    store = MemoryThrottleStore()
    users = Throttle(store, limit=1, window=60, scope="user")
    addresses = Throttle(store, limit=1, window=60, scope="addr")
    assert (await users.hit("ann")).allowed
    assert not (await users.hit("ann")).allowed
    assert (await users.hit("bob")).allowed
    assert (await addresses.hit("ann")).allowed  # same key, other scope


async def test_reset_forgets_a_key() -> None:
    throttle = Throttle(MemoryThrottleStore(), limit=1, window=60)
    await throttle.hit("ann")
    assert not (await throttle.hit("ann")).allowed
    await throttle.reset("ann")
    assert (await throttle.hit("ann")).allowed
    await throttle.reset("never-seen")  # no error


async def test_lockout_starts_when_the_limit_is_passed() -> None:
    clock = Clock()
    throttle = Throttle(MemoryThrottleStore(clock=clock), limit=2, window=10, lockout=900)
    await throttle.hit("ann")
    await throttle.hit("ann")
    clock.now += 5
    refused = await throttle.hit("ann")
    assert not refused.allowed and refused.retry_after == 900
    clock.now += 100
    again = await throttle.hit("ann")  # further hits do not extend the lockout
    assert not again.allowed and again.retry_after == 800
    clock.now += 800
    assert (await throttle.hit("ann")).allowed


async def test_memory_store_is_bounded_and_evicts_the_least_recently_hit() -> None:
    store = MemoryThrottleStore(max_keys=100)
    throttle = Throttle(store, limit=1, window=60)
    await throttle.hit("attacked")
    await throttle.hit("attacked")
    for n in range(99):
        await throttle.hit(f"spray-{n}")
    assert not (await throttle.hit("attacked")).allowed  # recently hit: kept
    for n in range(5000):
        await throttle.hit(f"flood-{n}")
    assert len(store) == 100
    assert (await throttle.hit("attacked")).allowed  # forgotten, as documented


async def test_hostile_keys() -> None:
    throttle = Throttle(MemoryThrottleStore(), limit=1, window=60)
    for key in ("", "a" * 1_000_000, "\ud800", "ann\0admin", "Ａnn", "' OR 1=1 --"):
        assert (await throttle.hit(key)).allowed
        assert not (await throttle.hit(key)).allowed
    assert (await throttle.hit("ann")).allowed  # "Ａnn" (full-width) is another key


async def test_concurrent_hits_count_exactly() -> None:
    throttle = Throttle(MemoryThrottleStore(), limit=10, window=60)
    results = await asyncio.gather(*(throttle.hit("ann") for _ in range(50)))
    assert sum(r.allowed for r in results) == 10


def test_bad_configuration() -> None:
    store = MemoryThrottleStore()
    with pytest.raises(ValueError, match="limit"):
        Throttle(store, limit=0)
    with pytest.raises(ValueError, match="positive"):
        Throttle(store, window=0)
    with pytest.raises(ValueError, match="positive"):
        Throttle(store, lockout=-1)
    with pytest.raises(ValueError, match="max_keys"):
        MemoryThrottleStore(max_keys=0)


# -- Redis -----------------------------------------------------------------------------


def redis_url() -> str:
    """Return the test Redis URL; skip when unset or down, fail when CI=true and down."""
    url = os.environ.get("SATCHEL_TEST_REDIS_URL")
    if not url:
        pytest.skip("SATCHEL_TEST_REDIS_URL is not set")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"SATCHEL_TEST_REDIS_URL={url} is unreachable under CI: {exc}")
        pytest.skip(f"SATCHEL_TEST_REDIS_URL={url} is unreachable: {exc}")
    return url


@pytest.fixture
async def redis_store() -> AsyncIterator[RedisThrottleStore]:
    prefix = f"satchel-test:throttle:{uuid.uuid4().hex}:"
    store = RedisThrottleStore(redis_url(), prefix=prefix)
    try:
        yield store
    finally:
        keys = [key async for key in store.client.scan_iter(match=prefix + "*")]
        if keys:
            await store.client.delete(*keys)
        await store.aclose()


async def test_redis_store_counts_and_expires(redis_store: RedisThrottleStore) -> None:
    throttle = Throttle(redis_store, limit=2, window=0.3)
    assert (await throttle.hit("ann")).allowed
    assert (await throttle.hit("ann")).allowed
    refused = await throttle.hit("ann")
    assert not refused.allowed and refused.retry_after == 1 and refused.hits == 3
    await asyncio.sleep(0.35)
    assert (await throttle.hit("ann")).hits == 1


async def test_redis_store_lockout_and_reset(redis_store: RedisThrottleStore) -> None:
    throttle = Throttle(redis_store, limit=1, window=60, lockout=600)
    await throttle.hit("ann")
    refused = await throttle.hit("ann")
    assert not refused.allowed and 599 <= refused.retry_after <= 600
    await throttle.reset("ann")
    assert (await throttle.hit("ann")).allowed


async def test_redis_keys_are_hashed(redis_store: RedisThrottleStore) -> None:
    throttle = Throttle(redis_store, limit=5, window=60)
    await throttle.hit("ann@example.com")
    keys = [key async for key in redis_store.client.scan_iter(match=redis_store.prefix + "*")]
    assert len(keys) == 1
    assert b"ann" not in keys[0] and len(keys[0]) == len(redis_store.prefix) + 64


async def test_redis_store_accepts_a_client() -> None:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url())
    prefix = f"satchel-test:throttle:{uuid.uuid4().hex}:"
    store = RedisThrottleStore(client, prefix=prefix)
    try:
        assert (await Throttle(store, limit=1).hit("x")).allowed
        await store.reset("login\0x")
        await store.aclose()  # not ours: stays open
        assert await client.ping()
    finally:
        await client.aclose()


_WORKER = """
import asyncio, json, sys
from satchel.auth.throttle import RedisThrottleStore, Throttle

async def main(url, prefix, start_file, hits):
    store = RedisThrottleStore(url, prefix=prefix)
    throttle = Throttle(store, limit=10, window=60)
    await store.client.ping()
    while not __import__("os").path.exists(start_file):
        await asyncio.sleep(0.005)
    results = [await throttle.hit("shared-user") for _ in range(hits)]
    await store.aclose()
    print(json.dumps([[r.allowed, r.hits] for r in results]))

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


def test_redis_count_is_shared_between_processes(tmp_path: Path) -> None:
    url = redis_url()
    prefix = f"satchel-test:throttle:{uuid.uuid4().hex}:"
    start = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, prefix, str(start), "8"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    start.touch()  # both start hitting at the same moment
    outputs = [json.loads(worker.communicate(timeout=60)[0]) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    hits = sorted(n for output in outputs for _, n in output)
    allowed = sum(ok for output in outputs for ok, _ in output)
    assert hits == list(range(1, 17))  # one counter: every number once
    assert allowed == 10  # the limit holds across both processes

    import redis

    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
    finally:
        client.close()


def test_importing_the_battery_loads_no_optional_library() -> None:
    code = (
        "import sys, json, satchel.auth, satchel.auth.throttle, satchel.auth.mail\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert not loaded & {"redis", "argon2", "itsdangerous", "aiosmtpd"}
