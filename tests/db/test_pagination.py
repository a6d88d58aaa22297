"""get_or_404, numbered pages and keyset pages, sync and async, through handlers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from dbt_models import Author, Post
from sqlalchemy import select

from satchel import App
from satchel.db import (
    AsyncSession,
    Database,
    KeysetPage,
    Page,
    Session,
    get_or_404,
    keyset_paginate,
    paginate,
)
from satchel.testing import TestClient

BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def seeded(database: Database) -> Database:
    with database.session() as session:
        author = Author(name="Ann", email="ann@example.com")
        for n in range(25):
            # Two posts per "day", so (published, id) ordering needs the tiebreaker.
            published = (BASE + dt.timedelta(days=n // 2)).replace(tzinfo=None)
            session.add(Post(title=f"post {n:02d}", author=author, published=published))
    return database


def test_get_or_404(make_app: Callable[..., App], seeded: Database):
    app = make_app()

    @app.get("/a/{id:int}")
    async def show_async(id: int, session: AsyncSession) -> dict[str, str]:
        return {"name": (await get_or_404(session, Author, id)).name}

    @app.get("/s/{id:int}")
    def show_sync(id: int, session: Session) -> dict[str, str]:
        return {"name": get_or_404(session, Author, id).name}

    with seeded.session() as session:
        author_id = session.scalars(select(Author.id)).one()
    with TestClient(app) as client:
        for prefix in ("/a", "/s"):
            assert client.get(f"{prefix}/{author_id}").json() == {"name": "Ann"}
            missing = client.get(f"{prefix}/{author_id + 1000}")
            assert missing.status_code == 404
            assert missing.json()["detail"] == "Author not found"


def _page_json(page: Page[Post]) -> dict[str, object]:
    return {
        "titles": [post.title for post in page.items],
        **page.to_dict(),
        "has_next": page.has_next,
    }


def test_paginate_sync_and_async(make_app: Callable[..., App], seeded: Database):
    app = make_app()
    stmt = select(Post).order_by(Post.id)

    @app.get("/async")
    async def list_async(
        session: AsyncSession, page: int = 1, per_page: int = 10
    ) -> dict[str, object]:
        return _page_json(await paginate(session, stmt, page=page, per_page=per_page))

    @app.get("/sync")
    def list_sync(session: Session, page: int = 1, per_page: int = 10) -> dict[str, object]:
        return _page_json(paginate(session, stmt, page=page, per_page=per_page))

    with TestClient(app) as client:
        for path in ("/async", "/sync"):
            first = client.get(path).json()
            assert first["titles"] == [f"post {n:02d}" for n in range(10)]
            assert first["total"] == 25
            assert first["pages"] == 3
            assert (first["prev_page"], first["next_page"], first["has_next"]) == (None, 2, True)
            last = client.get(path, params={"page": 3}).json()
            assert last["titles"] == [f"post {n:02d}" for n in range(20, 25)]
            assert (last["prev_page"], last["next_page"]) == (2, None)
            beyond = client.get(path, params={"page": 9}).json()
            assert beyond["titles"] == []
            assert beyond["next_page"] is None


def test_paginate_without_count(seeded: Database):
    with seeded.session() as session:
        page = paginate(session, select(Post).order_by(Post.id), page=3, per_page=10, count=False)
    assert page.total is None
    assert page.pages is None
    assert len(page.items) == 5
    assert not page.has_next
    assert page.prev_page == 2


def test_paginate_columns_give_rows(seeded: Database):
    with seeded.session() as session:
        page = paginate(session, select(Post.id, Post.title).order_by(Post.id), per_page=2)
        titles = paginate(session, select(Post.title).order_by(Post.title.desc()), per_page=2)
    assert [row.title for row in page.items] == ["post 00", "post 01"]
    assert titles.items == ["post 24", "post 23"]


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ({"page": 0}, "page"),
        ({"page": -3}, "page"),
        ({"per_page": 0}, "per_page"),
        ({"per_page": 101}, "per_page"),
        ({"per_page": 10**9}, "per_page"),
    ],
)
def test_paginate_refuses_bad_numbers_with_422(
    make_app: Callable[..., App], seeded: Database, query: dict[str, int], where: str
):
    app = make_app()

    @app.get("/posts")
    async def posts(session: AsyncSession, page: int = 1, per_page: int = 10) -> dict[str, object]:
        result = await paginate(
            session, select(Post).order_by(Post.id), page=page, per_page=per_page
        )
        return result.to_dict()

    with TestClient(app) as client:
        response = client.get("/posts", params=query)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [["query", where]]


def test_max_per_page_can_be_raised(seeded: Database):
    with seeded.session() as session:
        page = paginate(session, select(Post).order_by(Post.id), per_page=500, max_per_page=1000)
    assert len(page.items) == 25


def test_keyset_walks_every_row_once(make_app: Callable[..., App], seeded: Database):
    app = make_app()

    @app.get("/posts")
    async def posts(session: AsyncSession, after: int | None = None) -> dict[str, object]:
        page = await keyset_paginate(
            session, select(Post), order_by=Post.id, after=after, per_page=10
        )
        return {"titles": [p.title for p in page.items], "next": page.next_after}

    seen: list[str] = []
    after: int | None = None
    with TestClient(app) as client:
        for _ in range(5):
            body = client.get("/posts", params={} if after is None else {"after": after}).json()
            seen += body["titles"]
            after = body["next"]
            if after is None:
                break
    assert seen == [f"post {n:02d}" for n in range(25)]


def test_keyset_two_columns_descending_sync(seeded: Database):
    order = (Post.published, Post.id)
    seen: list[str] = []
    with seeded.session() as session:
        page: KeysetPage[Post] = keyset_paginate(
            session, select(Post), order_by=order, per_page=4, descending=True
        )
        while True:
            seen += [post.title for post in page.items]
            if not page.has_next:
                break
            page = keyset_paginate(
                session,
                select(Post),
                order_by=order,
                after=page.next_after,
                per_page=4,
                descending=True,
            )
    assert seen == [f"post {n:02d}" for n in reversed(range(25))]


async def test_keyset_async_columns(seeded: Database):
    async with seeded.async_session() as session:
        page = await keyset_paginate(
            session, select(Post.id, Post.title), order_by=Post.id, per_page=3
        )
        rest = await keyset_paginate(
            session,
            select(Post.id, Post.title),
            order_by=Post.id,
            after=page.next_after,
            per_page=30,
        )
    assert [row.title for row in page.items] == ["post 00", "post 01", "post 02"]
    assert len(rest.items) == 22
    assert rest.next_after is None
    await seeded.async_dispose()


def test_keyset_malformed_cursor_is_422(seeded: Database):
    from satchel import ValidationError

    with seeded.session() as session, pytest.raises(ValidationError):
        keyset_paginate(session, select(Post), order_by=(Post.published, Post.id), after=(1, 2, 3))
