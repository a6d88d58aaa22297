"""Serve the files under one directory, and never anything outside it.

A URL path is checked segment by segment before it touches the file system:
``..``, ``.``, NUL and other control characters, backslashes, colons (drive
letters, NTFS streams) and, on Windows, device names are refused. The path is
taken as the server decoded it and is never percent-decoded again, so
``%2e%2e`` arriving here is a file literally named ``%2e%2e``. Unless
``follow_symlinks`` is set, the real path (symlinks resolved) must still lie
inside the directory.

Dotfiles are served like any other file: keep ``.env``, ``.git`` and friends
out of the static directory. Directories are never listed; with
``index_html=True`` a directory's ``index.html`` is served instead.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat as stat_module
from pathlib import Path

from satchel.exceptions import ImproperlyConfigured
from satchel.http.files import FileResponse
from satchel.http.headers import check_header
from satchel.http.request import Request
from satchel.http.response import PlainTextResponse, Response
from satchel.types import Receive, Scope, Send

_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\:]")
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in range(10)}
    | {f"LPT{i}" for i in range(10)}
)
_ALLOW = "GET, HEAD"


def safe_segments(subpath: str) -> list[str] | None:
    """Split a URL ``subpath`` into path segments, or return ``None`` if any could escape.

    Empty segments (``//``, a leading ``/``) are dropped; a segment of only dots
    and spaces (``..``, ``.``, ``. .``, which Windows trims to ``..``) is refused.
    """
    if _FORBIDDEN.search(subpath):
        return None
    segments = [segment for segment in subpath.split("/") if segment]
    for segment in segments:
        if not segment.strip(". "):
            return None
        if os.name == "nt" and segment.partition(".")[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
            return None
    return segments


class StaticFiles:
    """Serve files from ``directory``: an ASGI app, or a helper for a route.

    ``cache_control`` is sent with every file (``None`` to send none). The
    directory must exist when this is created (``check_dir=False`` to defer).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        follow_symlinks: bool = False,
        cache_control: str | None = "public, max-age=3600",
        index_html: bool = False,
        check_dir: bool = True,
    ) -> None:
        self.directory = Path(directory).resolve()
        if check_dir and not self.directory.is_dir():
            raise ImproperlyConfigured(
                f"StaticFiles directory {os.fspath(directory)!r} is not a directory; create it "
                "or pass check_dir=False if it will exist before the first request"
            )
        if cache_control is not None:
            check_header("cache-control", cache_control)
        self.follow_symlinks = follow_symlinks
        self.cache_control = cache_control
        self.index_html = index_html

    def lookup(
        self, segments: list[str], *, want_dir: bool = False
    ) -> tuple[Path, os.stat_result] | None:
        """Return the regular file the checked ``segments`` name, with its stat (blocking I/O).

        ``want_dir`` (the URL ended in ``/``) matches only a directory's index.
        """
        path = self.directory.joinpath(*segments)
        found = self._stat_inside(path)
        if found is None:
            return None
        path, stat_result = found
        if stat_module.S_ISDIR(stat_result.st_mode):
            if not self.index_html:
                return None
            found = self._stat_inside(path / "index.html")
            if found is None:
                return None
            path, stat_result = found
        elif want_dir:
            return None
        if not stat_module.S_ISREG(stat_result.st_mode):
            return None
        return path, stat_result

    def _stat_inside(self, path: Path) -> tuple[Path, os.stat_result] | None:
        try:
            if not self.follow_symlinks:
                real = Path(os.path.realpath(path))
                if not real.is_relative_to(self.directory):
                    return None
                path = real
            return path, os.stat(path)
        except (OSError, ValueError):
            return None

    async def resolve(self, subpath: str) -> Path | None:
        """Return the file ``subpath`` names inside the directory, or ``None``."""
        segments = safe_segments(subpath)
        if segments is None:
            return None
        found = await asyncio.to_thread(
            self.lookup, segments, want_dir=subpath.endswith("/") and bool(segments)
        )
        return None if found is None else found[0]

    def response(self, request: Request, subpath: str) -> Response:
        """Return the response for ``subpath``: the file, a 404, or a 405 for methods but GET/HEAD.

        The file system is looked at when the response is sent, in a worker thread.
        """
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", 405, headers={"allow": _ALLOW})
        segments = safe_segments(subpath)
        if segments is None:
            return _not_found()
        headers = {"cache-control": self.cache_control} if self.cache_control else None
        return _StaticResponse(self, segments, subpath.endswith("/") and bool(segments), headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve ``scope["path_params"]["path"]``, else the path below ``root_path``."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1000})
            return
        request = Request(scope, receive)
        subpath = (scope.get("path_params") or {}).get("path")
        if subpath is None:
            subpath = scope["path"]
            root_path = scope.get("root_path", "")
            if root_path and subpath.startswith(root_path):
                subpath = subpath[len(root_path) :]
        await self.response(request, subpath).send_asgi(request, send)


class _StaticResponse(Response):
    """A file response whose file is found, in a thread, only when it is sent."""

    def __init__(
        self,
        static: StaticFiles,
        segments: list[str],
        want_dir: bool,
        headers: dict[str, str] | None,
    ) -> None:
        super().__init__(None, 200, headers)
        self._static = static
        self._segments = segments
        self._want_dir = want_dir

    async def _target(self, request: Request) -> Response:
        found = await asyncio.to_thread(
            self._static.lookup, self._segments, want_dir=self._want_dir
        )
        if found is None:
            return _not_found()
        path, stat_result = found
        headers = self.header_items(request.is_secure)
        return FileResponse(path, self.status_code, headers, stat_result=stat_result)

    async def send_asgi(self, request: Request, send: Send) -> None:
        """Send the file (or a 404) through ASGI."""
        await (await self._target(request)).send_asgi(request, send)

    async def send_rsgi(self, request: Request, proto: object) -> None:
        """Send the file (or a 404) through RSGI."""
        await (await self._target(request)).send_rsgi(request, proto)


def _not_found() -> Response:
    return PlainTextResponse("Not Found", 404)


async def _lifespan(receive: Receive, send: Send) -> None:
    # Run standalone under a server, there is nothing to start or stop.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


__all__ = ["StaticFiles", "safe_segments"]
