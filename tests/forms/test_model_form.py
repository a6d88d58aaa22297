"""Forms built from SQLAlchemy models: columns to fields, foreign keys to selects."""

from __future__ import annotations

import datetime
import decimal
import enum
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import field_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from satchel import App, Request
from satchel.exceptions import ImproperlyConfigured
from satchel.forms import Form, ModelChoices, model_form
from satchel.http.datastructures import MultiDict
from satchel.testing import AsyncTestClient, TestClient


class Base(DeclarativeBase):
    pass


class Status(enum.Enum):
    DRAFT = "draft"
    LIVE = "live"


class Author(Base):
    __tablename__ = "form_author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))

    def __str__(self) -> str:
        return f"{self.name} (#{self.id})"


class Tag(Base):
    __tablename__ = "form_tag"
    slug: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(40))


class Article(Base):
    __tablename__ = "form_article"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(100), info={"label": "Headline"})
    body: Mapped[str] = mapped_column(sa.Text, default="", doc="Markdown is fine.")
    status: Mapped[Status] = mapped_column(default=Status.DRAFT)
    kind: Mapped[str] = mapped_column(
        sa.Enum("news", "essay", name="form_article_kind"), default="news"
    )
    published: Mapped[bool]
    rating: Mapped[int | None]
    price: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(8, 2))
    publish_on: Mapped[datetime.date | None]
    token: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("form_author.id"))
    tag_slug: Mapped[str | None] = mapped_column(sa.ForeignKey("form_tag.slug"))
    created: Mapped[datetime.datetime] = mapped_column(server_default=sa.func.now())
    updated: Mapped[datetime.datetime | None] = mapped_column(onupdate=sa.func.now())
    extra: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


@pytest.fixture
def engine(tmp_path: Any) -> Iterator[sa.Engine]:
    # A file database: sync providers run in worker threads, each with its own connection.
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'forms.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(
            [
                Author(id=1, name="Ann"),
                Author(id=2, name="<b>Bob</b>"),
                Tag(slug="py", title="Python"),
            ]
        )
        session.commit()
    yield engine
    engine.dispose()


ArticleForm = model_form(Article)


def test_columns_become_fields() -> None:
    fields = ArticleForm.model_fields
    assert list(fields) == [
        "title",
        "body",
        "status",
        "kind",
        "published",
        "rating",
        "price",
        "publish_on",
        "token",
        "author_id",
        "tag_slug",
    ]
    specs = ArticleForm.form_specs()
    kinds = {name: spec.kind for name, spec in specs.items()}
    assert kinds == {
        "title": "text",
        "body": "textarea",
        "status": "select",
        "kind": "select",
        "published": "checkbox",
        "rating": "number",
        "price": "number",
        "publish_on": "date",
        "token": "text",
        "author_id": "select",
        "tag_slug": "select",
    }
    assert specs["title"].attrs["maxlength"] == "100"
    assert specs["title"].label == "Headline"
    assert specs["body"].help_text == "Markdown is fine."
    assert specs["author_id"].label == "Author"
    required = {name for name, spec in specs.items() if spec.required}
    assert required == {"title", "author_id"}
    assert fields["status"].default is Status.DRAFT
    assert fields["rating"].default is None
    assert ArticleForm.__model__ is Article  # type: ignore[attr-defined]


def test_primary_and_generated_columns_are_left_out_unless_included() -> None:
    assert not {"id", "created", "updated", "extra"} & set(ArticleForm.model_fields)
    with_id = model_form(Article, include=["id", "title"])
    assert list(with_id.model_fields) == ["id", "title"]
    without = model_form(Article, exclude=["body", "token", "tag_slug"])
    assert {"body", "token", "tag_slug"}.isdisjoint(without.model_fields)


def test_bad_names_and_unsupported_columns_are_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="no column named nope"):
        model_form(Article, exclude=["nope"])
    with pytest.raises(ImproperlyConfigured, match=r"'extra'.*cannot edit"):
        model_form(Article, include=["extra"])


def test_foreign_key_choices_come_from_the_table(engine: sa.Engine, html: Any) -> None:
    app = App(csrf_enabled=False)

    @app.provider
    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    @app.route("/articles/new", methods=["GET", "POST"])
    async def new_article(request: Request, session: Session) -> Any:
        form = await ArticleForm.from_request(request, session=session)
        if form.is_valid():
            article = form.populate(Article())
            session.add(article)
            session.commit()
            return {"id": article.id, "author": article.author_id, "tag": article.tag_slug}
        return {"html": str(form.render()), "errors": form.errors}

    client = TestClient(app)
    page = html(client.get("/articles/new").json()["html"])
    options = [(o.attrs["value"], o.text) for o in page.control("author_id").children]
    assert options == [("", "---------"), ("1", "Ann (#1)"), ("2", "<b>Bob</b> (#2)")]
    tags = [(o.attrs["value"], o.text) for o in page.control("tag_slug").children]
    assert tags == [("", "---------"), ("py", "Python")]

    created = client.post(
        "/articles/new", data={"title": "Hello", "author_id": "2", "tag_slug": "py"}
    )
    assert created.json() == {"id": 1, "author": 2, "tag": "py"}

    refused = client.post("/articles/new", data={"title": "Hello", "author_id": "99"})
    assert refused.json()["errors"] == {"author_id": ["Select a valid choice."]}


def test_database_choices_need_a_session() -> None:
    with pytest.raises(ImproperlyConfigured, match="from_request"):
        ArticleForm.bind({"title": "x"})
    # choices= given by the caller is enough (the admin may pass its own).
    form = ArticleForm.bind(
        {"title": "x", "author_id": "1"},
        choices={"author_id": [(1, "Ann")], "tag_slug": []},
    )
    assert form.is_valid()
    assert form.data.author_id == 1  # type: ignore[attr-defined]


async def test_async_session_loads_choices(tmp_path: Any) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'forms.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    maker = async_sessionmaker(engine)
    async with maker() as session:
        session.add(Author(id=5, name="Cy"))
        await session.commit()
    app = App(csrf_enabled=False)

    @app.provider
    async def db() -> AsyncIterator[AsyncSession]:
        async with maker() as s:
            yield s

    @app.route("/pick", methods=["GET", "POST"])
    async def pick(request: Request, session: AsyncSession) -> Any:
        form = await ArticleForm.from_request(request, session=session)
        return {"options": [c.label for c in form["author_id"].choices], "errors": form.errors}

    async with AsyncTestClient(app) as client:
        response = await client.get("/pick")
        assert response.json()["options"] == ["Cy (#5)"]
        posted = await client.post("/pick", data={"title": "T", "author_id": "5"})
        assert posted.json()["errors"] == {}
    await engine.dispose()


def test_base_form_fields_and_validators_are_kept() -> None:
    class ArticleBase(Form):
        title: str  # overrides the column's field: no max_length here

        @field_validator("title")
        @classmethod
        def capitalised(cls, value: str) -> str:
            if not value[:1].isupper():
                raise ValueError("Start with a capital letter.")
            return value

    Custom = model_form(Article, include=["title", "rating"], base=ArticleBase)
    assert Custom.__name__ == "ArticleForm"
    assert Custom.bind({"title": "lower"}).errors == {"title": ["Start with a capital letter."]}
    assert Custom.bind({"title": "T" * 500}).is_valid()


def test_row_labels_fall_back_to_a_name_attribute() -> None:
    choices = ModelChoices(Tag, value="slug")
    assert repr(choices) == "ModelChoices(Tag, value='slug')"
    from satchel.forms.models import _row_label

    assert _row_label(Tag(slug="x", title="")) == "Tag x"
    assert _row_label(Author(id=3, name="Di")) == "Di (#3)"


def test_model_form_values_render_from_an_instance(html: Any) -> None:
    article = Article(title="Old <title>", status=Status.LIVE, published=True, rating=4)
    form = ArticleForm.unbound(initial=article, choices={"author_id": [], "tag_slug": []})
    page = html(form.render())
    assert page.control("title").attrs["value"] == "Old <title>"
    assert page.control("published").has("checked")
    assert page.control("rating").attrs["value"] == "4"
    live = [o.attrs["value"] for o in page.control("status").children if o.has("selected")]
    assert live == ["live"]


def test_multidict_bind_for_a_model_form() -> None:
    form = ArticleForm.bind(
        MultiDict([("title", "A"), ("author_id", "1"), ("price", "9.99"), ("published", "on")]),
        choices={"author_id": [(1, "Ann")], "tag_slug": []},
    )
    assert form.is_valid(), form.errors
    data: Any = form.data
    assert data.price == decimal.Decimal("9.99")
    assert data.published is True
    assert data.kind == "news"


def _postgres_url() -> str | None:
    url = os.environ.get("SATCHEL_TEST_POSTGRES_URL")
    if not url:
        return None
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def test_choices_from_postgresql() -> None:
    url = _postgres_url()
    if url is None:
        pytest.skip("SATCHEL_TEST_POSTGRES_URL is not set")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.run_sync(Base.metadata.create_all)
    except OSError as exc:
        await engine.dispose()
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        maker = async_sessionmaker(engine)
        async with maker() as session:
            session.add_all([Author(id=1, name="Ann"), Author(id=2, name="Bob")])
            await session.commit()
            data = MultiDict([("title", "T"), ("author_id", "2")])

            class FakeRequest:
                method = "POST"

                async def form(self) -> MultiDict[str]:
                    return data

            form = await ArticleForm.from_request(FakeRequest(), session=session)  # type: ignore[arg-type]
            assert form.is_valid(), form.errors
            assert [c.label for c in form["author_id"].choices] == ["Ann (#1)", "Bob (#2)"]
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
        await engine.dispose()
