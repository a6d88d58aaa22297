"""The fast read path (satchel.db.fastpath, fastsession, fastcore) on a real PostgreSQL.

Every test compares with what SQLAlchemy's own path answers or checks what the
database saw; a spy counts the reads that took the fast path, so a test also fails
when a statement that must take SQLAlchemy's path (locking, options, unknown
functions, listeners) is taken fast, or when a plain read is not.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import ForeignKey, String, bindparam, event, func, insert, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from satchel.db import Database, Model
from satchel.db import fastpath as fastpath_module
from satchel.db import fastsession as fastsession_module
from satchel.db.fastcore import FastAsyncConnection, fast_engine
from satchel.db.fastpath import plan_for
from satchel.db.fastsession import FastAsyncSession

URL = os.environ.get("SATCHEL_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="SATCHEL_TEST_POSTGRES_URL is not set")


class FpOwner(Model):
    __tablename__ = "fpt_owner"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    things: Mapped[list[FpThing]] = relationship(back_populates="owner", order_by="FpThing.id")


class FpThing(Model):
    __tablename__ = "fpt_thing"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(default=0)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("fpt_owner.id"))
    owner: Mapped[FpOwner | None] = relationship(back_populates="things")


TABLES = [FpOwner.__table__, FpThing.__table__]
THING = FpThing.__table__


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A private database on the PostgreSQL server, with the tables; dropped afterwards."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    assert URL is not None
    base = make_url(URL)
    admin = create_engine(
        base.set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )
    name = f"fpt_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL at $SATCHEL_TEST_POSTGRES_URL is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = base.set(database=name).render_as_string(hide_password=False)
    setup = Database(url)
    setup.create_all(TABLES)
    setup.dispose()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[Database]:
    database = Database(
        pg_url,
        engine_options={"pool_size": 2, "max_overflow": 0, "pool_timeout": 5},
        detect_n_plus_one=False,
    )
    async with database.async_engine.begin() as conn:
        await conn.execute(text("DELETE FROM fpt_thing"))
        await conn.execute(text("DELETE FROM fpt_owner"))
        await conn.execute(insert(FpOwner), [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}])
        await conn.execute(
            insert(FpThing),
            [
                {"id": i, "label": f"thing {i}", "count": i * 10, "owner_id": 1 + i % 2}
                for i in range(1, 6)
            ],
        )
    yield database
    await database.async_dispose()


@pytest.fixture
def engine(db: Database) -> Any:
    return fast_engine(db.async_engine)


@pytest.fixture
def maker(engine: Any) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, class_=FastAsyncSession, expire_on_commit=False)


@pytest.fixture
def plain_maker(db: Database) -> async_sessionmaker[AsyncSession]:
    """SQLAlchemy's own AsyncSession on the same database: what the answers must equal."""
    return async_sessionmaker(db.async_engine, expire_on_commit=False)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every read that takes the fast path: "borrowed" or "begin"/"in-transaction"."""
    calls: list[str] = []
    real_fetch, real_borrowed = fastpath_module.fetch, fastpath_module.fetch_borrowed

    async def fetch(connection: Any, adapter: Any, plan: Any, args: Any, begin: bool) -> Any:
        calls.append("begin" if begin else "in-transaction")
        return await real_fetch(connection, adapter, plan, args, begin)

    async def fetch_borrowed(engine: Any, plan: Any, args: Any) -> Any:
        calls.append("borrowed")
        return await real_borrowed(engine, plan, args)

    for module in (fastsession_module, __import__("satchel.db.fastcore").db.fastcore):
        monkeypatch.setattr(module, "fetch", fetch)
        monkeypatch.setattr(module, "fetch_borrowed", fetch_borrowed)
    return calls


def checked_out(engine: Any) -> int:
    return int(engine.sync_engine.pool.checkedout())


# -- ORM: session.get ----------------------------------------------------------------


async def test_get_answers_as_sqlalchemy_does(maker: Any, plain_maker: Any, spy: list[str]) -> None:
    async with maker() as session, plain_maker() as plain:
        fast, slow = await session.get(FpThing, 3), await plain.get(FpThing, 3)
        assert fast is not None and slow is not None
        assert (fast.id, fast.label, fast.count, fast.owner_id) == (
            slow.id, slow.label, slow.count, slow.owner_id,
        )  # fmt: skip
        assert fast in session and await session.get(FpThing, 3) is fast  # identity map
        assert await session.get(FpThing, 999) is None
        assert await session.get(FpThing, (4,)) is not None  # a one-element tuple too
    assert spy == ["borrowed", "borrowed", "borrowed"]


async def test_a_read_only_session_holds_no_connection_and_no_transaction(
    maker: Any, engine: Any, spy: list[str]
) -> None:
    async with maker() as session:
        await session.get(FpThing, 1)
        assert not session.in_transaction()
        assert checked_out(engine) == 0
        await session.commit()  # nothing to commit: still fine
    assert spy == ["borrowed"]


async def test_a_change_after_a_fast_get_is_flushed_and_committed(
    maker: Any, spy: list[str]
) -> None:
    async with maker() as session:
        thing = await session.get(FpThing, 2)
        assert thing is not None
        thing.count = 12345
        other = await session.get(FpThing, 3)  # autoflush: the UPDATE begins the transaction
        assert other is not None and session.in_transaction()
        await session.commit()
    async with maker() as session:
        again = await session.get(FpThing, 2)
        assert again is not None and again.count == 12345
    assert spy == ["borrowed", "in-transaction", "borrowed"]


async def test_pending_objects_are_flushed_before_a_read(maker: Any) -> None:
    async with maker() as session:
        session.add(FpThing(id=50, label="new", count=1))
        found = (await session.scalars(select(FpThing).where(FpThing.id == 50))).all()
        assert [t.label for t in found] == ["new"]
        await session.rollback()
    async with maker() as session:
        assert await session.get(FpThing, 50) is None  # rolled back: the read was inside


async def test_reads_inside_an_explicit_transaction_begin_it(maker: Any, spy: list[str]) -> None:
    async with maker() as session, session.begin():
        await session.get(FpThing, 1)
        conn = await session.connection()
        adapter = (await conn.get_raw_connection()).dbapi_connection
        assert adapter._transaction is not None  # BEGIN was sent before the read
        await session.get(FpThing, 2)
    assert spy == ["begin", "in-transaction"]


async def test_expired_attributes_are_filled_in_from_the_row(maker: Any) -> None:
    async with maker() as session:
        thing = await session.get(FpThing, 4)
        assert thing is not None
        session.expire(thing)
        rows = (await session.scalars(select(FpThing).where(FpThing.id == 4))).all()
        assert rows == [thing] and thing.label == "thing 4"  # no implicit load needed


# -- ORM: select(Model) --------------------------------------------------------------


async def test_select_answers_as_sqlalchemy_does(
    maker: Any, plain_maker: Any, spy: list[str]
) -> None:
    statements = [
        select(FpThing),
        select(FpThing).where(FpThing.count > 15).order_by(FpThing.count.desc()),
        select(FpThing).where(FpThing.label.like("thing%")).limit(2).offset(1),
        select(FpThing).where(FpThing.id == 1),
        select(FpThing).where(FpThing.id == 2),  # same shape, another value: not the first answer
    ]
    for statement in statements:
        async with maker() as session, plain_maker() as plain:
            fast = [(t.id, t.label, t.count) for t in (await session.scalars(statement)).all()]
            slow = [(t.id, t.label, t.count) for t in (await plain.scalars(statement)).all()]
            assert fast == slow
            rows = (await session.execute(statement)).all()
            assert [row.FpThing.id for row in rows] == [row[0] for row in fast]
    assert spy == ["borrowed"] * 10


async def test_statements_with_more_than_columns_take_sqlalchemy_path(
    maker: Any, spy: list[str]
) -> None:
    async with maker() as session:
        owners = (
            await session.scalars(select(FpOwner).options(selectinload(FpOwner.things)))
        ).all()
        assert sorted(len(o.things) for o in owners) == [2, 3]
        await session.execute(select(FpThing).execution_options(populate_existing=True))
        await session.get(FpThing, 1, populate_existing=True)
        await session.get(FpThing, 1, with_for_update=True)
        await session.scalars(select(FpThing).with_for_update())
        await session.scalars(select(FpThing.id))  # columns, not an entity: Core rows
        await session.scalars(select(FpThing).join(FpThing.owner))
    assert spy == []


async def test_session_listeners_are_honoured(maker: Any, spy: list[str]) -> None:
    seen: list[Any] = []
    async with maker() as session:
        event.listen(session.sync_session, "do_orm_execute", seen.append)
        await session.scalars(select(FpThing))
    assert spy == [] and len(seen) == 1


async def test_hostile_values_are_bound_parameters(maker: Any, engine: Any) -> None:
    hostile = "x'; DROP TABLE fpt_thing; --"
    async with maker() as session:
        assert (await session.scalars(select(FpThing).where(FpThing.label == hostile))).all() == []
        with pytest.raises(sa_exc.DBAPIError) as caught:
            await session.get(FpThing, hostile)  # not an integer: the driver refuses it
        assert caught.value.orig is not None
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(THING))).scalar() == 5


# -- Core: FastAsyncConnection --------------------------------------------------------


async def test_core_reads_borrow_a_connection_per_statement(engine: Any, spy: list[str]) -> None:
    read = select(THING.c.id, THING.c.label).where(THING.c.id == bindparam("id"))
    async with engine.connect() as conn:
        assert isinstance(conn, FastAsyncConnection)
        result = await conn.execute(read, {"id": 2})
        assert result.rowcount == 1
        row = result.one()
        assert (row.id, row.label, row._mapping["label"]) == (2, "thing 2", "thing 2")
        assert checked_out(engine) == 0 and not conn.in_transaction()
        assert (await conn.execute(read, {"id": 3})).scalar_one() == 3
        labels = (await conn.scalars(select(THING.c.label).order_by(THING.c.id))).all()
        assert labels == [f"thing {i}" for i in range(1, 6)]
    assert conn.closed
    assert spy == ["borrowed", "borrowed", "borrowed"]


async def test_core_writes_take_the_connection_and_commit(engine: Any, spy: list[str]) -> None:
    async with engine.connect() as conn:
        await conn.execute(insert(THING).values(id=60, label="sixty"))
        assert conn.in_transaction() and checked_out(engine) == 1
        found = (await conn.execute(select(THING.c.label).where(THING.c.id == 60))).scalar()
        assert found == "sixty"  # the read runs in the transaction that wrote
        await conn.commit()
    async with engine.begin() as conn:
        assert (await conn.execute(select(THING.c.id).where(THING.c.id == 60))).scalar() == 60
    assert spy == ["in-transaction", "begin"]


async def test_core_unsafe_reads_take_sqlalchemy_path(engine: Any, spy: list[str]) -> None:
    async with engine.connect() as conn:
        await conn.execute(select(func.pg_advisory_lock(42)))  # a function with effects
        await conn.execute(select(func.pg_advisory_unlock(42)))
        await conn.execute(select(THING.c.id).with_for_update())
        await conn.execute(select(THING.c.id).where(THING.c.id.in_([1, 2])))  # expanding
        await conn.execute(text("SELECT 1"))
        await conn.rollback()
    assert spy == []


async def test_a_cancelled_read_never_returns_a_busy_connection(engine: Any, pg_url: str) -> None:
    import asyncpg

    blocker = await asyncpg.connect(
        make_url(pg_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        await blocker.execute("BEGIN; LOCK TABLE fpt_thing IN ACCESS EXCLUSIVE MODE")

        async def read() -> Any:
            async with engine.connect() as conn:
                return (await conn.execute(select(THING.c.id))).all()

        with pytest.raises(TimeoutError):
            await asyncio.wait_for(read(), 0.3)
        await blocker.execute("ROLLBACK")
    finally:
        await blocker.close()
    for _ in range(4):  # more reads than the pool has connections: each one must work
        assert len(await read()) == 5


async def test_a_dead_connection_raises_a_database_error_then_heals(
    engine: Any, pg_url: str
) -> None:
    import asyncpg

    for _ in range(2):  # both pooled connections exist and sit in the pool
        async with engine.connect() as conn:
            await conn.execute(select(THING.c.id))
    killer = await asyncpg.connect(
        make_url(pg_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        killed = await killer.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await killer.close()
    assert killed >= 1
    failures = 0
    for _ in range(3):
        try:
            async with engine.connect() as conn:
                assert len((await conn.execute(select(THING.c.id))).all()) == 5
        except sa_exc.DBAPIError as exc:
            failures += 1
            invalidated = exc.connection_invalidated
            assert invalidated
    assert failures <= 1  # the dead ones are dropped; the next read reconnects


def test_plans_are_compiled_once_per_shape(engine: Any) -> None:
    dialect = engine.dialect
    first = plan_for(select(FpThing).where(FpThing.id == 1), dialect)
    second = plan_for(select(FpThing).where(FpThing.id == 2), dialect)
    assert first is not None and second is not None
    assert first[0] is second[0]  # one plan for the shape
    assert second[0].arguments(None, second[1]) == [2]  # each with its own values
    statement = select(THING.c.id).where(THING.c.id == bindparam("x"))
    found = plan_for(statement, dialect)
    assert found is not None and plan_for(statement, dialect) == (found[0], None)
    assert plan_for(select(THING.c.id).with_for_update(), dialect) is None
    assert plan_for(text("SELECT 1"), dialect) is None


async def test_core_streaming_and_run_sync_take_the_connection(engine: Any) -> None:
    async with engine.connect() as conn:
        with pytest.raises(sa_exc.InvalidRequestError, match="get_raw_connection"):
            conn.info  # noqa: B018 - nothing taken yet: says how to take it
        async with conn.stream(select(THING.c.id).order_by(THING.c.id)) as result:
            assert [row.id async for row in result] == [1, 2, 3, 4, 5]
        assert checked_out(engine) == 1
        count = await conn.run_sync(
            lambda sync: sync.execute(select(func.count()).select_from(THING)).scalar()
        )
        assert count == 5
    assert checked_out(engine) == 0


async def test_engine_listeners_see_every_statement(
    maker: Any, engine: Any, spy: list[str]
) -> None:
    seen: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        async with maker() as session:
            await session.get(FpThing, 1)  # no transaction yet: would borrow
            thing = await session.get(FpThing, 2)
            assert thing is not None
            thing.count = 7
            await session.get(FpThing, 3)  # in the transaction the flush began
            await session.rollback()
        async with engine.connect() as conn:
            await conn.execute(select(THING.c.id))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listener)
    assert spy == []
    assert sum("FROM fpt_thing" in s for s in seen) == 4
