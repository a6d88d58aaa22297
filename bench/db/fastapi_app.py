"""FastAPI + SQLAlchemy async (asyncpg): the session dependency of FastAPI's SQL tutorial."""

from collections.abc import AsyncIterator
from operator import attrgetter
from typing import Annotated

from _db_common import (
    ADDITIONAL_FORTUNE,
    DATABASE_URL,
    POOL_SIZE,
    TEMPLATES,
    clamp_queries,
    random_id,
    random_number,
)
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class World(Base):
    __tablename__ = "world"
    id: Mapped[int] = mapped_column(primary_key=True)
    randomnumber: Mapped[int]


class Fortune(Base):
    __tablename__ = "fortune"
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(2048))


engine = create_async_engine(
    DATABASE_URL.replace("postgresql://", "postgresql+asyncpg://"),
    pool_size=POOL_SIZE,
    max_overflow=0,
)
new_session = async_sessionmaker(engine, expire_on_commit=False)
templates = Jinja2Templates(directory=TEMPLATES)
app = FastAPI()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with new_session() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


@app.get("/db")
async def single(session: Session):
    world = await session.get(World, random_id())
    return {"id": world.id, "randomNumber": world.randomnumber}


@app.get("/queries")
async def queries(session: Session, queries: str | None = None):
    worlds = []
    for _ in range(clamp_queries(queries)):
        world = await session.get(World, random_id())
        worlds.append({"id": world.id, "randomNumber": world.randomnumber})
    return worlds


@app.get("/updates")
async def updates(session: Session, queries: str | None = None):
    worlds = []
    for _ in range(clamp_queries(queries)):
        world = await session.get(World, random_id())
        world.randomnumber = random_number()
        worlds.append({"id": world.id, "randomNumber": world.randomnumber})
    await session.commit()
    return worlds


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes(request: Request, session: Session):
    rows = list(await session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return templates.TemplateResponse(request, "fortunes.html", {"fortunes": rows})
