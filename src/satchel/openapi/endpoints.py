"""The routes the OpenAPI battery adds: the schema, the docs page and its assets.

Nothing heavy is imported here: the schema generator (and pydantic's JSON Schema
machinery) loads on the first request for the schema, never at startup.
"""

from __future__ import annotations

from typing import Any

import orjson

from satchel.exceptions import NotFound
from satchel.http.conditional import make_etag, not_modified
from satchel.http.request import Request
from satchel.http.response import HTMLResponse, Response
from satchel.middleware.compression import choose_encoding
from satchel.openapi.docs import ASSET_CACHE_CONTROL, DOCS_CSP, load_assets, render_page
from satchel.openapi.registry import openapi_config


def openapi_schema(app: Any) -> dict[str, Any]:
    """Return ``app``'s OpenAPI document, generated on first use and then cached."""
    config = openapi_config(app)
    if config.schema is None:
        # Imported here: the generator pulls in pydantic's JSON Schema machinery,
        # which only apps that serve or export the schema need.
        from satchel.openapi.generator import generate_openapi

        config.schema = generate_openapi(app)
    return config.schema


def encoded_schema(app: Any, root_path: str = "") -> tuple[bytes, str]:
    """Return the document as JSON bytes and its ETag (cached per root path)."""
    config = openapi_config(app)
    cached = config.encoded.get(root_path)
    if cached is None:
        document = openapi_schema(app)
        if root_path and not config.servers:
            # Behind a prefix, "try it out" must call the prefixed URLs.
            document = {**document, "servers": [{"url": root_path}]}
        body = orjson.dumps(document)
        cached = (body, make_etag(body))
        config.encoded[root_path] = cached
    return cached


def schema_endpoint(app: Any) -> Any:
    """Return the handler of ``GET openapi_url``."""

    async def openapi_json(request: Request) -> Response:
        body, etag = encoded_schema(app, request.root_path)
        headers = {"etag": etag, "cache-control": "no-cache"}
        if not_modified(request, etag):
            return Response(None, 304, headers)
        return Response(body, 200, headers, media_type="application/json")

    return openapi_json


def docs_endpoint(app: Any, openapi_url: str, docs_url: str) -> Any:
    """Return the handler of ``GET docs_url`` (the Swagger UI page)."""
    pages: dict[str, bytes] = {}

    async def docs_page(request: Request) -> Response:
        root = request.root_path
        page = pages.get(root)
        if page is None:
            text = render_page(app.title, root + openapi_url, root + docs_url + "/assets")
            page = pages.setdefault(root, text.encode())
        headers = {"content-security-policy": DOCS_CSP, "cache-control": "no-cache"}
        return HTMLResponse(page, 200, headers)

    return docs_page


async def docs_asset(request: Request, name: str) -> Response:
    """Serve one docs asset by its hashed name; unknown names are 404."""
    asset = load_assets().by_file.get(name)
    if asset is None:
        raise NotFound(f"No docs asset {name!r}")
    headers = {
        "etag": asset.etag,
        "cache-control": ASSET_CACHE_CONTROL,
        "vary": "Accept-Encoding",
    }
    if not_modified(request, asset.etag):
        return Response(None, 304, headers)
    if choose_encoding(request.headers.get("accept-encoding", ""), False) == "gzip":
        # Compressed once, in the thread pool: the bundle is large.
        body = await request.app.run_sync(lambda: asset.gzipped)
        headers["content-encoding"] = "gzip"
        return Response(body, 200, headers, media_type=asset.content_type)
    return Response(asset.body, 200, headers, media_type=asset.content_type)


__all__ = ["docs_asset", "docs_endpoint", "encoded_schema", "openapi_schema", "schema_endpoint"]
