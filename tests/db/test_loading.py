"""Explicit loading: async sessions never load implicitly; the error says what to do."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dbt_models import Author, Post
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from satchel import App
from satchel.db import AsyncSession, Database, LazyLoadError, Session
from satchel.testing import TestClient


@pytest.fixture
def seeded(database: Database) -> Database:
    with database.session() as session:
        author = Author(name="Ann", email="ann@example.com")
        session.add_all([Post(title="one", author=author), Post(title="two", author=author)])
    return database


def _ids(database: Database) -> tuple[int, int]:
    with database.session() as session:
        post = session.scalars(select(Post).order_by(Post.id)).first()
        assert post is not None
        return post.id, post.author_id


def test_many_to_one_lazy_load_raises_naming_relationship_and_fix(
    make_app: Callable[..., App], seeded: Database
):
    app = make_app()
    post_id, _ = _ids(seeded)

    @app.get("/posts/{id:int}")
    async def show(id: int, session: AsyncSession) -> dict[str, str]:
        post = await session.get(Post, id)
        assert post is not None
        return {"author": post.author.name}

    with TestClient(app) as client, pytest.raises(LazyLoadError) as caught:
        client.get(f"/posts/{post_id}")
    message = str(caught.value)
    assert "Post.author is not loaded" in message
    assert "joinedload(Post.author)" in message
    assert "await post.awaitable_attrs.author" in message
    assert "greenlet" not in message


def test_collection_lazy_load_suggests_selectinload(make_app: Callable[..., App], seeded: Database):
    app = make_app()
    _, author_id = _ids(seeded)

    @app.get("/authors/{id:int}")
    async def show(id: int, session: AsyncSession) -> dict[str, int]:
        author = await session.get(Author, id)
        assert author is not None
        return {"posts": len(author.posts)}

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(f"/authors/{author_id}")
    assert response.status_code == 500
    with (
        TestClient(app) as client,
        pytest.raises(LazyLoadError, match=r"selectinload\(Author\.posts\)"),
    ):
        client.get(f"/authors/{author_id}")


def test_expired_attribute_names_refresh(make_app: Callable[..., App], seeded: Database):
    app = make_app()
    _, author_id = _ids(seeded)

    @app.get("/authors/{id:int}")
    async def show(id: int, session: AsyncSession) -> dict[str, str]:
        author = await session.get(Author, id)
        assert author is not None
        session.expire(author)
        return {"name": author.name}

    with TestClient(app) as client, pytest.raises(LazyLoadError) as caught:
        client.get(f"/authors/{author_id}")
    assert "Author.name" in str(caught.value)
    assert "await session.refresh(author)" in str(caught.value)


def test_explicit_loading_works(make_app: Callable[..., App], seeded: Database):
    app = make_app()
    post_id, author_id = _ids(seeded)

    @app.get("/posts/{id:int}")
    async def show(id: int, session: AsyncSession) -> dict[str, str]:
        post = await session.get(Post, id, options=[joinedload(Post.author)])
        assert post is not None
        return {"author": post.author.name}

    @app.get("/authors/{id:int}")
    async def author_posts(id: int, session: AsyncSession) -> list[str]:
        stmt = select(Author).where(Author.id == id).options(selectinload(Author.posts))
        author = (await session.scalars(stmt)).one()
        return [post.title for post in author.posts]

    @app.get("/awaitable/{id:int}")
    async def awaitable(id: int, session: AsyncSession) -> list[str]:
        author = await session.get(Author, id)
        assert author is not None
        posts = await author.awaitable_attrs.posts
        return [post.title for post in posts]

    with TestClient(app) as client:
        assert client.get(f"/posts/{post_id}").json() == {"author": "Ann"}
        assert client.get(f"/authors/{author_id}").json() == ["one", "two"]
        assert client.get(f"/awaitable/{author_id}").json() == ["one", "two"]


def test_sync_sessions_still_lazy_load(make_app: Callable[..., App], seeded: Database):
    app = make_app()
    _, author_id = _ids(seeded)

    @app.get("/authors/{id:int}")
    def show(id: int, session: Session) -> list[str]:
        author = session.get(Author, id)
        assert author is not None
        return [post.title for post in author.posts]

    with TestClient(app) as client:
        assert client.get(f"/authors/{author_id}").json() == ["one", "two"]


async def test_lazy_load_in_script_session_raises_too(seeded: Database):
    async with seeded.async_session() as session:
        post = (await session.scalars(select(Post).limit(1))).one()
        with pytest.raises(LazyLoadError, match=r"Post\.author"):
            _ = post.author
        await session.run_sync(lambda sync: post.author)  # explicit sync work may load
        assert post.author.name == "Ann"
    await seeded.async_dispose()
