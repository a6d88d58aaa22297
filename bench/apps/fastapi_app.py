"""FastAPI: decorators, dict return values serialised by FastAPI's default JSONResponse path,
`id: int` validated from the path by FastAPI (an invalid id is a 422)."""

from _common import EXTRA_ROUTES, JSON_BODY, PLAINTEXT
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


def _add_extra(i):
    @app.get(f"/static{i}/page", response_class=PlainTextResponse)
    async def page():
        return f"page {i}"

    @app.get(f"/extra{i}/items/{{item_id}}")
    async def item(item_id: int):
        return {"item_id": item_id}


for i in range(EXTRA_ROUTES):
    _add_extra(i)


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext():
    return PLAINTEXT


@app.get("/json")
async def json_():
    return JSON_BODY


@app.get("/users/{id}")
async def user(id: int):
    return {"id": id}
