"""Satchel, SQLAlchemy Core path: ``select()`` on Table objects through the Database's engine."""

from _db_common import (
    ADDITIONAL_FORTUNE,
    DATABASE_URL,
    HERE,
    POOL_SIZE,
    clamp_queries,
    random_id,
    random_number,
)
from db_models import fortune_table, world_table
from sqlalchemy import bindparam, select, update

from satchel import App, HTMLResponse, Request, render
from satchel.db import Database

db = Database(DATABASE_URL)
app = App(
    database=db,
    root_path=HERE,
    debug=False,
    openapi_url=None,
    database_pool_size=POOL_SIZE,
    database_max_overflow=0,
)

world = world_table.c
READ_WORLD = select(world.id, world.randomnumber).where(world.id == bindparam("id"))
WRITE_WORLD = (
    update(world_table)
    .where(world.id == bindparam("world_id"))
    .values(randomnumber=bindparam("number"))
)
ALL_FORTUNES = select(fortune_table.c.id, fortune_table.c.message)


@app.get("/db")
async def single() -> dict:
    async with db.async_engine.connect() as conn:
        row = (await conn.execute(READ_WORLD, {"id": random_id()})).one()
    return {"id": row.id, "randomNumber": row.randomnumber}


@app.get("/queries")
async def queries(queries: str = "1") -> list:
    worlds = []
    async with db.async_engine.connect() as conn:
        for _ in range(clamp_queries(queries)):
            row = (await conn.execute(READ_WORLD, {"id": random_id()})).one()
            worlds.append({"id": row.id, "randomNumber": row.randomnumber})
    return worlds


@app.get("/updates")
async def updates(queries: str = "1") -> list:
    worlds = []
    async with db.async_engine.begin() as conn:
        for _ in range(clamp_queries(queries)):
            row = (await conn.execute(READ_WORLD, {"id": random_id()})).one()
            worlds.append({"id": row.id, "randomNumber": random_number()})
        # Sorted by id: concurrent requests lock rows in the same order (no deadlocks).
        changes = sorted((w["id"], w["randomNumber"]) for w in worlds)
        await conn.execute(WRITE_WORLD, [{"world_id": i, "number": n} for i, n in changes])
    return worlds


@app.get("/fortunes")
async def fortunes(request: Request) -> HTMLResponse:
    async with db.async_engine.connect() as conn:
        rows = [tuple(row) for row in await conn.execute(ALL_FORTUNES)]
    rows.append((0, ADDITIONAL_FORTUNE))
    rows.sort(key=lambda row: row[1])
    return render(request, "fortunes.html", fortunes=[{"id": i, "message": m} for i, m in rows])
