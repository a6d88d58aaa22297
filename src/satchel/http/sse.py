"""Server-sent events (the ``text/event-stream`` format of the HTML standard).

:class:`ServerSentEvent` encodes one event so that no value can inject a field
or a second event: data is split into one ``data:`` line per line, and an event
name or id containing a line break is refused. :class:`EventSourceResponse`
streams events, with optional keep-alive comments while the source is quiet.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any

from satchel.http.headers import HeaderItems
from satchel.http.response import dump_json
from satchel.http.streaming import StreamingResponse, iterate_in_thread

# The event-stream format ends a line at CRLF, LF or CR, and at nothing else;
# str.splitlines() would also split at U+2028, FF, and so on, changing the data.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

#: The keep-alive line sent every ``ping`` seconds: a comment, ignored by browsers.
PING = b": ping\n\n"

_QUIET: Any = object()


@dataclasses.dataclass(slots=True)
class ServerSentEvent:
    """One server-sent event.

    ``data`` that is not a ``str`` is sent as JSON. ``None`` fields are left
    out; an event with only a ``comment`` is a keep-alive that browsers ignore.
    """

    data: Any = None
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None

    def encode(self) -> bytes:
        """Return the event in wire format, ending with the blank line that dispatches it.

        Raise ``ValueError`` when ``event`` or ``id`` holds a line break (or ``id`` a
        NUL), or ``retry`` is not a non-negative integer.
        """
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(": " + line for line in _LINE_BREAK.split(self.comment))
        if self.event is not None:
            lines.append("event: " + _single_line("event", self.event))
        if self.id is not None:
            if "\0" in self.id:
                raise ValueError("a server-sent event id cannot contain NUL")
            lines.append("id: " + _single_line("id", self.id))
        if self.retry is not None:
            if isinstance(self.retry, bool) or not isinstance(self.retry, int) or self.retry < 0:
                raise ValueError(f"retry must be a non-negative int, not {self.retry!r}")
            lines.append(f"retry: {self.retry}")
        if self.data is not None:
            text = self.data if isinstance(self.data, str) else dump_json(self.data).decode()
            lines.extend("data: " + line for line in _LINE_BREAK.split(text))
        lines.append("\n")
        return "\n".join(lines).encode("utf-8")


def _single_line(field: str, value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"server-sent event {field} must be a str, not {type(value).__name__}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"server-sent event {field} cannot contain CR or LF: {value!r}")
    return value


def encode_event(item: ServerSentEvent | str | Mapping[str, Any]) -> bytes:
    """Encode what an event source yields: an event, a ``str`` of data, or a dict of fields.

    A dict's keys are :class:`ServerSentEvent` fields; to send a dict as JSON
    data, yield ``ServerSentEvent(data=the_dict)``.
    """
    if isinstance(item, ServerSentEvent):
        return item.encode()
    if isinstance(item, str):
        return ServerSentEvent(data=item).encode()
    if isinstance(item, Mapping):
        try:
            return ServerSentEvent(**item).encode()
        except TypeError:
            fields = ", ".join(f.name for f in dataclasses.fields(ServerSentEvent))
            raise TypeError(
                f"a dict yielded to EventSourceResponse must have only the keys {fields}; "
                "to send a dict as JSON, yield ServerSentEvent(data=your_dict)"
            ) from None
    raise TypeError(
        f"EventSourceResponse items must be ServerSentEvent, str or dict, not {type(item).__name__}"
    )


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` response streaming events from an (async) iterable.

    ``ping`` (seconds) sends a comment line whenever the source has been quiet
    that long, so proxies and load balancers keep the connection open.
    ``Cache-Control: no-cache`` and ``X-Accel-Buffering: no`` (which stops
    nginx from buffering the stream) are set unless ``headers`` sets them.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncIterable[Any] | Iterable[Any],
        status_code: int = 200,
        headers: HeaderItems | None = None,
        *,
        ping: float | None = None,
    ) -> None:
        if ping is not None and not ping > 0:
            raise ValueError(f"ping must be a positive number of seconds, not {ping!r}")
        super().__init__(content, status_code, headers)
        self.ping = ping
        self.headers.setdefault("cache-control", "no-cache")
        self.headers.setdefault("x-accel-buffering", "no")

    async def iterate(self) -> AsyncGenerator[bytes, None]:
        """Yield each event encoded, with keep-alive comments in the quiet gaps."""
        content = self.body_iterator
        source: AsyncIterator[Any] = (
            aiter(content) if isinstance(content, AsyncIterable) else iterate_in_thread(content)
        )
        pinger = None if self.ping is None else _with_pings(source, self.ping)
        try:
            async for item in source if pinger is None else pinger:
                yield PING if item is _QUIET else encode_event(item)
        finally:
            # Close the pinger first: it may have a task inside ``source``.
            if pinger is not None:
                await pinger.aclose()
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()


async def _next_item(source: AsyncIterator[Any]) -> Any:
    return await anext(source)


async def _with_pings(source: AsyncIterator[Any], interval: float) -> AsyncGenerator[Any, None]:
    """Yield the items of ``source``, and ``_QUIET`` after each ``interval`` without one."""
    pending: asyncio.Task[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(_next_item(source))
            # asyncio.wait leaves the task running on timeout: the next event
            # is still awaited while the ping goes out.
            done, _ = await asyncio.wait((pending,), timeout=interval)
            if not done:
                yield _QUIET
                continue
            task, pending = pending, None
            try:
                item = task.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)


__all__ = ["PING", "EventSourceResponse", "ServerSentEvent", "encode_event"]
