"""Starlette: Route table, PlainTextResponse / JSONResponse, `{id:int}` path convertor."""

from _common import EXTRA_ROUTES, JSON_BODY, PLAINTEXT
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def plaintext(request):
    return PlainTextResponse(PLAINTEXT)


async def json_(request):
    return JSONResponse(JSON_BODY)


async def user(request):
    return JSONResponse({"id": request.path_params["id"]})


async def item(request):
    return JSONResponse({"item_id": request.path_params["item_id"]})


def _page(i):
    async def page(request):
        return PlainTextResponse(f"page {i}")

    return page


routes = []
for i in range(EXTRA_ROUTES):
    routes.append(Route(f"/static{i}/page", _page(i)))
    routes.append(Route(f"/extra{i}/items/{{item_id:int}}", item))
routes += [
    Route("/plaintext", plaintext),
    Route("/json", json_),
    Route("/users/{id:int}", user),
]

app = Starlette(routes=routes)
