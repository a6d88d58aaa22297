"""Response compression: gzip and brotli, size threshold, types, Vary, streams."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from satchel import App, JSONResponse, PlainTextResponse, Response
from satchel.http.files import FileResponse
from satchel.http.sse import EventSourceResponse
from satchel.http.streaming import StreamingResponse
from satchel.middleware import compression as compression_module
from satchel.middleware.compression import (
    brotli_available,
    choose_encoding,
    compress_bytes,
    compression,
)
from satchel.testing import TestClient

brotli = pytest.importorskip("brotli")

TEXT = "Satchel compresses text. " * 200  # 5 kB, very compressible
RAW = {"accept-encoding": "identity"}


def make_app(tmp_path: Any = None, **options: Any) -> App:
    app = App(csrf_enabled=False)
    app.middleware(compression(**options))

    @app.get("/text")
    async def text() -> PlainTextResponse:
        return PlainTextResponse(TEXT)

    @app.get("/json")
    async def json_() -> dict[str, Any]:
        return {"items": [TEXT[:50]] * 100}

    @app.get("/small")
    async def small() -> PlainTextResponse:
        return PlainTextResponse("tiny")

    @app.get("/png")
    async def png() -> Response:
        return Response(b"\x89PNG" + b"\0" * 5000, media_type="image/png")

    @app.get("/encoded")
    async def encoded() -> Response:
        body = gzip.compress(TEXT.encode())
        return Response(body, headers={"content-encoding": "gzip"}, media_type="text/plain")

    @app.get("/no-transform")
    async def no_transform() -> Response:
        return Response(TEXT, headers={"cache-control": "no-transform"}, media_type="text/plain")

    @app.get("/etag")
    async def etag() -> Response:
        return Response(TEXT, headers={"etag": '"abc"'}, media_type="text/plain")

    @app.get("/random")
    async def random_text() -> Response:
        import os

        return Response(os.urandom(4000).hex()[:4000], media_type="text/plain")

    @app.get("/error")
    async def error() -> Any:
        return JSONResponse({"detail": TEXT}, 400)

    @app.get("/empty")
    async def empty() -> None:
        return None

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[str]:
            for i in range(50):
                yield f"line {i} " + "x" * 100 + "\n"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/sync-stream")
    async def sync_stream() -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            for i in range(20):
                yield b"row %d," % i * 20

        return StreamingResponse(chunks(), media_type="text/csv")

    @app.get("/events")
    async def events() -> EventSourceResponse:
        async def gen() -> AsyncIterator[str]:
            yield "hello " * 200

        return EventSourceResponse(gen())

    if tmp_path is not None:
        path = tmp_path / "big.txt"
        path.write_text(TEXT)

        @app.get("/file")
        async def file() -> FileResponse:
            return FileResponse(path, media_type="text/plain")

    return app


def test_gzip_when_the_client_accepts_it() -> None:
    client = TestClient(make_app())
    got = client.get("/text", headers={"accept-encoding": "gzip"})
    assert got.headers["content-encoding"] == "gzip"
    assert got.headers["vary"] == "Accept-Encoding"
    assert int(got.headers["content-length"]) < len(TEXT) // 10
    assert got.text == TEXT  # httpx decodes it
    raw = client.get("/text", headers=RAW)
    assert "content-encoding" not in raw.headers
    assert raw.headers["vary"] == "Accept-Encoding"
    assert raw.text == TEXT


def test_brotli_preferred_when_both_are_accepted() -> None:
    assert brotli_available()
    client = TestClient(make_app())
    got = client.get("/json", headers={"accept-encoding": "gzip, deflate, br"})
    assert got.headers["content-encoding"] == "br"
    assert got.json() == {"items": [TEXT[:50]] * 100}
    no_br = TestClient(make_app(use_brotli=False)).get(
        "/json", headers={"accept-encoding": "br, gzip"}
    )
    assert no_br.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, br", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("gzip;q=0, br;q=0", None),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "gzip"),
        ("identity", None),
        ("", None),
        ("x-gzip", "gzip"),
        ("GZIP", "gzip"),
        ("deflate", None),
    ],
)
def test_choose_encoding(header: str, expected: str | None) -> None:
    assert choose_encoding(header) == expected


def test_left_alone() -> None:
    client = TestClient(make_app())
    headers = {"accept-encoding": "gzip, br"}
    small = client.get("/small", headers=headers)
    assert "content-encoding" not in small.headers and "vary" not in small.headers
    png = client.get("/png", headers=headers)
    assert "content-encoding" not in png.headers and "vary" not in png.headers
    encoded = client.get("/encoded", headers=headers)
    assert encoded.headers["content-encoding"] == "gzip"
    assert encoded.text == TEXT  # compressed once, not twice
    assert "content-encoding" not in client.get("/no-transform", headers=headers).headers
    assert client.get("/empty", headers=headers).status_code == 204
    events = client.get("/events", headers=headers)
    assert "content-encoding" not in events.headers


def test_incompressible_body_is_sent_as_it_is() -> None:
    got = TestClient(make_app(minimum_size=10)).get("/random", headers={"accept-encoding": "gzip"})
    # Hex text compresses a little; the point is that it is only encoded if smaller.
    if "content-encoding" in got.headers:
        assert int(got.headers["content-length"]) < 4000
    assert len(got.text) == 4000


def test_threshold_and_types_are_options() -> None:
    client = TestClient(make_app(minimum_size=2))
    assert (
        client.get("/small", headers={"accept-encoding": "gzip"}).headers.get("content-encoding")
        is None
    )  # "tiny" does not get smaller
    only_json = TestClient(make_app(media_types=["application/json"]))
    assert (
        "content-encoding"
        not in only_json.get("/text", headers={"accept-encoding": "gzip"}).headers
    )
    assert (
        only_json.get("/json", headers={"accept-encoding": "gzip"}).headers["content-encoding"]
        == "gzip"
    )
    with pytest.raises(ValueError, match="minimum_size"):
        compression(minimum_size=-1)
    with pytest.raises(ValueError, match="gzip_level"):
        compression(gzip_level=10)


def test_strong_etag_becomes_weak() -> None:
    client = TestClient(make_app())
    assert client.get("/etag", headers={"accept-encoding": "gzip"}).headers["etag"] == 'W/"abc"'
    assert client.get("/etag", headers=RAW).headers["etag"] == '"abc"'


def test_error_bodies_are_compressed_too() -> None:
    got = TestClient(make_app()).get("/error", headers={"accept-encoding": "gzip"})
    assert got.status_code == 400
    assert got.headers["content-encoding"] == "gzip"
    assert got.json() == {"detail": TEXT}


def test_head_gets_the_headers_of_get() -> None:
    client = TestClient(make_app())
    get = client.get("/text", headers={"accept-encoding": "gzip"})
    head = client.head("/text", headers={"accept-encoding": "gzip"})
    assert head.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.content == b""


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_streams_are_compressed_chunk_by_chunk(coding: str) -> None:
    client = TestClient(make_app())
    with client.stream("GET", "/stream", headers={"accept-encoding": coding}) as got:
        assert got.headers["content-encoding"] == coding
        assert "content-length" not in got.headers
        raw = b"".join(got.iter_raw())
    expected = "".join(f"line {i} " + "x" * 100 + "\n" for i in range(50)).encode()
    decoded = zlib.decompress(raw, 31) if coding == "gzip" else brotli.decompress(raw)
    assert decoded == expected
    assert len(raw) < len(expected)


def test_each_streamed_chunk_can_be_decoded_on_arrival() -> None:
    # A flushed chunk decodes fully without the rest of the stream: streams stay live.
    compressor = compression_module._Compressor("gzip", 6, 4)
    decoder = zlib.decompressobj(31)
    assert decoder.decompress(compressor.chunk(b"first line\n")) == b"first line\n"
    assert decoder.decompress(compressor.chunk(b"second\n")) == b"second\n"
    br = compression_module._Compressor("br", 6, 4)
    br_decoder = brotli.Decompressor()
    assert br_decoder.process(br.chunk(b"hello\n")) == b"hello\n"


def test_sync_streams_and_streaming_off() -> None:
    got = TestClient(make_app()).get("/sync-stream", headers={"accept-encoding": "gzip"})
    assert got.headers["content-encoding"] == "gzip"
    assert got.text == "".join(f"row {i}," * 20 for i in range(20))
    off = TestClient(make_app(streams=False)).get("/stream", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in off.headers


def test_files_are_left_alone(tmp_path: Any) -> None:
    client = TestClient(make_app(tmp_path))
    got = client.get("/file", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in got.headers
    assert got.text == TEXT
    ranged = client.get("/file", headers={"accept-encoding": "gzip", "range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.text == TEXT[:10]


def test_large_bodies_are_compressed_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compression_module, "THREAD_THRESHOLD", 1000)
    app = make_app()
    calls: list[Any] = []
    real = app.run_sync

    async def spy(func: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(func)
        return await real(func, *args, **kwargs)

    app.run_sync = spy  # type: ignore[method-assign]
    got = TestClient(app).get("/text", headers={"accept-encoding": "gzip"})
    assert got.text == TEXT
    assert compress_bytes in calls


def test_compress_bytes_round_trips() -> None:
    data = TEXT.encode()
    assert gzip.decompress(compress_bytes(data, "gzip")) == data
    assert brotli.decompress(compress_bytes(data, "br")) == data
    assert compress_bytes(data, "gzip") == compress_bytes(data, "gzip")  # no timestamp


def test_hostile_accept_encoding_is_bounded() -> None:
    header = ", ".join(f"coding{i};q=0.{i % 10}" for i in range(5000)) + ", gzip"
    got = TestClient(make_app()).get("/text", headers={"accept-encoding": header})
    assert got.status_code == 200
    assert got.text == TEXT
