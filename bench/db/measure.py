"""In-process timings: what one database read costs on each path, in microseconds.

    .venv/bin/python bench/db/measure.py [--n 2000]

No HTTP: each line runs one operation N times on the event loop, one at a time, and
prints the mean. The first lines are the driver alone (an open asyncpg connection); the
others add SQLAlchemy's and Satchel's layers one by one, so the difference between two
lines is what a layer costs. Needs the benchmark tables (bench/db/setup.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import asyncpg  # noqa: E402
from _db_common import ALL_FORTUNES, DATABASE_URL, POOL_SIZE, READ_ROW, random_id  # noqa: E402
from db_models import Fortune, World, fortune_table, world_table  # noqa: E402
from sqlalchemy import select  # noqa: E402

from satchel.db import Database  # noqa: E402

Step = Callable[[], Awaitable[object]]


async def timed(label: str, step: Step, n: int) -> float:
    for _ in range(min(200, n)):  # warm caches, prepared statements, the pool
        await step()
    # The best of five rounds: this machine is shared, and a round that something else
    # interrupted says nothing about the code.
    walls, cpus = [], []
    each = max(1, n // 5)
    for _ in range(5):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(each):
            await step()
        walls.append((time.perf_counter() - start) / each * 1e6)
        cpus.append((time.process_time() - start_cpu) / each * 1e6)
    print(f"| {label} | {min(cpus):,.0f} | {min(walls):,.0f} |", flush=True)
    return min(cpus)


async def main(n: int) -> None:
    raw_url = DATABASE_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(raw_url)
    pool = await asyncpg.create_pool(raw_url, min_size=POOL_SIZE, max_size=POOL_SIZE)
    db = Database(
        DATABASE_URL,
        engine_options={"pool_size": POOL_SIZE, "max_overflow": 0},
        detect_n_plus_one=False,
    )
    engine = db.async_engine
    by_id = select(World).where(World.id == 1)  # noqa: F841 - compiled once below
    print("| operation | CPU us (this process) | wall us |\n|---|---:|---:|")

    async def fetchrow() -> object:
        return await conn.fetchrow(READ_ROW, random_id())

    async def pool_fetchrow() -> object:
        async with pool.acquire() as c:
            return await c.fetchrow(READ_ROW, random_id())

    async def fetch_fortunes() -> object:
        return await conn.fetch(ALL_FORTUNES)

    await timed("asyncpg fetchrow, open connection", fetchrow, n)
    await timed("asyncpg pool.acquire + fetchrow", pool_fetchrow, n)
    await timed("asyncpg fetch 12 fortunes, open connection", fetch_fortunes, n)

    async with engine.connect() as sa_conn:
        stmt_world = world_table.c

        async def core_select() -> object:
            stmt = select(stmt_world.id, stmt_world.randomnumber).where(
                stmt_world.id == random_id()
            )
            return (await sa_conn.execute(stmt)).first()

        async def core_fortunes() -> object:
            return (await sa_conn.execute(select(fortune_table))).all()

        await timed("SQLAlchemy Core select, open connection (in its transaction)", core_select, n)
        await timed("SQLAlchemy Core select 12 fortunes, open connection", core_fortunes, n)

    async def core_cycle() -> object:
        async with engine.connect() as c:
            stmt = select(world_table.c.id, world_table.c.randomnumber).where(
                world_table.c.id == random_id()
            )
            return (await c.execute(stmt)).first()

    await timed("SQLAlchemy Core engine.connect + select + close (BEGIN, ROLLBACK)", core_cycle, n)

    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def core_cycle_autocommit() -> object:
        async with autocommit.connect() as c:
            stmt = select(world_table.c.id, world_table.c.randomnumber).where(
                world_table.c.id == random_id()
            )
            return (await c.execute(stmt)).first()

    await timed("  same, AUTOCOMMIT engine (no BEGIN/ROLLBACK)", core_cycle_autocommit, n)

    async with db.async_session() as session:

        async def orm_get() -> object:
            session.expunge_all()
            return await session.get(World, random_id())

        async def orm_fortunes() -> object:
            session.expunge_all()
            return (await session.scalars(select(Fortune))).all()

        await timed("ORM session.get, open session (in its transaction)", orm_get, n)
        await timed("ORM select(Fortune) 12 rows, open session", orm_fortunes, n)

    async def orm_cycle() -> object:
        async with db.async_session() as s:
            return await s.get(World, random_id())

    await timed("ORM new session + get + commit + close (BEGIN, COMMIT)", orm_cycle, n)
    await conn.close()
    await pool.close()
    await db.async_dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    asyncio.run(main(parser.parse_args().n))
