"""Raw ASGI 3 baseline: the least work a correct app can do (router in _common.make_route)."""

from _common import make_route

route = make_route(
    [(b"content-type", b"text/plain; charset=utf-8")],
    [(b"content-type", b"application/json")],
)


async def app(scope, receive, send):
    if scope["type"] == "http":
        status, headers, body = route(scope["method"], scope["path"])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
