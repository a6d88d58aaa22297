"""The database and Redis stores, on real SQLite, PostgreSQL, MariaDB and Redis.

PostgreSQL, MariaDB and Redis run when SATCHEL_TEST_POSTGRES_URL,
SATCHEL_TEST_MYSQL_URL and SATCHEL_TEST_REDIS_URL are set (a failure under CI=true
when the server is down). Every backend runs the same tests through a small
adapter that can look into the store behind the app's back.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from satchel import App, Request
from satchel.db import Database
from satchel.exceptions import ImproperlyConfigured
from satchel.sessions import DatabaseStore, session_table
from satchel.sessions.server import hash_key
from satchel.testing import AsyncTestClient, TestClient

KEY = "k" * 24 + "-current-secret-key-for-tests"
OLD_KEY = "o" * 24 + "-previous-secret-key-for-tests"

_SYNC = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}


class Backend:
    """One store's test adapter: build an app on it, and peek into the storage."""

    name: str

    def app(self, make_app: Callable[..., App], **settings: Any) -> App:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def stored(self, hashed: str) -> str | None:
        raise NotImplementedError

    def expire(self, hashed: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SQLBackend(Backend):
    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.database = Database(url)
        self.table = session_table(self.database.metadata)
        self.table.create(self.database.engine, checkfirst=True)
        with self.database.engine.begin() as conn:
            conn.execute(self.table.delete())

    def app(self, make_app: Callable[..., App], **settings: Any) -> App:
        return make_app(session_store="database", database=self.database, **settings)

    def count(self) -> int:
        with self.database.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.table)).scalar_one())

    def stored(self, hashed: str) -> str | None:
        with self.database.engine.connect() as conn:
            query = select(self.table.c.data).where(self.table.c.key == hashed)
            value: str | None = conn.execute(query).scalar_one_or_none()
            return value

    def expire(self, hashed: str) -> None:
        past = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=5)
        with self.database.engine.begin() as conn:
            conn.execute(
                update(self.table).where(self.table.c.key == hashed).values(expires_at=past)
            )

    def corrupt(self, hashed: str) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(update(self.table).where(self.table.c.key == hashed).values(data="[1"))

    def all_text(self) -> str:
        with self.database.engine.connect() as conn:
            rows = conn.execute(select(self.table.c.key, self.table.c.data)).all()
        return repr(rows)

    def close(self) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(self.table.delete())
        self.database.dispose()


class RedisBackend(Backend):
    name = "redis"

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self.prefix = f"satchel:test:{uuid.uuid4().hex}:"
        self.client = redis.Redis.from_url(url)

    def app(self, make_app: Callable[..., App], **settings: Any) -> App:
        return make_app(
            session_store="redis", redis_url=self.url, session_redis_prefix=self.prefix, **settings
        )

    def keys(self) -> list[bytes]:
        return list(self.client.scan_iter(match=self.prefix + "*"))

    def count(self) -> int:
        return len(self.keys())

    def stored(self, hashed: str) -> str | None:
        value = self.client.get(self.prefix + hashed)
        return value.decode() if value is not None else None

    def expire(self, hashed: str) -> None:
        self.client.delete(self.prefix + hashed)  # what Redis does when the TTL runs out

    def corrupt(self, hashed: str) -> None:
        self.client.set(self.prefix + hashed, b"not json", keepttl=True)

    def ttl(self, hashed: str) -> int:
        return int(self.client.ttl(self.prefix + hashed))

    def all_text(self) -> str:
        return repr([(k, self.client.get(k)) for k in self.keys()])

    def close(self) -> None:
        keys = self.keys()
        if keys:
            self.client.delete(*keys)
        self.client.close()


def _sql_reachable(url: str) -> None:
    engine = create_engine(make_url(url).set(drivername=_SYNC[make_url(url).get_backend_name()]))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def _redis_reachable(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


@pytest.fixture(params=["sqlite", "postgresql", "mysql", "redis"])
def backend(request, tmp_path: Path, server_url) -> Iterator[Backend]:
    kind = request.param
    made: Backend
    if kind == "sqlite":
        made = SQLBackend("sqlite", f"sqlite:///{tmp_path / 'sessions.db'}")
    elif kind == "postgresql":
        made = SQLBackend(kind, server_url("SATCHEL_TEST_POSTGRES_URL", _sql_reachable))
    elif kind == "mysql":
        made = SQLBackend(kind, server_url("SATCHEL_TEST_MYSQL_URL", _sql_reachable))
    else:
        made = RedisBackend(server_url("SATCHEL_TEST_REDIS_URL", _redis_reachable))
    try:
        yield made
    finally:
        made.close()


def session_key(client: TestClient | AsyncTestClient, store: Any) -> str:
    """Return the raw session key in the client's cookie (verifying its signature)."""
    found = store.unsign_key(client.cookies["session"])
    assert found is not None
    return str(found[0])


async def clear_expired(store: Any) -> int:
    """Run the store's cleanup on a loop of its own, as ``satchel sessions clear`` does."""
    try:
        return int(await store.clear_expired())
    finally:
        await store.close()
        if isinstance(store, DatabaseStore):
            await store.database.async_dispose()


# -- the tests, for every backend ----------------------------------------------------------


def test_round_trip(backend, make_app, store_of):
    app = backend.app(make_app)
    with TestClient(app) as client:
        assert client.get("/count").json() == {"count": 1}
        assert client.get("/count").json() == {"count": 2}
        assert client.get("/read").json() == {"data": {"count": 2}, "is_new": False}
    assert backend.count() == 1


def test_anonymous_visits_store_nothing(backend, make_app, set_cookies):
    app = backend.app(make_app)
    with TestClient(app) as client:
        for path in ("/untouched", "/read", "/clear", "/logout"):
            response = client.get(path)
            assert response.status_code == 200
            assert set_cookies(response) == []
    assert backend.count() == 0


def test_only_the_hash_of_the_key_is_stored(backend, make_app, store_of):
    app = backend.app(make_app)
    with TestClient(app) as client:
        client.get("/set/user/alice")
        key = session_key(client, store_of(app))
    assert len(key) >= 43  # 32 random bytes, URL-safe base64
    hashed = hashlib.sha256(key.encode()).hexdigest()
    assert hash_key(key) == hashed
    assert backend.stored(hashed) == '{"user":"alice"}'
    assert key not in backend.all_text()


def test_cookie_attributes(backend, make_app, set_cookies):
    app = backend.app(make_app, session_cookie_host_prefix=True)
    with TestClient(app, base_url="https://testserver") as client:
        (header,) = set_cookies(client.get("/set/a/1"))
        assert header.startswith("__Host-session=")
        for part in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1209600"):
            assert part in header
        assert client.get("/read").json()["data"] == {"a": "1"}


def test_read_only_writes_nothing(backend, make_app, set_cookies):
    app = backend.app(make_app)
    with TestClient(app) as client:
        client.get("/set/a/1")
        response = client.get("/read")
        assert response.json()["data"] == {"a": "1"}
        assert set_cookies(response) == []
        assert response.headers["vary"] == "Cookie"
        untouched = client.get("/untouched")
        assert "vary" not in untouched.headers
        assert set_cookies(untouched) == []


def test_cycle_key_moves_the_data_and_deletes_the_old_row(backend, make_app, store_of):
    app = backend.app(make_app)
    store = store_of(app)
    with TestClient(app) as client:
        client.get("/set/cart/3")
        before = session_key(client, store)
        old_cookie = client.cookies["session"]
        client.get("/login/alice")
        after = session_key(client, store)
        assert after != before
        assert backend.stored(hash_key(before)) is None
        assert backend.stored(hash_key(after)) is not None
        assert client.get("/read").json()["data"] == {"cart": "3", "user": "alice"}
    # A session id captured before login (fixation) is worthless after it.
    with TestClient(app, cookies={"session": old_cookie}) as attacker:
        assert attacker.get("/read").json() == {"data": {}, "is_new": True}
    assert backend.count() == 1


def test_logout_deletes_the_row_and_the_cookie(backend, make_app, store_of, set_cookies):
    app = backend.app(make_app)
    with TestClient(app) as client:
        client.get("/login/alice")
        key = session_key(client, store_of(app))
        cookie = client.cookies["session"]
        (header,) = set_cookies(client.get("/logout"))
        assert "Max-Age=0" in header
        assert backend.stored(hash_key(key)) is None
    assert backend.count() == 0
    with TestClient(app, cookies={"session": cookie}) as replay:
        assert replay.get("/read").json()["data"] == {}


def test_logout_then_new_data_gets_a_new_key(backend, make_app, store_of):
    app = backend.app(make_app)

    @app.get("/switch")
    async def switch(request: Request) -> str:
        request.session.invalidate()
        request.session["guest"] = True
        return "ok"

    store = store_of(app)
    with TestClient(app) as client:
        client.get("/login/alice")
        before = session_key(client, store)
        client.get("/switch")
        after = session_key(client, store)
        assert after != before
        assert client.get("/read").json()["data"] == {"guest": True}
    assert backend.count() == 1


def test_expired_session_is_empty(backend, make_app, store_of):
    app = backend.app(make_app)
    with TestClient(app) as client:
        client.get("/set/user/alice")
        backend.expire(hash_key(session_key(client, store_of(app))))
        assert client.get("/read").json() == {"data": {}, "is_new": True}
        # Writing again starts a new session rather than reviving the expired one.
        client.get("/set/user/bob")
        assert client.get("/read").json()["data"] == {"user": "bob"}


@pytest.mark.parametrize(
    "mangle",
    [
        # Not the last character: its low bits are base64 padding, so changing only
        # them can leave the decoded signature the same.
        pytest.param(lambda c: c[:-5] + ("A" if c[-5] != "A" else "Q") + c[-4:], id="bit-flip"),
        pytest.param(lambda c: c[:20], id="truncated"),
        pytest.param(lambda c: "x" * 43, id="unsigned-guess"),
        pytest.param(lambda c: c + "." + "y" * 9000, id="huge"),
    ],
)
def test_tampered_id_cookie_gives_a_fresh_session(backend, make_app, mangle):
    app = backend.app(make_app)
    with TestClient(app) as client:
        client.get("/set/user/alice")
        cookie = client.cookies["session"]
    with TestClient(app, cookies={"session": mangle(cookie)}) as client:
        response = client.get("/read")
        assert response.status_code == 200
        assert response.json() == {"data": {}, "is_new": True}


def test_raw_key_without_signature_is_refused(backend, make_app, store_of):
    app = backend.app(make_app)
    with TestClient(app) as client:
        client.get("/set/user/alice")
        key = session_key(client, store_of(app))
    with TestClient(app, cookies={"session": key}) as client:
        assert client.get("/read").json()["data"] == {}


def test_key_rotation(backend, make_app, store_of, set_cookies):
    old_app = backend.app(make_app, secret_key=OLD_KEY)
    with TestClient(old_app) as client:
        client.get("/set/user/alice")
        old_cookie = client.cookies["session"]
    app = backend.app(make_app, secret_key=KEY, secret_key_fallbacks=[OLD_KEY])
    with TestClient(app, cookies={"session": old_cookie}) as client:
        response = client.get("/read")
        assert response.json()["data"] == {"user": "alice"}
        (header,) = set_cookies(response)
        new_cookie = header.split(";")[0].split("=", 1)[1]
    only_new = backend.app(make_app, secret_key=KEY)
    with TestClient(only_new, cookies={"session": new_cookie}) as client:
        assert client.get("/read").json()["data"] == {"user": "alice"}
    with TestClient(only_new, cookies={"session": old_cookie}) as client:
        assert client.get("/read").json()["data"] == {}


def test_non_json_stored_data_gives_a_fresh_session(backend, make_app, store_of):
    app = backend.app(make_app)
    with TestClient(app) as client:
        client.get("/set/user/alice")
        backend.corrupt(hash_key(session_key(client, store_of(app))))
        assert client.get("/read").json() == {"data": {}, "is_new": True}


async def test_concurrent_requests_on_one_session(backend, make_app):
    app = backend.app(make_app)
    async with AsyncTestClient(app) as client:
        await client.get("/set/user/alice")
        responses = await asyncio.gather(*(client.get(f"/set/k{i}/v") for i in range(5)))
        assert all(r.status_code == 200 for r in responses)
        data = (await client.get("/read")).json()["data"]
    # Last write wins: each request wrote what it read plus its own key.
    assert data["user"] == "alice"
    assert sum(1 for k in data if k.startswith("k")) >= 1
    assert backend.count() == 1


async def test_logout_elsewhere_is_not_undone_by_a_running_request(backend, make_app):
    app = backend.app(make_app)
    release = asyncio.Event()
    loaded = asyncio.Event()

    @app.get("/slow-write")
    async def slow_write(request: Request) -> str:
        request.session.get("user")
        loaded.set()
        await release.wait()
        request.session["cart"] = "full"
        return "written"

    async with AsyncTestClient(app) as client:
        await client.get("/login/alice")
        slow = asyncio.ensure_future(client.get("/slow-write"))
        await loaded.wait()
        await client.get("/logout")  # another tab logs out meanwhile
        release.set()
        response = await slow
        assert response.status_code == 200
        assert "Max-Age=0" in response.headers["set-cookie"]
    assert backend.count() == 0


def test_clear_expired(backend, make_app, store_of):
    app = backend.app(make_app)
    store = store_of(app)
    with TestClient(app) as first, TestClient(app) as second:
        first.get("/set/a/1")
        second.get("/set/b/2")
        backend.expire(hash_key(session_key(first, store)))
        deleted = asyncio.run(clear_expired(store))
        if backend.name == "redis":
            assert deleted == 0  # Redis expires keys itself
        else:
            assert deleted == 1
        assert backend.count() == 1
        assert second.get("/read").json()["data"] == {"b": "2"}


# -- backend specifics ---------------------------------------------------------------------


def test_redis_ttl_follows_max_age(make_app, server_url, store_of):
    backend = RedisBackend(server_url("SATCHEL_TEST_REDIS_URL", _redis_reachable))
    try:
        app = backend.app(make_app, session_max_age=300)
        with TestClient(app) as client:
            client.get("/set/a/1")
            hashed = hash_key(session_key(client, store_of(app)))
        assert 290 <= backend.ttl(hashed) <= 300
    finally:
        backend.close()


def test_database_store_needs_a_database(make_app):
    app = make_app(session_store="database")
    with pytest.raises(ImproperlyConfigured, match="needs the app's database"):
        app.freeze()


def test_database_store_refuses_an_object_without_engines(make_app):
    app = make_app(session_store="database")
    app.extensions["database"] = object()
    with pytest.raises(ImproperlyConfigured, match="async_engine"):
        app.freeze()


def test_session_table_shape():
    metadata = MetaData(naming_convention={"ix": "ix_%(column_0_label)s"})
    table = session_table(metadata)
    assert session_table(metadata) is table
    assert table.name == "satchel_session"
    assert [c.name for c in table.primary_key.columns] == ["key"]
    assert {i.name for i in table.indexes} == {"ix_satchel_session_expires_at"}
    assert not table.c.data.nullable
    assert not table.c.expires_at.nullable
