"""Satchel: served with --interface rsgi (App.__rsgi__) and, as `satchel_asgi`, with
--interface asgi, so both entry points appear in the table."""

from _common import EXTRA_ROUTES, JSON_BODY, PLAINTEXT

from satchel import App, PlainTextResponse

app = App()


def _add_extra(i):
    text = f"page {i}"

    @app.get(f"/static{i}/page", name=f"page{i}")
    async def page() -> PlainTextResponse:
        return PlainTextResponse(text)

    @app.get(f"/extra{i}/items/{{item_id:int}}", name=f"item{i}")
    async def item(item_id: int) -> dict:
        return {"item_id": item_id}


for i in range(EXTRA_ROUTES):
    _add_extra(i)


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(PLAINTEXT)


@app.get("/json")
async def json_() -> dict:
    return JSON_BODY


@app.get("/users/{id:int}")
async def user(id: int) -> dict:
    return {"id": id}
