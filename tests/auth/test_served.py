"""Login throttling across ``satchel serve --workers 2``: one count with Redis, two without.

A real server with two worker processes; every attempt comes on a new connection, so
the workers share them. The Redis store refuses the attempt after the limit whichever
worker gets it; the memory store, kept per process, lets more through (which is why
the Redis store exists).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.server

SRC = Path(__file__).resolve().parents[2] / "src"
LIMIT = 4
APP = """
import os

from satchel import App
from satchel.auth import Auth, LoginLimits
from satchel.auth.passwords import PasswordHasher
from satchel.db import Database

app = App(database=Database("sqlite:///served.db"), csrf_enabled=False)
auth = Auth(
    app,
    hasher=PasswordHasher(time_cost=1, memory_cost=1024),
    throttle_store=os.environ["THROTTLE_STORE"],
    throttle_prefix=os.environ["THROTTLE_PREFIX"],
    limits=LoginLimits(per_user={limit}, per_address=10_000, window=120),
)


@app.after_request
async def worker(request, response):
    response.headers["x-worker"] = str(os.getpid())
"""


def redis_url() -> str:
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _command() -> list[str]:
    script = Path(sys.executable).with_name("satchel")
    return [str(script)] if script.exists() else [sys.executable, "-m", "satchel.cli.main"]


@contextmanager
def served(project: Path, store: str, prefix: str, redis: str) -> Iterator[str]:
    """Run ``satchel serve app:app --workers 2`` in ``project``; yield its URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")])),
        SATCHEL_SECRET_KEY="served-accounts-test-secret-key-0123456789",
        SATCHEL_REDIS_URL=redis,
        THROTTLE_STORE=store,
        THROTTLE_PREFIX=prefix,
        PYTHONUNBUFFERED="1",
    )
    migrate = subprocess.run(
        [*_command(), "auth", "migrate"], cwd=project, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    port = _free_port()
    log = (project / f"server-{store}.log").open("wb")
    proc = subprocess.Popen(
        [*_command(), "serve", "app:app", "--port", str(port), "--workers", "2"],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {(project / log.name).read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the server did not listen within 30 s")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()


def attempts(url: str, username: str, count: int) -> list[tuple[int, str]]:
    """POST ``count`` wrong logins, each on a new connection: ``[(status, worker pid)]``."""
    seen = []
    for _ in range(count):
        with httpx.Client(base_url=url, timeout=10) as client:
            response = client.post(
                "/login", data={"username": username, "password": "wrong password here"}
            )
        seen.append((response.status_code, response.headers.get("x-worker", "")))
    return seen


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP.format(limit=LIMIT)))
    return tmp_path


def test_two_workers_share_one_count_through_redis(project: Path) -> None:
    redis = redis_url()
    prefix = f"satchel-test:served:{uuid.uuid4().hex}:"
    with served(project, "redis", prefix, redis) as url:
        seen = attempts(url, "ann", 3 * LIMIT)
        other = attempts(url, "bob", 1)
    statuses = [status for status, _ in seen]
    workers = {pid for _, pid in seen}
    assert len(workers) == 2, f"one worker took every connection: {seen}"
    assert statuses == [400] * LIMIT + [429] * (2 * LIMIT), seen
    assert other[0][0] == 400  # per username: someone else is not locked out
    _clean(redis, prefix)


def test_without_redis_each_worker_counts_alone(project: Path) -> None:
    with served(project, "memory", "unused:", "redis://127.0.0.1:1/0") as url:
        seen = attempts(url, "ann", 3 * LIMIT)
    by_worker: dict[str, list[int]] = {}
    for status, pid in seen:
        by_worker.setdefault(pid, []).append(status)
    assert len(by_worker) == 2, f"one worker took every connection: {seen}"
    allowed = sum(1 for status, _ in seen if status == 400)
    assert allowed > LIMIT  # each process let its own LIMIT through
    for statuses in by_worker.values():
        assert statuses.count(400) <= LIMIT


def _clean(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
