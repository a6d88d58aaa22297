"""Streaming responses: a body produced chunk by chunk while it is sent.

A :class:`StreamingResponse` takes an async or a sync iterable. Sync iterables
are advanced in a worker thread, one chunk at a time, so a blocking generator
(reading a socket, a database cursor) never stalls the event loop. Sending stops
as soon as the client goes away, and the iterable is closed so its ``finally``
blocks run.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Iterable,
    Iterator,
)
from typing import Any

from satchel.http.headers import HeaderItems
from satchel.http.request import Request
from satchel.http.response import Response
from satchel.types import Receive, Send

Chunk = bytes | str
Content = AsyncIterable[Chunk] | Iterable[Chunk]

_DONE: Any = object()


def _next_chunk(iterator: Iterator[Any]) -> Any:
    return next(iterator, _DONE)


def _close_sync(iterator: Iterator[Any]) -> None:
    close = getattr(iterator, "close", None)
    if close is None:
        return
    # ValueError, "generator already executing": a worker thread is still
    # inside it after a disconnect; the generator ends when that thread returns.
    with contextlib.suppress(ValueError):
        close()


async def iterate_in_thread(iterable: Iterable[Any]) -> AsyncGenerator[Any, None]:
    """Yield the items of a sync ``iterable``, advancing it in a worker thread.

    When the consumer stops early the iterator is closed in a worker thread too
    (its cleanup may block); if a thread is still inside ``next()`` at that
    moment, the close waits for that call to return.
    """
    loop = asyncio.get_running_loop()
    iterator = iter(iterable)
    pending: asyncio.Future[Any] | None = None
    exhausted = False
    try:
        while True:
            # A fresh context copy per call, as asyncio.to_thread does, so
            # context variables set by the caller are visible in the thread.
            call = functools.partial(contextvars.copy_context().run, _next_chunk, iterator)
            pending = loop.run_in_executor(None, call)
            # Shielded: cancelling us must not orphan the thread's result
            # before we can schedule the close behind it.
            item = await asyncio.shield(pending)
            if item is _DONE:
                exhausted = True
                return
            yield item
    finally:
        if not exhausted:
            if pending is not None and not pending.done():
                pending.add_done_callback(
                    lambda _: loop.run_in_executor(None, _close_sync, iterator)
                )
            else:
                await loop.run_in_executor(None, _close_sync, iterator)


async def wait_for_asgi_disconnect(receive: Receive) -> None:
    """Return once ``receive`` reports ``http.disconnect`` (request body messages are skipped)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def run_until_disconnect(work: Awaitable[None], disconnected: Awaitable[Any]) -> bool:
    """Run ``work`` until it finishes or ``disconnected`` resolves, cancelling the other.

    Return ``True`` when the client went away first. An exception raised by
    ``work`` propagates. If waiting for the disconnect itself fails, ``work``
    carries on unwatched: the response matters more than the watcher.
    """
    work_task = asyncio.ensure_future(work)
    # Wrapped in a coroutine: granian's awaitable poses as a Future but is not
    # one that gather() can handle once cancelled.
    watch_task = asyncio.ensure_future(_wait(disconnected))
    try:
        await asyncio.wait((work_task, watch_task), return_when=asyncio.FIRST_COMPLETED)
        if not work_task.done() and watch_task.exception() is not None:
            await asyncio.wait((work_task,))
    finally:
        for task in (work_task, watch_task):
            task.cancel()
        await asyncio.gather(work_task, watch_task, return_exceptions=True)
    if work_task.cancelled():
        return True
    work_task.result()
    return False


async def _wait(awaitable: Awaitable[Any]) -> None:
    await awaitable


def is_closed_transport_error(exc: BaseException) -> bool:
    """Return whether ``exc`` is granian's "the client went away" error.

    Matched by name so that this module does not import granian's extension.
    """
    return type(exc).__name__ in ("RSGIProtocolClosed", "RSGIProtocolError")


def encoder(charset: str) -> Any:
    """Return a function turning a ``bytes`` or ``str`` chunk into bytes."""

    def encode(chunk: Chunk) -> bytes:
        if isinstance(chunk, bytes):
            return chunk
        if isinstance(chunk, str):
            return chunk.encode(charset)
        if isinstance(chunk, bytearray | memoryview):
            return bytes(chunk)
        raise TypeError(f"streamed chunks must be bytes or str, not {type(chunk).__name__}")

    return encode


class StreamingResponse(Response):
    """A response whose body is an async or sync iterable of ``bytes`` or ``str`` chunks.

    No ``Content-Length`` is sent; the server uses chunked encoding (HTTP/1.1)
    or frames (HTTP/2). A ``HEAD`` request gets the headers and the iterable is
    closed without being read.
    """

    def __init__(
        self,
        content: Content,
        status_code: int = 200,
        headers: HeaderItems | None = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(None, status_code, headers, media_type)
        self.body_iterator = content

    async def iterate(self) -> AsyncGenerator[bytes, None]:
        """Yield the body as bytes chunks, reading sync iterables in a worker thread."""
        content = self.body_iterator
        source: AsyncIterator[Any]
        if isinstance(content, AsyncIterable):
            source = aiter(content)
        elif isinstance(content, bytes | str):
            raise TypeError(
                "StreamingResponse content must be an iterable of chunks, not one chunk"
            )
        else:
            source = iterate_in_thread(content)
        encode = encoder(self.charset)
        try:
            async for chunk in source:
                data = encode(chunk)
                if data:
                    yield data
        finally:
            await _aclose(source)

    async def _discard(self) -> None:
        content = self.body_iterator
        if isinstance(content, AsyncIterable):
            await _aclose(content)
        else:
            _close_sync(content)  # type: ignore[arg-type]

    def _raw_headers(self, request: Request) -> list[tuple[bytes, bytes]]:
        return [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in self.header_items(request.is_secure)
        ]

    async def send_asgi(self, request: Request, send: Send) -> None:
        """Send the status and headers, then each chunk until the end or a disconnect."""
        start = {
            "type": "http.response.start",
            "status": self.status_code,
            "headers": self._raw_headers(request),
        }
        if request.method == "HEAD" or not self._body_allowed():
            await self._discard()
            await send(start)
            await send({"type": "http.response.body", "body": b""})
            return

        async def stream() -> None:
            await send(start)
            body = self.iterate()
            try:
                async for chunk in body:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            finally:
                await body.aclose()
            await send({"type": "http.response.body", "body": b""})

        receive = request.asgi_receive  # the ASGI receive channel, to hear a disconnect
        if receive is None:
            await stream()
        else:
            await run_until_disconnect(stream(), wait_for_asgi_disconnect(receive))

    async def send_rsgi(self, request: Request, proto: Any) -> None:
        """Send the status and headers, then each chunk until the end or a disconnect."""
        headers = self.header_items(request.is_secure)
        if request.method == "HEAD" or not self._body_allowed():
            await self._discard()
            proto.response_empty(self.status_code, headers)
            return
        transport = proto.response_stream(self.status_code, headers)

        async def stream() -> None:
            body = self.iterate()
            try:
                async for chunk in body:
                    await transport.send_bytes(chunk)
            except RuntimeError as exc:
                if not is_closed_transport_error(exc):
                    raise
            finally:
                await body.aclose()

        await run_until_disconnect(stream(), proto.client_disconnect())


async def _aclose(iterable: Any) -> None:
    aclose = getattr(iterable, "aclose", None)
    if aclose is not None:
        await aclose()


__all__ = [
    "StreamingResponse",
    "iterate_in_thread",
    "run_until_disconnect",
    "wait_for_asgi_disconnect",
]
