"""Raw asyncpg: the baseline. A bare ASGI 3 app, a pool of 4, the driver's prepared statements.

The least work a correct app can do in Python: paths found in a dict, the query string
split by hand, rows read with ``fetchrow`` (asyncpg prepares each statement once per
connection and caches it), updates in one ``executemany`` (atomic), JSON by orjson, the
page by Jinja2 with autoescape on.
"""

import asyncio

import asyncpg
import jinja2
import orjson
from _db_common import (
    ADDITIONAL_FORTUNE,
    ALL_FORTUNES,
    DATABASE_URL,
    POOL_SIZE,
    READ_ROW,
    TEMPLATES,
    WRITE_ROW,
    queries_from_query_string,
    random_id,
    random_number,
)

JSON_HEADERS = [(b"content-type", b"application/json")]
HTML_HEADERS = [(b"content-type", b"text/html; charset=utf-8")]
TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]

template = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True
).get_template("fortunes.html")
pool: asyncpg.Pool | None = None
_creating: asyncio.Task | None = None


async def get_pool() -> asyncpg.Pool:
    """The pool, created by the lifespan startup (or the first request, once)."""
    global pool, _creating
    if pool is None:
        if _creating is None:
            url = DATABASE_URL.replace("postgresql+asyncpg://", "postgresql://")
            _creating = asyncio.ensure_future(
                asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE)
            )
        pool = await _creating
    return pool


async def single(scope):
    async with (await get_pool()).acquire() as conn:
        row = await conn.fetchrow(READ_ROW, random_id())
    return JSON_HEADERS, orjson.dumps({"id": row[0], "randomNumber": row[1]})


async def queries(scope):
    count = queries_from_query_string(scope["query_string"])
    async with (await get_pool()).acquire() as conn:
        fetchrow = conn.fetchrow
        worlds = []
        for _ in range(count):
            row = await fetchrow(READ_ROW, random_id())
            worlds.append({"id": row[0], "randomNumber": row[1]})
    return JSON_HEADERS, orjson.dumps(worlds)


async def updates(scope):
    count = queries_from_query_string(scope["query_string"])
    async with (await get_pool()).acquire() as conn:
        fetchrow = conn.fetchrow
        worlds = []
        for _ in range(count):
            row = await fetchrow(READ_ROW, random_id())
            worlds.append({"id": row[0], "randomNumber": random_number()})
        # Sorted by id: concurrent requests lock rows in the same order (no deadlocks).
        changes = sorted((w["id"], w["randomNumber"]) for w in worlds)
        await conn.executemany(WRITE_ROW, changes)
    return JSON_HEADERS, orjson.dumps(worlds)


async def fortunes(scope):
    async with (await get_pool()).acquire() as conn:
        rows = await conn.fetch(ALL_FORTUNES)
    items = [(row[0], row[1]) for row in rows]
    items.append((0, ADDITIONAL_FORTUNE))
    items.sort(key=lambda item: item[1])
    page = template.render(fortunes=[{"id": i, "message": m} for i, m in items])
    return HTML_HEADERS, page.encode()


ROUTES = {"/db": single, "/queries": queries, "/updates": updates, "/fortunes": fortunes}


async def app(scope, receive, send):
    kind = scope["type"]
    if kind == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await get_pool()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if pool is not None:
                    await pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    handler = ROUTES.get(scope["path"])
    if handler is None or scope["method"] != "GET":
        status, headers, body = 404, TEXT_HEADERS, b"Not Found"
    else:
        status = 200
        headers, body = await handler(scope)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
