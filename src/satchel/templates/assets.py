"""Static files for pages: where they come from, their URLs, and how they are served.

One namespace of static files lives under ``settings.static_url`` (``/static``).
Its files come, in this order (the first one with a path wins, so a project's
file overrides a module's, as templates do), from:

1. the folder given to :func:`serve_static` (``static/`` beside the app);
2. every ``app.static(prefix, folder)`` whose prefix is ``static_url`` or below it;
3. every module's ``static/`` folder, depth first in include order (by convention
   a module keeps its files in ``static/<module name>/`` so names do not clash).

In development the files are served from where they are. ``satchel collectstatic``
copies them into ``settings.static_root`` beside a copy named after its content
(``site.css`` -> ``site.3f2a9b1c.css``) and writes ``manifest.json`` mapping one
to the other. With debug off, ``static("site.css")`` in a template then gives the
hashed name, which :func:`serve_static` serves with ``Cache-Control: immutable``
for a year: a changed file gets a new name, so browsers never keep a stale one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from satchel.exceptions import ImproperlyConfigured
from satchel.http.files import FileResponse
from satchel.http.request import Request
from satchel.http.response import PlainTextResponse, Response
from satchel.staticfiles import StaticFiles, safe_segments

if TYPE_CHECKING:
    from satchel.app import App

logger = logging.getLogger("satchel.static")

MANIFEST_NAME = "manifest.json"
#: Sent with a content-hashed file: its name changes whenever its content does.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Sent with a file whose name does not change: the browser must revalidate it.
REVALIDATE = "no-cache"
_EXTENSION_KEY = "staticfiles"


def static_prefix(app: App) -> str:
    """Return the app's static URL prefix without a trailing slash (``/static``)."""
    prefix: str = app.settings.static_url.rstrip("/")
    if not prefix.startswith("/"):
        raise ImproperlyConfigured(f"static_url {prefix!r} must start with '/'")
    return prefix


def static_root(app: App) -> str:
    """Return the absolute folder ``collectstatic`` writes to (relative to ``app.root_path``)."""
    return os.path.abspath(os.path.join(app.root_path, app.settings.static_root))


def static_sources(app: App) -> list[tuple[str, str]]:
    """Return ``(subfolder, directory)`` pairs in lookup order (see the module docs).

    ``subfolder`` is where the directory's files sit under ``static_url`` (``""``
    for the top). Directories that do not exist are left out.
    """
    prefix = static_prefix(app)
    found: list[tuple[str, str]] = []
    served = app.extensions.get(_EXTENSION_KEY)
    if served is not None:
        found.append(("", served))
    for url_prefix, directory, _ in app.static_dirs:
        if url_prefix == prefix:
            found.append(("", directory))
        elif url_prefix.startswith(prefix + "/"):
            found.append((url_prefix[len(prefix) + 1 :], directory))
    found.extend(("", directory) for directory in _module_static_dirs(app))
    unique: list[tuple[str, str]] = []
    for sub, directory in found:
        path = os.path.abspath(directory)
        if os.path.isdir(path) and (sub, path) not in unique:
            unique.append((sub, path))
    return unique


def _module_static_dirs(scaffold: Any) -> Iterator[str]:
    for module, _ in scaffold.modules:
        if module.static_path is not None:
            yield module.static_path
        yield from _module_static_dirs(module)


def read_manifest(root: str) -> dict[str, str] | None:
    """Return the ``path -> hashed path`` map in ``root/manifest.json``, ``None`` if absent."""
    try:
        with open(os.path.join(root, MANIFEST_NAME), encoding="utf-8") as file:
            data = json.load(file)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"cannot read the static manifest in {root!r} ({exc}); run `satchel collectstatic`"
        ) from exc
    paths = data.get("paths") if isinstance(data, dict) else None
    if not isinstance(paths, dict):
        raise ImproperlyConfigured(
            f"{os.path.join(root, MANIFEST_NAME)!r} is not a static manifest; "
            "run `satchel collectstatic` again"
        )
    return {str(key): str(value) for key, value in paths.items()}


class StaticURLs:
    """Build static file URLs: ``static_url/path``, hashed from the manifest with debug off.

    The manifest is read once, on first use; restart the app after collecting again.
    """

    def __init__(self, app: App) -> None:
        self.prefix = static_prefix(app)
        self.root = static_root(app)
        self.use_manifest = not app.debug
        self._paths: dict[str, str] | None = None
        self._loaded = False
        self._missing_warned: set[str] = set()

    def manifest(self) -> dict[str, str] | None:
        """Return the manifest paths (``None`` in debug mode or before ``collectstatic``)."""
        if not self._loaded:
            self._paths = read_manifest(self.root) if self.use_manifest else None
            self._loaded = True
        return self._paths

    def __call__(self, path: str) -> str:
        """Return the URL of static file ``path`` (relative to the static folder)."""
        name = path.lstrip("/")
        paths = self.manifest()
        if paths is not None:
            hashed = paths.get(name)
            if hashed is not None:
                name = hashed
            elif name not in self._missing_warned:
                self._missing_warned.add(name)
                logger.warning(
                    "static(%r): not in the manifest; serving it unhashed "
                    "(run `satchel collectstatic` after adding files)",
                    name,
                )
        return f"{self.prefix}/{quote(name)}"


def serve_static(app: App, directory: str | os.PathLike[str] = "static") -> None:
    """Serve the static namespace under ``settings.static_url`` (route name ``static``).

    In debug mode the files are served from ``directory`` (relative to
    ``app.root_path``) and the other sources, uncached. With debug off they are
    served from ``settings.static_root``, as ``satchel collectstatic`` left it,
    and hashed names get ``Cache-Control: public, max-age=31536000, immutable``.
    """
    prefix = static_prefix(app)
    if any(url_prefix == prefix for url_prefix, _, _ in app.static_dirs):
        raise ImproperlyConfigured(
            f"serve_static(app) and app.static({prefix!r}, ...) both claim {prefix}; "
            "keep serve_static (it serves that folder too) and drop the app.static call"
        )
    folder = os.fspath(directory)
    app.extensions[_EXTENSION_KEY] = os.path.join(app.root_path, folder)
    handler = _serve_sources(app) if app.debug else _serve_collected(app)
    app.add_route(prefix + "/{path:path}", handler, ["GET"], name="static", include_in_schema=False)


def _not_found() -> Response:
    return PlainTextResponse("Not Found", 404)


def _serve_sources(app: App) -> Any:
    # Sources are looked up per request: development only, and modules may be
    # included after serve_static() is called.
    def find(segments: list[str]) -> tuple[str, os.stat_result] | None:
        for sub, directory in static_sources(app):
            head = [part for part in sub.split("/") if part]
            if segments[: len(head)] != head:
                continue
            found = StaticFiles(directory, cache_control=None).lookup(segments[len(head) :])
            if found is not None:
                return str(found[0]), found[1]
        return None

    async def serve_static_source(request: Request, path: str) -> Response:
        segments = safe_segments(path)
        if not segments:
            return _not_found()
        found = await asyncio.to_thread(find, segments)
        if found is None:
            return _not_found()
        headers = {"cache-control": REVALIDATE}
        return FileResponse(found[0], headers=headers, stat_result=found[1])

    return serve_static_source


def _serve_collected(app: App) -> Any:
    root = static_root(app)
    files = StaticFiles(root, cache_control=None, check_dir=False)
    hashed: set[str] = set()
    loaded: list[bool] = []

    def load() -> None:
        if not os.path.isdir(root):
            raise ImproperlyConfigured(
                f"static_root {root!r} does not exist: run `satchel collectstatic` before "
                "serving with debug off"
            )
        hashed.update((read_manifest(root) or {}).values())
        loaded.append(True)

    app.on_startup(load)

    async def serve_static_collected(request: Request, path: str) -> Response:
        if not loaded:
            load()  # served without a lifespan (a test client outside ``with``)
        response = files.response(request, path)
        response.headers["cache-control"] = IMMUTABLE if path in hashed else REVALIDATE
        return response

    return serve_static_collected


__all__ = [
    "IMMUTABLE",
    "MANIFEST_NAME",
    "REVALIDATE",
    "StaticURLs",
    "read_manifest",
    "serve_static",
    "static_prefix",
    "static_root",
    "static_sources",
]
