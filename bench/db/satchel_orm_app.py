"""Satchel, ORM path: models, the request-scoped ``AsyncSession``, ``session.get``, ``select``."""

from operator import attrgetter

from _db_common import (
    ADDITIONAL_FORTUNE,
    DATABASE_URL,
    HERE,
    POOL_SIZE,
    clamp_queries,
    random_id,
    random_number,
)
from db_models import Fortune, World
from sqlalchemy import select

from satchel import App, HTMLResponse, Request, render
from satchel.db import AsyncSession, Database

app = App(
    database=Database(DATABASE_URL),
    root_path=HERE,
    debug=False,
    openapi_url=None,
    database_pool_size=POOL_SIZE,
    database_max_overflow=0,
)


@app.get("/db")
async def single(session: AsyncSession) -> dict:
    world = await session.get(World, random_id())
    return {"id": world.id, "randomNumber": world.randomnumber}


@app.get("/queries")
async def queries(session: AsyncSession, queries: str = "1") -> list:
    worlds = []
    for _ in range(clamp_queries(queries)):
        world = await session.get(World, random_id())
        worlds.append({"id": world.id, "randomNumber": world.randomnumber})
    return worlds


@app.get("/updates")
async def updates(session: AsyncSession, queries: str = "1") -> list:
    worlds = []
    for _ in range(clamp_queries(queries)):
        world = await session.get(World, random_id())
        world.randomnumber = random_number()
        worlds.append({"id": world.id, "randomNumber": world.randomnumber})
    return worlds  # the session commits when the handler returns (UPDATEs sorted by id)


@app.get("/fortunes")
async def fortunes(request: Request, session: AsyncSession) -> HTMLResponse:
    rows = list(await session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return render(request, "fortunes.html", fortunes=rows)
