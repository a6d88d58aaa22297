"""Raw RSGI baseline for granian: raw_asgi_app's routing, answered through RSGI.

RSGI hands the whole response to granian in one call (``response_bytes``) instead of two
awaited ``send`` messages; that difference is what this row measures against raw ASGI.
"""

from _common import make_route

route = make_route(
    [("content-type", "text/plain; charset=utf-8")],
    [("content-type", "application/json")],
)


class App:
    async def __rsgi__(self, scope, protocol):
        if scope.proto == "http":
            status, headers, body = route(scope.method, scope.path)
            protocol.response_bytes(status, headers, body)


app = App()
