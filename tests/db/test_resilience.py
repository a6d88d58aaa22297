"""A database that is down gives 503s that leak nothing, and the app heals by itself."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dbt_models import Author
from sqlalchemy import event, select

from satchel import App
from satchel.db import AsyncSession, Database, DatabaseUnavailable, Session, engines
from satchel.testing import TestClient

UNREACHABLE = {
    "postgresql": "postgresql://postgres@127.0.0.1:1/test",
    "mysql": "mysql://root@127.0.0.1:1/test",
}


def _routes(app: App) -> None:
    @app.get("/async")
    async def read_async(session: AsyncSession) -> dict[str, int]:
        return {"n": len((await session.scalars(select(Author))).all())}

    @app.get("/sync")
    def read_sync(session: Session) -> dict[str, int]:
        return {"n": len(session.scalars(select(Author)).all())}

    @app.get("/script")
    async def own_session() -> dict[str, int]:
        async with app.extensions["database"].async_session() as session:
            return {"n": len((await session.scalars(select(Author))).all())}


def _assert_unavailable(response: object, *secrets: str) -> None:
    assert response.status_code == 503  # type: ignore[attr-defined]
    assert response.headers["retry-after"] == "5"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["detail"] == "The database is unavailable right now. Please try again shortly."
    text = response.text  # type: ignore[attr-defined]
    for secret in ("127.0.0.1", "refused", "Traceback", "dbt_author", *secrets):
        assert secret not in text, secret


@pytest.mark.parametrize("backend", ["postgresql", "mysql", "sqlite"])
def test_unreachable_database_is_503(
    backend: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    url = UNREACHABLE.get(backend, f"sqlite:///{tmp_path}/missing-dir/app.db")
    db = Database(url)
    app = App(database=db, root_path=str(tmp_path), database_connect_timeout=2)
    _routes(app)
    with TestClient(app) as client:
        for path in ("/async", "/sync", "/script"):
            _assert_unavailable(client.get(path), "missing-dir")
    assert any("database unavailable" in r.getMessage() for r in caplog.records)


def test_pool_exhaustion_is_503(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'pool.db'}")
    app = App(
        database=db,
        root_path=str(tmp_path),
        database_pool_size=1,
        database_max_overflow=0,
        database_pool_timeout=0.2,
    )
    db.create_all([Author])

    @app.get("/hog")
    def hog(session: Session) -> dict[str, str]:
        session.scalars(select(Author)).all()  # holds the only connection...
        with db.session() as other:  # ...so this one waits, then gives up
            other.scalars(select(Author)).all()
        return {"unreachable": "yes"}

    with TestClient(app) as client:
        _assert_unavailable(client.get("/hog"))
    db.dispose()


def test_database_unavailable_is_an_http_exception():
    error = DatabaseUnavailable()
    assert error.status_code == 503
    assert error.headers == {"Retry-After": "5"}


# -- a real PostgreSQL going away and coming back -------------------------------------


def _pg_ctl(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _wait_for_postgres() -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False)
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError("PostgreSQL did not come back within 30 seconds")


@pytest.fixture
def postgres_stopper(backend: str) -> Iterator[Callable[[str], None]]:
    if backend != "postgresql":
        pytest.skip("stops the local PostgreSQL")
    if not os.path.isdir("/etc/postgresql"):
        pytest.skip("no local PostgreSQL cluster to stop")
    stopped = []

    def control(action: str) -> None:
        _pg_ctl(action)
        if action == "stop":
            stopped.append(True)
        else:
            stopped.clear()
            _wait_for_postgres()

    try:
        yield control
    finally:
        if stopped:
            _pg_ctl("start")  # never leave the shared server down
            _wait_for_postgres()


@pytest.mark.server
def test_postgres_restart_gives_503_then_recovers(
    make_app: Callable[..., App], database: Database, postgres_stopper: Callable[[str], None]
):
    app = make_app()
    _routes(app)
    with TestClient(app) as client:
        for path in ("/async", "/sync"):  # fill both pools with live connections
            assert client.get(path).json() == {"n": 0}
        postgres_stopper("stop")
        for path in ("/async", "/sync", "/script"):
            _assert_unavailable(client.get(path))
        postgres_stopper("start")
        # The pooled connections died with the server; pings replace them.
        for path in ("/async", "/sync", "/script"):
            assert client.get(path).json() == {"n": 0}


def test_idle_connections_are_pinged_and_dead_ones_replaced(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'ping.db'}")
    App(database=db, root_path=str(tmp_path), database_pool_pre_ping=0.2)
    engine = db.engine
    assert engine.pool._pre_ping is False  # type: ignore[attr-defined] - our own, idle-only ping
    pings = []
    real_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda conn: pings.append(1) or real_ping(conn)  # type: ignore[method-assign]

    def query() -> int:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT 1").scalar_one())

    query()
    query()
    assert pings == []  # new, then used a moment ago: no ping
    time.sleep(0.25)
    query()
    assert pings == [1]  # idle: pinged
    with engine.connect() as conn:  # kill the pooled connection behind SQLAlchemy's back
        raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.close()
    time.sleep(0.25)
    assert query() == 1  # the ping found it dead; a new connection answered
    assert len(pings) == 2
    db.dispose()


@pytest.mark.parametrize(("setting", "sqlalchemy_ping"), [(0, True), (-1, False)])
def test_pre_ping_setting_extremes(tmp_path: Path, setting: float, sqlalchemy_ping: bool):
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    App(database=db, root_path=str(tmp_path), database_pool_pre_ping=setting)
    assert db.engine.pool._pre_ping is sqlalchemy_ping  # type: ignore[attr-defined]
    assert not event.contains(db.engine, "checkin", engines._note_checkin)
