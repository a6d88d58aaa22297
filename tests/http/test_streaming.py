"""StreamingResponse over a hand-driven ASGI exchange and over a real granian (RSGI)."""

from __future__ import annotations

import asyncio
import contextvars
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import satchel.http
from satchel.http.streaming import StreamingResponse, iterate_in_thread, run_until_disconnect
from satchel.types import Message

SRC_DIR = Path(satchel.http.__file__).absolute().parents[2]
GRANIAN = [sys.executable, "-m", "granian", "--interface", "rsgi", "--host", "127.0.0.1"]


# -- a minimal ASGI client -----------------------------------------------------------


class Client:
    """Record what the app sends; disconnect after ``disconnect_after`` body messages."""

    def __init__(self, disconnect_after: int | None = None) -> None:
        self.messages: list[dict[str, Any]] = []
        self.disconnect_after = disconnect_after
        self.gone = asyncio.Event()
        self._sent_request = False

    async def receive(self) -> Message:
        if not self._sent_request:
            self._sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.gone.is_set():
            raise OSError("client went away")
        self.messages.append(dict(message))
        bodies = [m for m in self.messages if m["type"] == "http.response.body"]
        if self.disconnect_after is not None and len(bodies) >= self.disconnect_after:
            self.gone.set()

    @property
    def status(self) -> int:
        assert self.messages[0]["type"] == "http.response.start"
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.messages[0]["headers"]}

    @property
    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body"]

    @property
    def body(self) -> bytes:
        return b"".join(self.bodies)


def scope(method: str = "GET") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


async def run(response: StreamingResponse, client: Client, method: str = "GET") -> Client:
    await asyncio.wait_for(response(scope(method), client.receive, client.send), timeout=10)
    return client


# -- ASGI ----------------------------------------------------------------------------


async def test_async_chunks_are_sent_in_order_without_content_length() -> None:
    async def numbers() -> AsyncIterator[bytes | str]:
        yield b"one,"
        yield "two,"
        yield "drei\N{SNOWMAN}"

    client = await run(StreamingResponse(numbers(), media_type="text/plain"), Client())
    assert client.status == 200
    assert client.headers["content-type"] == "text/plain; charset=utf-8"
    assert "content-length" not in client.headers
    assert client.body == "one,two,drei\N{SNOWMAN}".encode()
    assert [m.get("more_body", False) for m in client.messages[1:]] == [True, True, True, False]


async def test_empty_chunks_are_skipped() -> None:
    async def gaps() -> AsyncIterator[bytes]:
        yield b""
        yield b"x"
        yield b""

    client = await run(StreamingResponse(gaps()), Client())
    assert client.bodies == [b"x", b""]


async def test_sync_iterable_runs_in_a_worker_thread() -> None:
    threads: list[int] = []

    def produce() -> Iterator[bytes]:
        for i in range(3):
            threads.append(threading.get_ident())
            yield str(i).encode()

    client = await run(StreamingResponse(produce()), Client())
    assert client.body == b"012"
    assert threads
    assert threading.get_ident() not in threads


async def test_blocking_sync_iterable_does_not_block_the_loop() -> None:
    def slow() -> Iterator[bytes]:
        for _ in range(3):
            time.sleep(0.1)
            yield b"."

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        client = await run(StreamingResponse(slow()), Client())
    finally:
        task.cancel()
    assert client.body == b"..."
    # 0.3 s of blocking sleeps: a blocked loop would have ticked at most once or twice.
    assert ticks >= 8


async def test_sync_iterable_sees_the_callers_context_variables() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("request-42")

    def produce() -> Iterator[str]:
        yield var.get()

    client = await run(StreamingResponse(produce()), Client())
    assert client.body == b"request-42"


async def test_list_content_is_streamed() -> None:
    client = await run(StreamingResponse([b"a", "b"]), Client())
    assert client.body == b"ab"


async def test_disconnect_stops_an_endless_async_stream_and_closes_it() -> None:
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"tick"
                await asyncio.sleep(0.001)
        finally:
            closed.set()

    client = await run(StreamingResponse(endless()), Client(disconnect_after=3))
    assert closed.is_set()
    assert 3 <= len(client.bodies) <= 5


async def test_disconnect_stops_an_endless_sync_stream_and_closes_it() -> None:
    closed = threading.Event()

    def endless() -> Iterator[bytes]:
        try:
            while True:
                time.sleep(0.005)
                yield b"tick"
        finally:
            closed.set()

    client = await run(StreamingResponse(endless()), Client(disconnect_after=3))
    assert len(client.bodies) >= 3
    # The close is scheduled behind the thread that may still be inside next().
    assert await asyncio.to_thread(closed.wait, 5)


async def test_disconnect_while_a_chunk_is_awaited_cancels_the_generator() -> None:
    cancelled = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield b"first"
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        yield b"never"

    client = await run(StreamingResponse(stalls()), Client(disconnect_after=1))
    assert cancelled.is_set()
    assert client.body == b"first"


async def test_head_sends_headers_only_and_never_iterates() -> None:
    started = False
    closed = False

    def produce() -> Iterator[bytes]:
        nonlocal started, closed
        started = True
        try:
            yield b"body"
        finally:
            closed = True

    gen = produce()
    client = await run(
        StreamingResponse(gen, headers={"x-kind": "stream"}), Client(), method="HEAD"
    )
    assert client.status == 200
    assert client.headers["x-kind"] == "stream"
    assert client.body == b""
    assert not started
    with pytest.raises(StopIteration):
        next(gen)  # closed before it ever ran


async def test_no_body_status_sends_no_chunks() -> None:
    async def produce() -> AsyncIterator[bytes]:
        yield b"should not be sent"

    client = await run(StreamingResponse(produce(), status_code=204), Client())
    assert client.status == 204
    assert client.body == b""


async def test_error_in_the_generator_propagates() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"ok"
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await run(StreamingResponse(broken()), Client())


async def test_error_in_a_sync_generator_propagates() -> None:
    def broken() -> Iterator[bytes]:
        yield b"ok"
        raise LookupError("sync boom")

    with pytest.raises(LookupError, match="sync boom"):
        await run(StreamingResponse(broken()), Client())


async def test_a_failing_receive_does_not_break_the_stream() -> None:
    client = Client()

    async def bad_receive() -> Message:
        raise RuntimeError("receive exploded")

    response = StreamingResponse([b"still ", b"sent"])
    await asyncio.wait_for(response(scope(), bad_receive, client.send), timeout=5)
    assert client.body == b"still sent"


async def test_chunk_of_the_wrong_type_is_a_type_error() -> None:
    async def wrong() -> AsyncIterator[Any]:
        yield 42

    with pytest.raises(TypeError, match="bytes or str"):
        await run(StreamingResponse(wrong()), Client())


async def test_a_single_string_is_refused() -> None:
    with pytest.raises(TypeError, match="iterable of chunks"):
        await run(StreamingResponse("not chunks"), Client())


def test_header_injection_is_refused() -> None:
    with pytest.raises(ValueError, match="control character"):
        StreamingResponse([], headers={"x-evil": "a\r\nset-cookie: x=1"})


async def test_iterate_in_thread_closes_an_abandoned_iterator() -> None:
    closed = threading.Event()

    def produce() -> Iterator[int]:
        try:
            yield 1
            yield 2
        finally:
            closed.set()

    agen = iterate_in_thread(produce())
    assert await anext(agen) == 1
    await agen.aclose()
    assert await asyncio.to_thread(closed.wait, 5)


async def test_run_until_disconnect_reports_which_side_won() -> None:
    async def quick() -> None:
        await asyncio.sleep(0)

    async def never() -> None:
        await asyncio.Event().wait()

    assert await run_until_disconnect(quick(), never()) is False
    assert await run_until_disconnect(never(), quick()) is True


# -- RSGI through a real granian -----------------------------------------------------

RSGI_APP = textwrap.dedent(
    """
    import asyncio
    import pathlib
    import time

    from satchel.http.request import Request
    from satchel.http.streaming import StreamingResponse

    MARKER = pathlib.Path({marker!r})


    async def finite():
        for i in range(3):
            yield f"chunk{{i}};"
            await asyncio.sleep(0)


    async def endless():
        try:
            while True:
                yield b"x" * 1024
                await asyncio.sleep(0.01)
        finally:
            MARKER.write_text("closed")


    def blocking():
        for part in (b"sync-", b"stream"):
            time.sleep(0.01)
            yield part


    async def app(scope, proto):
        request = Request.from_rsgi(scope, proto)
        if scope.path == "/endless":
            response = StreamingResponse(endless())
        elif scope.path == "/sync":
            response = StreamingResponse(blocking())
        else:
            response = StreamingResponse(finite(), media_type="text/plain")
        await response.send_rsgi(request, proto)
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def granian(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Start ``granian --interface rsgi`` on an app module's source; return its base URL."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(source: str) -> str:
        (tmp_path / "rsgi_app.py").write_text(source)
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
        procs.append(proc)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"granian exited: {(tmp_path / 'granian.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            except OSError:
                time.sleep(0.1)
            else:
                return f"http://127.0.0.1:{port}"
        pytest.fail("granian did not start listening")

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.server
def test_rsgi_stream(granian: Callable[[str], str], tmp_path: Path) -> None:
    base = granian(RSGI_APP.format(marker=str(tmp_path / "closed.txt")))
    with httpx.Client(base_url=base, timeout=10) as http:
        response = http.get("/finite")
        assert response.status_code == 200
        assert response.text == "chunk0;chunk1;chunk2;"
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.headers.get("transfer-encoding") == "chunked"

        assert http.get("/sync").content == b"sync-stream"

        head = http.head("/finite")
        assert head.status_code == 200
        assert head.content == b""


@pytest.mark.server
def test_rsgi_stream_stops_when_the_client_leaves(
    granian: Callable[[str], str], tmp_path: Path
) -> None:
    marker = tmp_path / "closed.txt"
    base = granian(RSGI_APP.format(marker=str(marker)))
    with httpx.Client(base_url=base, timeout=10) as http, http.stream("GET", "/endless") as resp:
        received = 0
        for chunk in resp.iter_bytes():
            received += len(chunk)
            if received >= 8 * 1024:
                break
    deadline = time.monotonic() + 10
    # The marker may exist a moment before its text is written.
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text() == "closed":
            break
        time.sleep(0.05)
    assert marker.read_text() == "closed"
