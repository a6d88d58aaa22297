"""Server-sent events: encoding (checked by a spec-following parser) and EventSourceResponse."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from satchel.http.sse import PING, EventSourceResponse, ServerSentEvent, encode_event
from satchel.types import Message

# -- a parser written from the HTML standard's "event stream interpretation" ---------


@dataclass
class Parsed:
    type: str
    data: str
    id: str


def parse_stream(raw: bytes) -> tuple[list[Parsed], list[str], int | None]:
    """Return the events a browser would dispatch, the comments seen and the last retry."""
    events: list[Parsed] = []
    comments: list[str] = []
    retry: int | None = None
    data: list[str] = []
    event_type = ""
    last_id = ""
    for line in re.split(r"\r\n|\r|\n", raw.decode("utf-8")):
        if line == "":
            if data:
                events.append(Parsed(event_type or "message", "\n".join(data), last_id))
            data, event_type = [], ""
            continue
        if line.startswith(":"):
            comments.append(line[1:].removeprefix(" "))
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event_type = value
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            retry = int(value)
    return events, comments, retry


# -- ServerSentEvent.encode ----------------------------------------------------------


def test_plain_data() -> None:
    assert ServerSentEvent("hello").encode() == b"data: hello\n\n"


def test_every_field_in_order() -> None:
    event = ServerSentEvent(data="d", event="update", id="7", retry=3000, comment="note")
    assert event.encode() == b": note\nevent: update\nid: 7\nretry: 3000\ndata: d\n\n"
    events, comments, retry = parse_stream(event.encode())
    assert events == [Parsed("update", "d", "7")]
    assert comments == ["note"]
    assert retry == 3000


def test_non_str_data_is_json() -> None:
    assert ServerSentEvent({"a": [1, 2]}).encode() == b'data: {"a":[1,2]}\n\n'
    assert ServerSentEvent(5).encode() == b"data: 5\n\n"


def test_json_data_with_newlines_stays_on_one_line() -> None:
    raw = ServerSentEvent({"text": "line1\nline2"}).encode()
    assert raw.count(b"\n") == 2
    assert parse_stream(raw)[0][0].data == '{"text":"line1\\nline2"}'


def test_every_line_break_style_becomes_a_data_line() -> None:
    raw = ServerSentEvent("a\nb\r\nc\rd").encode()
    assert raw == b"data: a\ndata: b\ndata: c\ndata: d\n\n"
    assert parse_stream(raw)[0][0].data == "a\nb\nc\nd"


def test_leading_space_and_colons_in_data_survive() -> None:
    raw = ServerSentEvent("  spaced: value").encode()
    assert parse_stream(raw)[0][0].data == "  spaced: value"


def test_unicode_separators_are_not_line_breaks() -> None:
    text = "a\u2028b\u2029c\x0bd\x0ce\x85f"
    raw = ServerSentEvent(text).encode()
    assert raw.count(b"data:") == 1
    assert parse_stream(raw)[0][0].data == text


def test_data_cannot_inject_a_second_event_or_fields() -> None:
    hostile = "x\n\nevent: admin\nid: 999\nretry: 1\ndata: forged\n\n"
    events, _, retry = parse_stream(ServerSentEvent(hostile, event="chat").encode())
    assert len(events) == 1
    assert events[0].type == "chat"
    assert events[0].id == ""
    assert events[0].data == hostile
    assert retry is None


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\r\nb", "\n", "x\n\ndata: evil"])
def test_line_breaks_in_event_name_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        ServerSentEvent("d", event=bad).encode()


@pytest.mark.parametrize("bad", ["1\n", "\r2", "3\r\nevent: x"])
def test_line_breaks_in_id_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        ServerSentEvent("d", id=bad).encode()


def test_nul_in_id_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        ServerSentEvent("d", id="a\0b").encode()


@pytest.mark.parametrize("bad", [-1, True, "5", 1.5])
def test_bad_retry_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="retry"):
        ServerSentEvent("d", retry=bad).encode()


def test_non_str_event_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="event must be a str"):
        ServerSentEvent("d", event=5).encode()  # type: ignore[arg-type]


def test_multiline_comment_stays_a_comment() -> None:
    raw = ServerSentEvent(comment="one\ndata: sneaky\n\ntwo").encode()
    events, comments, _ = parse_stream(raw)
    assert events == []
    assert comments == ["one", "data: sneaky", "", "two"]


def test_empty_event_dispatches_nothing() -> None:
    assert parse_stream(ServerSentEvent().encode())[0] == []


def test_encode_event_accepts_str_dict_and_event() -> None:
    assert encode_event("hi") == b"data: hi\n\n"
    assert encode_event({"data": "x", "event": "e"}) == b"event: e\ndata: x\n\n"
    assert encode_event(ServerSentEvent(id="1")) == b"id: 1\n\n"


def test_dict_with_unknown_keys_explains_itself() -> None:
    with pytest.raises(TypeError, match=r"ServerSentEvent\(data=your_dict\)"):
        encode_event({"temperature": 20})


@pytest.mark.parametrize("bad", [42, b"bytes", None, ["list"]])
def test_other_item_types_are_refused(bad: Any) -> None:
    with pytest.raises(TypeError, match="ServerSentEvent, str or dict"):
        encode_event(bad)


# -- EventSourceResponse over ASGI ---------------------------------------------------


class Client:
    def __init__(self, disconnect_after: int | None = None) -> None:
        self.messages: list[dict[str, Any]] = []
        self.disconnect_after = disconnect_after
        self.gone = asyncio.Event()

    async def receive(self) -> Message:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.messages.append(dict(message))
        if self.disconnect_after is not None and len(self.bodies) >= self.disconnect_after:
            self.gone.set()

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.messages[0]["headers"]}

    @property
    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body"]


SCOPE = {
    "type": "http",
    "method": "GET",
    "scheme": "http",
    "path": "/events",
    "headers": [(b"accept", b"text/event-stream")],
}


async def run(response: EventSourceResponse, client: Client) -> Client:
    await asyncio.wait_for(response(dict(SCOPE), client.receive, client.send), timeout=10)
    return client


async def test_response_headers() -> None:
    client = await run(EventSourceResponse([]), Client())
    assert client.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert client.headers["cache-control"] == "no-cache"
    assert client.headers["x-accel-buffering"] == "no"
    assert "content-length" not in client.headers


async def test_caller_headers_win() -> None:
    response = EventSourceResponse([], headers={"Cache-Control": "no-store"})
    client = await run(response, Client())
    assert client.headers["cache-control"] == "no-store"


async def test_mixed_items_stream_as_events() -> None:
    async def source() -> AsyncIterator[Any]:
        yield "first"
        yield {"data": {"n": 2}, "event": "count", "id": "2"}
        yield ServerSentEvent("third", retry=10)

    client = await run(EventSourceResponse(source()), Client())
    events, _, retry = parse_stream(b"".join(client.bodies))
    assert events == [
        Parsed("message", "first", ""),
        Parsed("count", '{"n":2}', "2"),
        Parsed("message", "third", "2"),
    ]
    assert retry == 10


async def test_sync_source() -> None:
    def source() -> Iterator[str]:
        yield "a"
        yield "b"

    client = await run(EventSourceResponse(source()), Client())
    assert b"".join(client.bodies) == b"data: a\n\ndata: b\n\n"


async def test_a_bad_item_stops_the_stream_with_an_error() -> None:
    async def source() -> AsyncIterator[Any]:
        yield "fine"
        yield {"event": "x\ny", "data": "d"}

    with pytest.raises(ValueError, match="CR or LF"):
        await run(EventSourceResponse(source()), Client())


async def test_ping_is_sent_while_the_source_is_quiet() -> None:
    async def slow() -> AsyncIterator[str]:
        yield "one"
        await asyncio.sleep(0.35)
        yield "two"

    client = await run(EventSourceResponse(slow(), ping=0.1), Client())
    raw = b"".join(client.bodies)
    events, comments, _ = parse_stream(raw)
    assert [e.data for e in events] == ["one", "two"]
    assert comments.count("ping") >= 2
    assert raw.index(PING) > raw.index(b"data: one")
    assert raw.rindex(PING) < raw.index(b"data: two")


async def test_no_ping_when_events_keep_coming() -> None:
    async def fast() -> AsyncIterator[str]:
        for i in range(5):
            yield str(i)

    client = await run(EventSourceResponse(fast(), ping=5), Client())
    assert PING not in b"".join(client.bodies)


@pytest.mark.parametrize("bad", [0, -1.0])
def test_ping_must_be_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="ping"):
        EventSourceResponse([], ping=bad)


async def test_disconnect_with_ping_closes_the_source_cleanly() -> None:
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[str]:
        try:
            while True:
                await asyncio.sleep(0.02)
                yield "tick"
        finally:
            closed.set()

    client = await run(EventSourceResponse(endless(), ping=0.01), Client(disconnect_after=4))
    assert closed.is_set()
    assert len(client.bodies) >= 4
