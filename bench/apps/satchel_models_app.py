"""Satchel with response models: the same endpoints as ``satchel_app``, but the JSON
routes declare pydantic response models (the handler's return annotation), so every
answer is validated and serialised by the model instead of returned as a plain dict.

``/json`` returns a dict that the model validates and filters (the common case:
data from elsewhere shaped by a declared model); ``/users/{id}`` returns a model
instance (validated when built, serialised by the model).
"""

from _common import EXTRA_ROUTES, JSON_BODY, PLAINTEXT
from pydantic import BaseModel

from satchel import App, PlainTextResponse


class Message(BaseModel):
    message: str


class User(BaseModel):
    id: int


class Item(BaseModel):
    item_id: int


app = App()


def _add_extra(i):
    text = f"page {i}"

    @app.get(f"/static{i}/page", name=f"page{i}")
    async def page() -> PlainTextResponse:
        return PlainTextResponse(text)

    @app.get(f"/extra{i}/items/{{item_id:int}}", name=f"item{i}")
    async def item(item_id: int) -> Item:
        return Item(item_id=item_id)


for i in range(EXTRA_ROUTES):
    _add_extra(i)


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(PLAINTEXT)


@app.get("/json")
async def json_() -> Message:
    return JSON_BODY  # validated and serialised by Message


@app.get("/users/{id:int}")
async def user(id: int) -> User:
    return User(id=id)
