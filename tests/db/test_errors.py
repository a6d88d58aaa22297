"""Constraint violations become 409s, refused values 400s; transient aborts can be retried."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from dbt_models import Author, Post, count_rows
from sqlalchemy import delete, select, text, update
from sqlalchemy import exc as sa_exc

from satchel import App
from satchel.db import (
    AsyncSession,
    Database,
    IntegrityConflict,
    Session,
    is_retryable,
    retry_on_conflict,
)
from satchel.db.errors import integrity_kind, is_unavailable, to_http_error
from satchel.testing import TestClient


@pytest.fixture
def app_with_author(make_app: Callable[..., App], database: Database) -> tuple[App, int]:
    with database.session() as session:
        author = Author(name="Ann", email="ann@example.com")
        session.add(author)
        session.flush()
        author_id = author.id
    app = make_app()

    @app.post("/authors")
    async def create_author(name: str, email: str, session: AsyncSession) -> dict[str, bool]:
        session.add(Author(name=name, email=email))
        return {"ok": True}  # the INSERT fails at commit, after the handler returned

    @app.post("/posts")
    def create_post(title: str, author_id: int, score: int, session: Session) -> dict[str, int]:
        post = Post(title=title, author_id=author_id, score=score)
        session.add(post)
        session.flush()  # fails inside the handler
        return {"id": post.id}

    @app.delete("/authors/{id:int}")
    async def delete_author(id: int, session: AsyncSession) -> None:
        # Core DELETE: the ORM would first set the posts' author_id to NULL.
        await session.execute(delete(Author).where(Author.id == id))

    return app, author_id


def test_unique_violation_is_409(app_with_author: tuple[App, int], database: Database):
    app, _ = app_with_author
    with TestClient(app) as client:
        response = client.post("/authors", params={"name": "B", "email": "ann@example.com"})
    assert response.status_code == 409
    body = response.json()
    assert body["conflict"] == "unique"
    assert body["detail"] == "A record with the same unique value already exists."
    assert "dbt_author" not in response.text and "ann@example.com" not in response.text
    assert count_rows(database, "dbt_author") == 1


def test_foreign_key_violation_is_409(app_with_author: tuple[App, int], database: Database):
    app, author_id = app_with_author
    with TestClient(app) as client:
        missing = client.post(
            "/posts", params={"title": "t", "author_id": author_id + 99, "score": 1}
        )
        assert missing.status_code == 409
        assert missing.json()["conflict"] == "foreign_key"
        assert (
            client.post(
                "/posts", params={"title": "t", "author_id": author_id, "score": 1}
            ).status_code
            == 200
        )
        still_used = client.delete(f"/authors/{author_id}")
    assert still_used.status_code == 409
    assert still_used.json()["conflict"] == "foreign_key"
    assert count_rows(database, "dbt_author") == 1


def test_check_violation_is_409(app_with_author: tuple[App, int], backend: str):
    app, author_id = app_with_author
    with TestClient(app) as client:
        response = client.post("/posts", params={"title": "t", "author_id": author_id, "score": -1})
    assert response.status_code == 409
    assert response.json()["conflict"] == "check"


def test_custom_handler_for_integrity_conflict(app_with_author: tuple[App, int]):
    app, _ = app_with_author

    @app.error_handler(IntegrityConflict)
    def taken(request: object, exc: IntegrityConflict) -> tuple[dict[str, str], int]:
        return {"error": f"taken ({exc.kind})"}, 400

    with TestClient(app) as client:
        response = client.post("/authors", params={"name": "B", "email": "ann@example.com"})
    assert (response.status_code, response.json()) == (400, {"error": "taken (unique)"})


def test_integrity_error_outside_request_session_is_409(
    make_app: Callable[..., App], database: Database
):
    """A session the handler opens itself is mapped by the error handler init_app installs."""
    app = make_app()

    @app.post("/twice")
    async def twice() -> None:
        async with database.async_session() as session:
            session.add_all(
                [
                    Author(name="a", email="same@example.com"),
                    Author(name="b", email="same@example.com"),
                ]
            )

    with TestClient(app) as client:
        response = client.post("/twice")
    assert response.status_code == 409
    assert count_rows(database, "dbt_author") == 0


def test_value_the_database_refuses_is_400(make_app: Callable[..., App], backend: str):
    if backend == "sqlite":
        pytest.skip("SQLite stores any length and any integer size")
    app = make_app()

    @app.post("/authors")
    async def create(name: str, session: AsyncSession) -> None:
        session.add(Author(name=name, email="long@example.com"))

    @app.get("/authors/{id:int}")
    async def show(id: int, session: AsyncSession) -> dict[str, bool]:
        return {"found": await session.get(Author, id) is not None}

    with TestClient(app) as client:
        too_long = client.post("/authors", params={"name": "x" * 500})  # String(100)
        huge_id = client.get(f"/authors/{2**40}")  # INTEGER is 32-bit on both
    assert too_long.status_code == 400
    assert "xxxx" not in too_long.text
    assert huge_id.status_code in (400, 200)  # MySQL compares, PostgreSQL refuses
    if backend == "postgresql":
        assert huge_id.status_code == 400


# -- classification ------------------------------------------------------------------


class _FakeOrig(Exception):
    def __init__(
        self, *args: object, sqlstate: str | None = None, sqlite_errorcode: int | None = None
    ):
        super().__init__(*args)
        self.sqlstate = sqlstate
        if sqlite_errorcode is not None:
            self.sqlite_errorcode = sqlite_errorcode


def _wrapped(cls: type[sa_exc.DBAPIError], orig: BaseException) -> sa_exc.DBAPIError:
    return cls("SELECT 1", {}, orig)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "retryable", "unavailable"),
    [
        (_wrapped(sa_exc.OperationalError, _FakeOrig("x", sqlstate="40001")), True, True),
        (_wrapped(sa_exc.OperationalError, _FakeOrig("x", sqlstate="40P01")), True, True),
        (_wrapped(sa_exc.OperationalError, _FakeOrig("x", sqlstate="57P01")), False, True),
        (_wrapped(sa_exc.OperationalError, _FakeOrig("x", sqlstate="08006")), False, True),
        (_wrapped(sa_exc.OperationalError, _FakeOrig("x", sqlstate="53300")), False, True),
        (_wrapped(sa_exc.ProgrammingError, _FakeOrig("x", sqlstate="42P01")), False, False),
        (_wrapped(sa_exc.OperationalError, _FakeOrig(1213, "Deadlock found")), True, True),
        (_wrapped(sa_exc.OperationalError, _FakeOrig(1205, "Lock wait timeout")), True, True),
        (_wrapped(sa_exc.OperationalError, _FakeOrig(2003, "Can't connect")), False, True),
        (_wrapped(sa_exc.ProgrammingError, _FakeOrig(1146, "no such table")), False, False),
        (
            _wrapped(sa_exc.OperationalError, _FakeOrig("database is locked", sqlite_errorcode=5)),
            True,
            True,
        ),
        (
            _wrapped(sa_exc.OperationalError, _FakeOrig("no such table: x", sqlite_errorcode=1)),
            False,
            False,
        ),
        (sa_exc.TimeoutError("QueuePool limit reached"), False, True),
        (ValueError("not a database error"), False, False),
    ],
)
def test_classification(error: BaseException, retryable: bool, unavailable: bool):
    assert is_retryable(error) is retryable
    assert is_unavailable(error) is unavailable
    found = to_http_error(error)
    assert (found is not None and found.status_code == 503) is unavailable


def test_invalidated_connection_is_unavailable():
    error = sa_exc.OperationalError(
        "SELECT 1", {}, _FakeOrig("server closed"), connection_invalidated=True
    )
    assert is_unavailable(error)


@pytest.mark.parametrize(
    ("orig", "kind"),
    [
        (_FakeOrig("dup", sqlstate="23505"), "unique"),
        (_FakeOrig("fk", sqlstate="23503"), "foreign_key"),
        (_FakeOrig("nn", sqlstate="23502"), "not_null"),
        (_FakeOrig(1062, "Duplicate entry"), "unique"),
        (_FakeOrig(1452, "Cannot add or update a child row"), "foreign_key"),
        (_FakeOrig("UNIQUE constraint failed: t.x"), "unique"),
        (_FakeOrig("FOREIGN KEY constraint failed"), "foreign_key"),
        (_FakeOrig("NOT NULL constraint failed: t.x"), "not_null"),
        (_FakeOrig("something else"), "integrity"),
        (_FakeOrig(1062, "Duplicate entry", sqlstate="23000"), "unique"),  # asyncmy
    ],
)
def test_integrity_kind(orig: BaseException, kind: str):
    assert integrity_kind(_wrapped(sa_exc.IntegrityError, orig)) == kind


def test_integrity_found_by_code_whatever_the_class():
    mariadb_check = _wrapped(sa_exc.OperationalError, _FakeOrig(4025, "CONSTRAINT failed"))
    asyncpg_unique = _wrapped(sa_exc.DBAPIError, _FakeOrig("dup", sqlstate="23505"))
    assert integrity_kind(mariadb_check) == "check"
    assert integrity_kind(asyncpg_unique) == "unique"
    assert (
        integrity_kind(_wrapped(sa_exc.OperationalError, _FakeOrig("locked", sqlite_errorcode=5)))
        is None
    )


# -- retry_on_conflict ---------------------------------------------------------------


def _deadlock() -> sa_exc.OperationalError:
    return sa_exc.OperationalError("UPDATE", {}, _FakeOrig(1213, "Deadlock found"))


def test_retry_sync_retries_transient_errors_only():
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _deadlock()
        return "done"

    assert retry_on_conflict(flaky, attempts=3, delay=0) == "done"
    assert len(calls) == 3

    calls.clear()
    with pytest.raises(sa_exc.OperationalError):
        retry_on_conflict(
            lambda: calls.append(1) or (_ for _ in ()).throw(_deadlock()), attempts=2, delay=0
        )
    assert len(calls) == 2

    def broken() -> None:
        calls.append(1)
        raise sa_exc.ProgrammingError("SELECT", {}, _FakeOrig("syntax", sqlstate="42601"))

    calls.clear()
    with pytest.raises(sa_exc.ProgrammingError):
        retry_on_conflict(broken, delay=0)
    assert len(calls) == 1


async def test_retry_async_rolls_back_the_session_between_attempts():
    class FakeSession:
        rollbacks = 0

        async def rollback(self) -> None:
            self.rollbacks += 1

    session = FakeSession()
    calls = []

    async def flaky() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise _deadlock()
        return 7

    assert await retry_on_conflict(flaky, session=session, delay=0) == 7
    assert (len(calls), session.rollbacks) == (2, 1)


def test_retry_real_serialization_failure(database: Database, backend: str):
    """Two REPEATABLE READ transactions update one row: the loser retries and wins."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL reports concurrent updates as serialization failures")
    with database.session() as session:
        author = Author(name="counter", email="c@example.com")
        session.add(author)
        session.flush()
        author_id = author.id
    engine = database.engine.execution_options(isolation_level="REPEATABLE READ")
    attempts = []
    interfere = threading.Event()

    def rename() -> None:
        attempts.append(1)
        with engine.begin() as conn:
            conn.execute(select(Author.name).where(Author.id == author_id)).one()  # snapshot taken
            if len(attempts) == 1:
                with database.engine.begin() as other:  # someone else commits first
                    other.execute(update(Author).where(Author.id == author_id).values(name="other"))
                interfere.set()
            conn.execute(update(Author).where(Author.id == author_id).values(name="mine"))

    retry_on_conflict(rename, delay=0)
    assert interfere.is_set()
    assert len(attempts) == 2
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM dbt_author")).scalar_one() == "mine"


def test_other_database_errors_stay_500(make_app: Callable[..., App]):
    """A bug (here: a missing table) is a 500 with the real error, not a 503."""
    app = make_app()

    @app.get("/request-session")
    async def broken(session: AsyncSession) -> None:
        await session.execute(text("SELECT * FROM dbt_no_such_table"))

    @app.get("/own-session")
    async def broken_own() -> None:
        async with app.extensions["database"].async_session() as session:
            await session.execute(text("SELECT * FROM dbt_no_such_table"))

    with TestClient(app) as client:
        for path in ("/request-session", "/own-session"):
            with pytest.raises(sa_exc.DBAPIError, match="dbt_no_such_table"):
                client.get(path)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/own-session")
    assert response.status_code == 500
    assert "dbt_no_such_table" not in response.text
