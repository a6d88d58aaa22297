"""The interactive docs page: Swagger UI, shipped inside the package, served offline.

The page references its scripts and styles by content-hashed URLs
(``/docs/assets/swagger-ui-bundle.3f9c2a1b.js``), so they can be cached for a
year (``immutable``); a new Satchel with new assets changes the URLs. The page
itself has no inline script or style and is sent with a strict
Content-Security-Policy.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import html
from dataclasses import dataclass, field
from importlib import resources

SWAGGER_UI_VERSION = "5.35.0"

#: Assets the page loads, by logical name.
ASSET_FILES = ("swagger-ui.css", "satchel-docs.css", "swagger-ui-bundle.js", "satchel-docs.js")
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

#: The docs page's policy: only its own scripts and styles, requests to its own origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API docs</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{swagger_css}">
<link rel="stylesheet" href="{page_css}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""


@dataclass
class Asset:
    """One static file of the docs page, held in memory."""

    name: str
    body: bytes
    content_type: str
    etag: str
    _gzipped: list[bytes] = field(default_factory=list)

    @property
    def gzipped(self) -> bytes:
        """Return the body gzip-compressed (computed once)."""
        if not self._gzipped:
            self._gzipped.append(gzip.compress(self.body, compresslevel=9, mtime=0))
        return self._gzipped[0]


@dataclass(frozen=True)
class AssetSet:
    """The docs assets: by served (hashed) file name, and logical name -> served name."""

    by_file: dict[str, Asset]
    served_name: dict[str, str]


@functools.cache
def load_assets() -> AssetSet:
    """Read the assets from the package once and name them by content hash."""
    folder = resources.files("satchel.openapi") / "static"
    by_file: dict[str, Asset] = {}
    served: dict[str, str] = {}
    for name in ASSET_FILES:
        body = (folder / name).read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:12]
        stem, dot, ext = name.rpartition(".")
        file_name = f"{stem}.{digest}{dot}{ext}"
        by_file[file_name] = Asset(file_name, body, _TYPES["." + ext], f'"{digest}"')
        served[name] = file_name
    return AssetSet(by_file, served)


def render_page(title: str, openapi_url: str, assets_url: str) -> str:
    """Return the docs page HTML; ``assets_url`` is where the assets are served."""
    served = load_assets().served_name

    def url(name: str) -> str:
        return html.escape(f"{assets_url}/{served[name]}", quote=True)

    return _PAGE.format(
        title=html.escape(title),
        openapi_url=html.escape(openapi_url, quote=True),
        swagger_css=url("swagger-ui.css"),
        page_css=url("satchel-docs.css"),
        bundle=url("swagger-ui-bundle.js"),
        init=url("satchel-docs.js"),
    )


__all__ = [
    "ASSET_CACHE_CONTROL",
    "ASSET_FILES",
    "DOCS_CSP",
    "SWAGGER_UI_VERSION",
    "Asset",
    "AssetSet",
    "load_assets",
    "render_page",
]
