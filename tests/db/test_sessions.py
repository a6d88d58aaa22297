"""Request-scoped sessions: committed on success, rolled back on any error, always closed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dbt_models import Author, count_rows
from sqlalchemy import event, select
from sqlalchemy.pool import Pool

from satchel import App, NotFound
from satchel.db import AsyncSession, Database, Session
from satchel.testing import TestClient


def _author(n: int) -> dict[str, str]:
    return {"name": f"author {n}", "email": f"a{n}@example.com"}


def test_async_handler_commits_on_success(make_app: Callable[..., App], database: Database):
    app = make_app()

    @app.post("/authors")
    async def create(name: str, email: str, session: AsyncSession) -> dict[str, int]:
        author = Author(name=name, email=email)
        session.add(author)
        await session.flush()
        return {"id": author.id}

    with TestClient(app) as client:
        response = client.post("/authors", params=_author(1))
    assert response.status_code == 200
    assert count_rows(database, "dbt_author") == 1


def test_sync_handler_gets_sync_session_and_commits(
    make_app: Callable[..., App], database: Database
):
    app = make_app()
    seen: list[type] = []

    @app.post("/authors")
    def create(name: str, email: str, session: Session) -> dict[str, bool]:
        seen.append(type(session))
        session.add(Author(name=name, email=email))  # no flush: the commit flushes
        return {"ok": True}

    with TestClient(app) as client:
        assert client.post("/authors", params=_author(2)).status_code == 200
    assert issubclass(seen[0], Session)
    assert count_rows(database, "dbt_author") == 1


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_http_exception_rolls_back(make_app: Callable[..., App], database: Database, kind: str):
    app = make_app()
    if kind == "async":

        @app.post("/authors")
        async def create(name: str, email: str, session: AsyncSession) -> None:
            session.add(Author(name=name, email=email))
            await session.flush()  # the INSERT reached the database...
            raise NotFound("changed my mind")  # ...and must be undone

    else:

        @app.post("/authors")
        def create_sync(name: str, email: str, session: Session) -> None:
            session.add(Author(name=name, email=email))
            session.flush()
            raise NotFound("changed my mind")

    with TestClient(app) as client:
        response = client.post("/authors", params=_author(3))
    assert response.status_code == 404
    assert count_rows(database, "dbt_author") == 0


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_unexpected_exception_rolls_back(
    make_app: Callable[..., App], database: Database, kind: str
):
    app = make_app()
    if kind == "async":

        @app.post("/authors")
        async def create(name: str, email: str, session: AsyncSession) -> None:
            session.add(Author(name=name, email=email))
            await session.flush()
            raise RuntimeError("boom")

    else:

        @app.post("/authors")
        def create_sync(name: str, email: str, session: Session) -> None:
            session.add(Author(name=name, email=email))
            session.flush()
            raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/authors", params=_author(4))
    assert response.status_code == 500
    assert count_rows(database, "dbt_author") == 0


def test_one_session_per_request_shared_with_providers(make_app: Callable[..., App]):
    app = make_app()
    sessions: list[object] = []

    @app.provider(name="current_author")
    async def current_author(session: AsyncSession) -> Author | None:
        sessions.append(session)
        return await session.scalar(select(Author).limit(1))

    @app.get("/")
    async def index(current_author: Author | None, session: AsyncSession) -> dict[str, bool]:
        sessions.append(session)
        return {"none": current_author is None}

    with TestClient(app) as client:
        assert client.get("/").json() == {"none": True}
        client.get("/")
    assert sessions[0] is sessions[1]
    assert sessions[2] is not sessions[0]  # a new request, a new session


def test_session_closed_after_request(make_app: Callable[..., App], database: Database):
    app = make_app()
    kept: list[AsyncSession] = []

    @app.get("/")
    async def index(session: AsyncSession) -> dict[str, int]:
        kept.append(session)
        author = Author(name="x", email="closed@example.com")
        session.add(author)
        await session.flush()
        return {"id": author.id}

    with TestClient(app) as client:
        client.get("/")
    session = kept[0]
    assert not session.in_transaction()
    assert len(session.identity_map) == 0  # closed: everything expunged
    assert count_rows(database, "dbt_author") == 1


def _count_checkouts() -> tuple[list[int], Callable[[], None]]:
    checkouts = [0]

    def on_checkout(*args: object) -> None:
        checkouts[0] += 1

    event.listen(Pool, "checkout", on_checkout)
    return checkouts, lambda: event.remove(Pool, "checkout", on_checkout)


def test_unused_session_never_touches_the_pool(make_app: Callable[..., App]):
    app = make_app()

    @app.get("/nothing")
    async def nothing(session: AsyncSession, sync: Session) -> str:
        return "ok"

    @app.get("/query")
    async def query(session: AsyncSession) -> str:
        await session.scalar(select(Author).limit(1))
        return "ok"

    with TestClient(app) as client:
        checkouts, stop = _count_checkouts()
        try:
            assert client.get("/nothing").status_code == 200
            assert checkouts[0] == 0
            assert client.get("/query").status_code == 200
            assert checkouts[0] == 1
        finally:
            stop()


def test_read_only_request_sends_no_extra_statements(make_app: Callable[..., App], backend: str):
    """A read sends BEGIN (implicit or not), the SELECT and COMMIT -- nothing else."""
    app = make_app()
    statements: list[str] = []

    @app.on_startup
    async def watch() -> None:
        database = app.extensions["database"]
        engine = database.async_engine.sync_engine
        event.listen(
            engine, "before_cursor_execute", lambda c, cur, stmt, *a: statements.append(stmt)
        )

    @app.get("/")
    async def index(session: AsyncSession) -> str:
        await session.get(Author, 1)
        return "ok"

    with TestClient(app) as client:
        client.get("/")  # first request: connect-time queries, dialect setup
        statements.clear()
        client.get("/")
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1
    others = [s for s in statements if s not in selects and not s.upper().startswith("BEGIN")]
    assert others == [], others


def test_db_session_script_helper_commits_and_rolls_back(database: Database):
    with database.session() as session:
        session.add(Author(name="s", email="script@example.com"))
    assert count_rows(database, "dbt_author") == 1
    with pytest.raises(RuntimeError), database.session() as session:
        session.add(Author(name="t", email="script2@example.com"))
        session.flush()
        raise RuntimeError("undo")
    assert count_rows(database, "dbt_author") == 1


async def test_async_session_script_helper(database: Database):
    async with database.async_session() as session:
        session.add(Author(name="s", email="ascript@example.com"))
    with pytest.raises(RuntimeError):
        async with database.async_session() as session:
            session.add(Author(name="t", email="ascript2@example.com"))
            await session.flush()
            raise RuntimeError("undo")
    async with database.async_session() as session:
        emails = (await session.scalars(select(Author.email))).all()
    assert emails == ["ascript@example.com"]
    await database.async_dispose()


def test_objects_stay_loaded_after_commit(make_app: Callable[..., App]):
    """expire_on_commit=False: a handler may return attributes after the commit."""
    app = make_app()

    @app.post("/authors")
    async def create(session: AsyncSession) -> dict[str, object]:
        author = Author(name="kept", email="kept@example.com")
        session.add(author)
        await session.commit()
        return {"id": author.id, "name": author.name}  # no reload after the commit

    with TestClient(app) as client:
        body = client.post("/authors").json()
    assert body["name"] == "kept"
    assert isinstance(body["id"], int)
