"""Falcon (ASGI flavour, falcon.asgi.App): resource classes, `{id:int}` field converter,
resp.media with Falcon's default JSON handler."""

import falcon
import falcon.asgi
from _common import EXTRA_ROUTES, JSON_BODY, PLAINTEXT


class Plaintext:
    async def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = PLAINTEXT


class Json:
    async def on_get(self, req, resp):
        resp.media = JSON_BODY


class User:
    async def on_get(self, req, resp, id):
        resp.media = {"id": id}


class Item:
    async def on_get(self, req, resp, item_id):
        resp.media = {"item_id": item_id}


class Page:
    def __init__(self, i):
        self.text = f"page {i}"

    async def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = self.text


app = falcon.asgi.App()
item = Item()
for i in range(EXTRA_ROUTES):
    app.add_route(f"/static{i}/page", Page(i))
    app.add_route(f"/extra{i}/items/{{item_id:int}}", item)
app.add_route("/plaintext", Plaintext())
app.add_route("/json", Json())
app.add_route("/users/{id:int}", User())
