"""Shared constants and the hand-written router of the two raw baselines.

Every app registers the same 50 extra routes (25 static, 25 dynamic) *before* the three
benchmarked routes, so a router that scans its table in order pays for them.
"""

import orjson

EXTRA_ROUTES = 25  # of each kind, static and dynamic: 50 extra routes in all

PLAINTEXT = "Hello, World!"
JSON_BODY = {"message": "Hello, World!"}


def make_route(text_headers, json_headers):
    """Build the raw apps' router: method + path -> (status, headers, body).

    Static paths are found in a dict of handlers, the benchmarked dynamic path by a prefix
    check and a hand-written int parse, the 25 dynamic extra routes by splitting the path.
    Only GET is answered (anything else is 405), as the frameworks do. The header objects
    are the server interface's own (bytes pairs for ASGI, str pairs for RSGI), built once.
    """
    text, json = text_headers, json_headers
    not_found = (404, text, b"Not Found")
    not_allowed = (405, text, b"Method Not Allowed")
    plaintext_bytes = PLAINTEXT.encode()
    dumps = orjson.dumps

    def plaintext():
        return 200, text, plaintext_bytes

    def json_():
        return 200, json, dumps(JSON_BODY)

    def page(i):
        body = f"page {i}".encode()
        return lambda: (200, text, body)

    static = {f"/static{i}/page": page(i) for i in range(EXTRA_ROUTES)}
    static["/plaintext"] = plaintext
    static["/json"] = json_
    extra_prefixes = frozenset(f"extra{i}" for i in range(EXTRA_ROUTES))

    def route(method, path):
        if method != "GET":
            return not_allowed
        handler = static.get(path)
        if handler is not None:
            return handler()
        if path.startswith("/users/"):
            rest = path[7:]
            if rest.isascii() and rest.isdigit():
                return 200, json, dumps({"id": int(rest)})
            return not_found
        parts = path.split("/")  # ["", "extra{i}", "items", "{item_id}"]
        if len(parts) == 4 and parts[2] == "items" and parts[1] in extra_prefixes:
            item = parts[3]
            if item.isascii() and item.isdigit():
                return 200, json, dumps({"item_id": int(item)})
        return not_found

    return route
