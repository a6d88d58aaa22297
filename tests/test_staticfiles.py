"""StaticFiles: serving, caching headers, methods, and a battery of traversal attacks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import satchel.http
from satchel.exceptions import ImproperlyConfigured
from satchel.http.request import Request
from satchel.staticfiles import StaticFiles, safe_segments
from satchel.types import Message

SRC_DIR = Path(satchel.http.__file__).absolute().parents[2]
GRANIAN = [sys.executable, "-m", "granian", "--interface", "rsgi", "--host", "127.0.0.1"]
SECRET = b"TOP-SECRET-DO-NOT-SERVE"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A static directory beside secrets it must never serve."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret2.txt").write_bytes(SECRET)
    public = tmp_path / "public"
    (public / "sub" / "deeper").mkdir(parents=True)
    (public / "hello.txt").write_bytes(b"hello world")
    (public / "sub" / "page.html").write_bytes(b"<p>page</p>")
    (public / "sub" / "index.html").write_bytes(b"<p>index</p>")
    (public / ".hidden").write_bytes(b"dotfile")
    (public / "with space.txt").write_bytes(b"spaced")
    (public / "%2e%2e").mkdir()  # a directory literally named like an encoded "..".
    (public / "link-out").symlink_to(tmp_path / "secret.txt")
    (public / "dir-out").symlink_to(outside, target_is_directory=True)
    (public / "link-in").symlink_to(public / "hello.txt")
    (public / "sub" / "deeper" / "up").symlink_to(Path("..") / ".." / ".." / "secret.txt")
    return public


class Client:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def receive(self) -> Message:
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.messages.append(dict(message))

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.messages[0]["headers"]}

    @property
    def body(self) -> bytes:
        return b"".join(m["body"] for m in self.messages if m["type"] == "http.response.body")


async def get(
    app: StaticFiles,
    path: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Client:
    scope = {
        "type": "http",
        "method": method,
        "scheme": "http",
        "path": path,
        "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()],
        **extra,
    }
    client = Client()
    await asyncio.wait_for(app(scope, client.receive, client.send), timeout=10)
    return client


# -- serving -------------------------------------------------------------------------


async def test_serves_a_file_with_cache_headers(site: Path) -> None:
    client = await get(StaticFiles(site), "/hello.txt")
    assert client.status == 200
    assert client.body == b"hello world"
    assert client.headers["content-type"] == "text/plain; charset=utf-8"
    assert client.headers["cache-control"] == "public, max-age=3600"
    assert "etag" in client.headers
    assert "last-modified" in client.headers


async def test_head(site: Path) -> None:
    client = await get(StaticFiles(site), "/hello.txt", "HEAD")
    assert client.status == 200
    assert client.headers["content-length"] == "11"
    assert client.body == b""


async def test_304_keeps_cache_control(site: Path) -> None:
    app = StaticFiles(site, cache_control="public, max-age=31536000, immutable")
    first = await get(app, "/hello.txt")
    again = await get(app, "/hello.txt", headers={"if-none-match": first.headers["etag"]})
    assert again.status == 304
    assert again.body == b""
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_range(site: Path) -> None:
    client = await get(StaticFiles(site), "/hello.txt", headers={"range": "bytes=6-"})
    assert client.status == 206
    assert client.body == b"world"


async def test_no_cache_control(site: Path) -> None:
    client = await get(StaticFiles(site, cache_control=None), "/hello.txt")
    assert "cache-control" not in client.headers


def test_cache_control_is_validated(site: Path) -> None:
    with pytest.raises(ValueError, match="control character"):
        StaticFiles(site, cache_control="max-age=1\r\nSet-Cookie: x=1")


async def test_nested_file_space_and_dotfile(site: Path) -> None:
    app = StaticFiles(site)
    assert (await get(app, "/sub/page.html")).body == b"<p>page</p>"
    assert (await get(app, "/with space.txt")).body == b"spaced"
    # Dotfiles are served (documented): keep secrets out of the directory.
    assert (await get(app, "/.hidden")).body == b"dotfile"


async def test_symlink_inside_the_directory_is_served(site: Path) -> None:
    assert (await get(StaticFiles(site), "/link-in")).body == b"hello world"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
async def test_other_methods_get_405(site: Path, method: str) -> None:
    client = await get(StaticFiles(site), "/hello.txt", method)
    assert client.status == 405
    assert client.headers["allow"] == "GET, HEAD"


async def test_directories_are_404_without_index(site: Path) -> None:
    app = StaticFiles(site)
    for path in ("/", "", "/sub", "/sub/"):
        assert (await get(app, path)).status == 404, path


async def test_index_html(site: Path) -> None:
    app = StaticFiles(site, index_html=True)
    for path in ("/sub/", "/sub"):
        assert (await get(app, path)).body == b"<p>index</p>", path
    assert (await get(app, "/")).status == 404  # no index.html at the root
    assert (await get(app, "/sub/deeper/")).status == 404


async def test_file_with_trailing_slash_is_404(site: Path) -> None:
    assert (await get(StaticFiles(site), "/hello.txt/")).status == 404


async def test_missing_is_404(site: Path) -> None:
    assert (await get(StaticFiles(site), "/nope.txt")).status == 404


async def test_root_path_is_stripped(site: Path) -> None:
    client = await get(StaticFiles(site), "/static/hello.txt", root_path="/static")
    assert client.body == b"hello world"


async def test_path_params_path_wins(site: Path) -> None:
    client = await get(StaticFiles(site), "/anything", path_params={"path": "sub/page.html"})
    assert client.body == b"<p>page</p>"


async def test_response_helper_for_a_route(site: Path) -> None:
    app = StaticFiles(site)
    request = Request({"type": "http", "method": "GET", "path": "/x", "headers": []})
    response = app.response(request, "hello.txt")
    response.headers["x-extra"] = "1"
    client = Client()
    await response.send_asgi(request, client.send)
    assert client.body == b"hello world"
    assert client.headers["x-extra"] == "1"


async def test_resolve(site: Path) -> None:
    app = StaticFiles(site)
    assert await app.resolve("hello.txt") == (site / "hello.txt").resolve()
    assert await app.resolve("/link-in") == (site / "hello.txt").resolve()
    assert await app.resolve("sub") is None
    assert (
        await StaticFiles(site, index_html=True).resolve("sub/")
        == site.resolve() / "sub" / "index.html"
    )


def test_missing_directory_fails_at_startup(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="check_dir=False"):
        StaticFiles(tmp_path / "nope")
    StaticFiles(tmp_path / "nope", check_dir=False)


async def test_lifespan_and_websocket_scopes(site: Path) -> None:
    app = StaticFiles(site)
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return inbox.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app({"type": "lifespan"}, receive, send), timeout=5)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    sent.clear()
    await app({"type": "websocket", "path": "/hello.txt"}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1000}]


# -- traversal attacks ---------------------------------------------------------------

# Paths as an ASGI server hands them over: already percent-decoded once.
ATTACKS = [
    "/../secret.txt",
    "/../../secret.txt",
    "/sub/../../secret.txt",
    "/sub/./../../secret.txt",
    "/..",
    "/sub/..",
    "/..\\secret.txt",
    "/sub\\..\\..\\secret.txt",
    "/%2e%2e/secret.txt",  # a double-encoded "..": must stay literal
    "/%2e%2e%2fsecret.txt",
    "/%252e%252e/secret.txt",
    "/%2e%2e/../secret.txt",
    "/..%2fsecret.txt",
    "/%c0%ae%c0%ae/secret.txt",  # overlong UTF-8 dots, literal
    "/\u2025/secret.txt",  # TWO DOT LEADER
    "/\uff0e\uff0e/secret.txt",  # FULLWIDTH FULL STOPs
    "/.../secret.txt",
    "/. ./secret.txt",
    "/.. /secret.txt",
    "/....//secret.txt",
    "/..;/secret.txt",
    "/C:/secret.txt",
    "/C:\\secret.txt",
    "/c:secret.txt",
    "/\\\\server\\share\\secret.txt",
    "/hello.txt\x00.png",
    "/..\x00/secret.txt",
    "/\n/../secret.txt",
    "/link-out",
    "/dir-out/secret2.txt",
    "/sub/deeper/up",
    "/hello.txt:$DATA",
    "/CON",
]


@pytest.fixture
def absolute_attacks(site: Path) -> list[str]:
    secret = site.parent / "secret.txt"
    return [str(secret), "/" + str(secret), "//" + str(secret), str(secret).replace("/", "\\")]


@pytest.mark.parametrize("attack", ATTACKS)
async def test_traversal_is_refused(site: Path, attack: str) -> None:
    for app in (StaticFiles(site), StaticFiles(site, index_html=True)):
        client = await get(app, attack)
        assert client.status in (400, 404), attack
        assert SECRET not in client.body
        assert await app.resolve(attack) is None
        # Passed as a route's path parameter, without the leading slash, too.
        routed = await get(app, "/", path_params={"path": attack.lstrip("/")})
        assert routed.status in (400, 404)
        assert SECRET not in routed.body


async def test_absolute_paths_stay_inside(site: Path, absolute_attacks: list[str]) -> None:
    app = StaticFiles(site)
    for attack in absolute_attacks:
        client = await get(app, "/", path_params={"path": attack})
        assert client.status == 404, attack
        assert SECRET not in client.body


async def test_root_path_prefix_trick(site: Path) -> None:
    # root_path "/static" must not let "/static/../secret.txt" out.
    client = await get(StaticFiles(site), "/static/../secret.txt", root_path="/static")
    assert client.status == 404


async def test_follow_symlinks_is_an_explicit_opt_in(site: Path) -> None:
    assert (await get(StaticFiles(site), "/link-out")).status == 404
    followed = await get(StaticFiles(site, follow_symlinks=True), "/link-out")
    assert followed.body == SECRET
    # Even when following symlinks, ".." never leaves the directory.
    assert (await get(StaticFiles(site, follow_symlinks=True), "/../secret.txt")).status == 404


@pytest.mark.parametrize(
    ("subpath", "segments"),
    [
        ("/a/b.txt", ["a", "b.txt"]),
        ("a//b", ["a", "b"]),
        ("/", []),
        ("/../x", None),
        ("a\\b", None),
        ("a\x7fb", None),
        ("d:/x", None),
        ("a/ ./b", None),
    ],
)
def test_safe_segments(subpath: str, segments: list[str] | None) -> None:
    assert safe_segments(subpath) == segments


# -- through a real granian, with raw (still encoded) request targets ---------------

RSGI_APP = textwrap.dedent(
    """
    from satchel.http.request import Request
    from satchel.staticfiles import StaticFiles

    static = StaticFiles({directory!r})


    async def app(scope, proto):
        request = Request.from_rsgi(scope, proto)
        await static.response(request, request.path).send_rsgi(request, proto)
    """
)

RAW_ATTACKS = [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/%2E%2E/secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/%252e%252e/secret.txt",
    "/..%5csecret.txt",
    "/%5c..%5csecret.txt",
    "/hello.txt%00.png",
    "/%c0%ae%c0%ae/secret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/link-out",
    "/dir-out/secret2.txt",
    "//" + "etc/passwd",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def static_server(site: Path, tmp_path: Path) -> Iterator[int]:
    (tmp_path / "rsgi_app.py").write_text(RSGI_APP.format(directory=str(site)))
    port = _free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC_DIR), env.get("PYTHONPATH")]))
    log = (tmp_path / "granian.log").open("wb")
    proc = subprocess.Popen(
        [*GRANIAN, "--port", str(port), "rsgi_app:app"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"granian did not start: {(tmp_path / 'granian.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def raw_get(port: int, target: str) -> tuple[int, bytes]:
    """Send ``target`` byte for byte (httpx would normalise the dots away)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, body


@pytest.mark.server
def test_rsgi_serves_and_refuses_raw_attacks(static_server: int) -> None:
    status, body = raw_get(static_server, "/hello.txt")
    assert (status, body) == (200, b"hello world")
    status, body = raw_get(static_server, "/with%20space.txt")
    assert (status, body) == (200, b"spaced")
    for target in RAW_ATTACKS:
        status, body = raw_get(static_server, target)
        assert status in (400, 404), target
        assert SECRET not in body, target
