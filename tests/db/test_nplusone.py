"""The N+1 detector: debug-mode reports of one SELECT shape run too many times."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from dbt_models import Author, Post
from sqlalchemy import select

from satchel import App
from satchel.db import AsyncSession, Database, Session
from satchel.db.nplusone import HEADER, QueryCounter, shape
from satchel.testing import TestClient

THIS_FILE = str(Path(__file__).resolve())


@pytest.fixture
def seeded(database: Database) -> Database:
    with database.session() as session:
        for n in range(6):
            author = Author(name=f"a{n}", email=f"n{n}@example.com")
            session.add(Post(title=f"p{n}", author=author))
    return database


def _line_of(marker: str) -> int:
    source = Path(__file__).read_text().splitlines()
    return next(n for n, line in enumerate(source, 1) if marker in line and "_line_of" not in line)


LINES = {"sync": _line_of("# one SELECT per post"), "async": _line_of("# explicit, but still N+1")}


def _routes(app: App) -> None:
    @app.get("/sync")
    def sync_list(session: Session) -> list[str]:
        posts = session.scalars(select(Post).order_by(Post.id)).all()
        return [post.author.name for post in posts]  # one SELECT per post

    @app.get("/async")
    async def async_list(session: AsyncSession) -> list[str]:
        ids = (await session.scalars(select(Post.author_id).order_by(Post.id))).all()
        names = []
        for author_id in ids:
            author = await session.get(Author, author_id)  # explicit, but still N+1
            assert author is not None
            names.append(author.name)
        return names

    @app.get("/fine")
    async def fine(session: AsyncSession) -> dict[str, int]:
        return {"authors": len((await session.scalars(select(Author))).all())}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_detector_reports_statement_and_user_line(
    make_app: Callable[..., App], seeded: Database, kind: str, caplog: pytest.LogCaptureFixture
):
    app = make_app(debug=True, n_plus_one_threshold=3)
    _routes(app)
    with TestClient(app) as client, caplog.at_level(logging.WARNING, logger="satchel.db"):
        response = client.get(f"/{kind}")
    assert response.status_code == 200
    assert len(response.json()) == 6
    report = response.headers[HEADER]
    assert report.startswith("6x ")
    assert "FROM dbt_author" in report
    assert f"{THIS_FILE}:{LINES[kind]}" in report
    assert any(
        "N+1 queries in GET" in r.getMessage() and "dbt_author" in r.getMessage()
        for r in caplog.records
    )


def test_under_threshold_is_not_reported(make_app: Callable[..., App], seeded: Database):
    app = make_app(debug=True, n_plus_one_threshold=6)  # exactly 6 lookups: not more than 6
    _routes(app)
    with TestClient(app) as client:
        assert HEADER not in client.get("/sync").headers
        assert HEADER not in client.get("/fine").headers


def test_detector_off_without_debug(make_app: Callable[..., App], seeded: Database):
    app = make_app(debug=False, n_plus_one_threshold=1)
    _routes(app)
    with TestClient(app) as client:
        assert HEADER not in client.get("/sync").headers


def test_detector_can_be_forced_on_without_debug(make_app: Callable[..., App], seeded: Database):
    app = make_app(debug=False, n_plus_one_threshold=2, n_plus_one_detection=True)
    _routes(app)
    with TestClient(app) as client:
        assert client.get("/sync").headers[HEADER].startswith("6x ")


def test_counts_are_per_request(make_app: Callable[..., App], seeded: Database):
    app = make_app(debug=True, n_plus_one_threshold=4)

    @app.get("/three")
    async def three(session: AsyncSession) -> str:
        for _ in range(3):
            await session.scalar(select(Author).where(Author.email == "n0@example.com"))
        return "ok"

    with TestClient(app) as client:
        for _ in range(3):  # 9 in all, but never more than 4 in one request
            assert HEADER not in client.get("/three").headers


def test_shape_blanks_literals_and_in_lists():
    assert shape("SELECT * FROM t WHERE id = 5 AND name = 'x''y'") == (
        "SELECT * FROM t WHERE id = ? AND name = ?"
    )
    assert shape("SELECT a FROM t WHERE id IN (?, ?, ?)") == shape(
        "SELECT a FROM t WHERE id IN (?)"
    )
    assert shape("SELECT a\n   FROM t_2 WHERE x = $1") == "SELECT a FROM t_2 WHERE x = $1"
    assert shape("SELECT a FROM t WHERE b = -1.5") == "SELECT a FROM t WHERE b = ?"


def test_counter_ignores_writes():
    counter = QueryCounter(threshold=1)
    for _ in range(5):
        counter.record("INSERT INTO t (a) VALUES (?)")
        counter.record("UPDATE t SET a = 1")
    assert counter.offenders() == []
    counter.record("SELECT 1")
    counter.record("  SELECT 2")
    assert [o.count for o in counter.offenders()] == [2]
