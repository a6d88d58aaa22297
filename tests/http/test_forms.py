import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from satchel.exceptions import BadRequest, PayloadTooLarge, UnsupportedMediaType
from satchel.http.datastructures import FormData, UploadFile
from satchel.http.forms import FormLimits, parse_form
from satchel.http.request import Request

BOUNDARY = "----satchelBoundary7MA4YWxk"


class Body:
    """An ASGI ``receive`` that hands out body chunks and counts what was taken."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self.calls = 0
        self.bytes_sent = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        chunk = next(self._chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        self.bytes_sent += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}


def make_request(
    chunks: Iterable[bytes], content_type: str | None, query: bytes = b""
) -> tuple[Request, Body]:
    headers = [(b"content-type", content_type.encode("latin-1"))] if content_type else []
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/submit",
        "query_string": query,
        "headers": headers,
    }
    body = Body(chunks)
    return Request(scope, body), body


def chunked(data: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def part(name: str, value: bytes, *, filename: str | None = None, extra: str = "") -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{extra}\r\n"
    return head.encode() + value + b"\r\n"


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


MULTIPART_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED_TYPE = "application/x-www-form-urlencoded"


# -- urlencoded -----------------------------------------------------------------------


async def test_urlencoded_form() -> None:
    request, _ = make_request([b"name=Ann+Lee&tag=a&tag=b%26c&empty="], URLENCODED_TYPE)
    form = await parse_form(request, FormLimits())
    assert isinstance(form, FormData)
    assert form["name"] == "Ann Lee"
    assert form.getall("tag") == ["a", "b&c"]
    assert form["empty"] == ""


async def test_urlencoded_with_charset_parameter_and_split_chunks() -> None:
    request, _ = make_request([b"q=J%C3", b"%BCrgen"], URLENCODED_TYPE + "; charset=UTF-8")
    form = await parse_form(request, FormLimits())
    assert form["q"] == "Jürgen"


async def test_urlencoded_malformed_percent_is_400() -> None:
    request, _ = make_request([b"a=%zz"], URLENCODED_TYPE)
    with pytest.raises(BadRequest, match="Malformed percent-encoding in form body"):
        await parse_form(request, FormLimits())


async def test_urlencoded_invalid_utf8_is_400() -> None:
    request, _ = make_request([b"a=%ff%fe"], URLENCODED_TYPE)
    with pytest.raises(BadRequest, match="not valid UTF-8"):
        await parse_form(request, FormLimits())


async def test_urlencoded_100k_fields_is_413_fast() -> None:
    data = b"&".join(b"f%d=x" % i for i in range(100_000))
    request, _ = make_request(chunked(data, 65536), URLENCODED_TYPE)
    start = time.perf_counter()
    with pytest.raises(PayloadTooLarge, match="more than 1000 fields") as info:
        await parse_form(request, FormLimits())
    assert time.perf_counter() - start < 2.0
    assert info.value.status_code == 413


async def test_urlencoded_body_over_limit_stops_reading() -> None:
    request, body = make_request(chunked(b"a=" + b"x" * 1_000_000, 1000), URLENCODED_TYPE)
    with pytest.raises(PayloadTooLarge):
        await parse_form(request, FormLimits(max_body_size=10_000))
    assert body.bytes_sent < 20_000


# -- content type ---------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/mixed"])
async def test_other_content_types_are_415(content_type: str) -> None:
    request, _ = make_request([b"{}"], content_type)
    with pytest.raises(UnsupportedMediaType) as info:
        await parse_form(request, FormLimits())
    assert info.value.status_code == 415
    assert content_type in info.value.detail
    assert "application/x-www-form-urlencoded" in info.value.detail
    assert "multipart/form-data" in info.value.detail


async def test_missing_content_type_is_415() -> None:
    request, _ = make_request([b"a=1"], None)
    with pytest.raises(UnsupportedMediaType, match="no Content-Type"):
        await parse_form(request, FormLimits())


# -- multipart: happy paths -----------------------------------------------------------


async def test_multipart_fields_and_files() -> None:
    data = multipart(
        part("title", "Hello wörld".encode()),
        part(
            "doc",
            b"file\r\ncontent\x00\xff",
            filename="notes.txt",
            extra="Content-Type: text/plain\r\n",
        ),
        part("title", b"second"),
        part("blob", b"", filename="empty.bin"),
    )
    request, _ = make_request(chunked(data, 7), MULTIPART_TYPE)
    form = await parse_form(request, FormLimits())
    try:
        assert form.getall("title") == ["Hello wörld", "second"]
        doc = form["doc"]
        assert isinstance(doc, UploadFile)
        assert doc.filename == "notes.txt"
        assert doc.content_type == "text/plain"
        assert doc.headers["content-type"] == "text/plain"
        assert doc.size == len(b"file\r\ncontent\x00\xff")
        assert await doc.read() == b"file\r\ncontent\x00\xff"
        blob = form["blob"]
        assert isinstance(blob, UploadFile)
        assert blob.content_type == "application/octet-stream"
        assert blob.size == 0
        assert list(form) == ["title", "doc", "blob"]
    finally:
        await form.close()


async def test_multipart_quoted_boundary_and_utf8_filename() -> None:
    data = multipart(part("f", b"data", filename="résumé.pdf"))
    request, _ = make_request([data], f'multipart/form-data; boundary="{BOUNDARY}"')
    form = await parse_form(request, FormLimits())
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert upload.filename == "résumé.pdf"
    await form.close()


async def test_multipart_field_charset_from_part_header() -> None:
    data = multipart(
        part(
            "n",
            "Müller".encode("latin-1"),
            extra="Content-Type: text/plain; charset=iso-8859-1\r\n",
        )
    )
    request, _ = make_request([data], MULTIPART_TYPE)
    form = await parse_form(request, FormLimits())
    assert form["n"] == "Müller"


async def test_multipart_large_upload_spools_to_disk() -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    data = multipart(part("big", payload, filename="big.bin"))
    request, _ = make_request(chunked(data, 65536), MULTIPART_TYPE)
    form = await parse_form(request, FormLimits(spool_max_size=64 * 1024))
    upload = form["big"]
    assert isinstance(upload, UploadFile)
    assert not upload.in_memory
    assert upload.size == len(payload)
    assert await upload.read() == payload
    await form.close()
    assert upload.file.closed


async def test_multipart_epilogue_is_ignored_and_not_read() -> None:
    data = multipart(part("a", b"1"))
    request, body = make_request([data, b"epilogue"] + [b"x" * 1000] * 1000, MULTIPART_TYPE)
    form = await parse_form(request, FormLimits())
    assert form["a"] == "1"
    assert body.calls <= 2


async def test_multipart_field_of_crlf_under_the_limit_is_kept() -> None:
    value = b"\r\n" * 100_000
    data = multipart(part("text", value))
    request, _ = make_request(chunked(data, 65536), MULTIPART_TYPE)
    start = time.perf_counter()
    form = await parse_form(request, FormLimits())
    assert time.perf_counter() - start < 2.0
    assert form["text"] == value.decode()


# -- multipart: hostile input ---------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; charset=x"],
)
async def test_multipart_without_boundary_is_400(content_type: str) -> None:
    request, _ = make_request([multipart(part("a", b"1"))], content_type)
    with pytest.raises(BadRequest, match="multipart body without a boundary"):
        await parse_form(request, FormLimits())


async def test_multipart_overlong_boundary_is_400() -> None:
    request, _ = make_request([b""], "multipart/form-data; boundary=" + "b" * 1000)
    with pytest.raises(BadRequest, match="boundary"):
        await parse_form(request, FormLimits())


@pytest.mark.parametrize(
    "data",
    [
        b"not multipart at all",
        f"--{BOUNDARY}X\r\n".encode(),
        f"--{BOUNDARY}\r\nno colon here\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=a\rX".encode(),
    ],
)
async def test_malformed_multipart_is_400(data: bytes) -> None:
    request, _ = make_request([data], MULTIPART_TYPE)
    with pytest.raises(BadRequest, match="Malformed multipart"):
        await parse_form(request, FormLimits())


async def test_truncated_multipart_is_400() -> None:
    data = multipart(part("a", b"1"), part("f", b"data", filename="x"))
    request, _ = make_request([data[:-30]], MULTIPART_TYPE)
    with pytest.raises(BadRequest, match="ends before its last boundary"):
        await parse_form(request, FormLimits())


async def test_empty_multipart_body_is_400() -> None:
    request, _ = make_request([], MULTIPART_TYPE)
    with pytest.raises(BadRequest, match="ends before"):
        await parse_form(request, FormLimits())


async def test_part_without_content_disposition_is_400() -> None:
    data = f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n"
    request, _ = make_request([data.encode()], MULTIPART_TYPE)
    with pytest.raises(BadRequest, match="without a Content-Disposition"):
        await parse_form(request, FormLimits())


async def test_part_without_name_is_400() -> None:
    data = f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--{BOUNDARY}--\r\n"
    request, _ = make_request([data.encode()], MULTIPART_TYPE)
    with pytest.raises(BadRequest, match="without a field name"):
        await parse_form(request, FormLimits())


async def test_part_that_is_not_form_data_is_400() -> None:
    data = (
        f'--{BOUNDARY}\r\nContent-Disposition: attachment; name="a"\r\n\r\nx\r\n--{BOUNDARY}--\r\n'
    )
    request, _ = make_request([data.encode()], MULTIPART_TYPE)
    with pytest.raises(BadRequest, match="not form-data"):
        await parse_form(request, FormLimits())


async def test_invalid_utf8_field_is_400() -> None:
    request, _ = make_request([multipart(part("a", b"\xff\xfe"))], MULTIPART_TYPE)
    with pytest.raises(BadRequest, match="'a' is not valid utf-8"):
        await parse_form(request, FormLimits())


@pytest.mark.parametrize("charset", ["no-such-charset", "rot13", "hex"])
async def test_unknown_or_non_text_charset_is_400(charset: str) -> None:
    data = multipart(part("a", b"x", extra=f"Content-Type: text/plain; charset={charset}\r\n"))
    request, _ = make_request([data], MULTIPART_TYPE)
    with pytest.raises(BadRequest, match="unknown charset"):
        await parse_form(request, FormLimits())


async def test_100k_multipart_fields_is_413_and_stops_early() -> None:
    data = b"".join(part(f"f{i}", b"x") for i in range(100_000))
    request, body = make_request(chunked(data, 65536), MULTIPART_TYPE)
    start = time.perf_counter()
    with pytest.raises(PayloadTooLarge, match="more than 1000 fields"):
        await parse_form(request, FormLimits())
    assert time.perf_counter() - start < 2.0
    assert body.bytes_sent < len(data) // 10


async def test_too_many_files_is_413_and_closes_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[UploadFile] = []
    original_init = UploadFile.__init__

    def recording_init(self: UploadFile, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        created.append(self)

    monkeypatch.setattr(UploadFile, "__init__", recording_init)
    data = multipart(*(part("f", b"data", filename=f"{i}.txt") for i in range(4)))
    request, _ = make_request([data], MULTIPART_TYPE)
    with pytest.raises(PayloadTooLarge, match="more than 3 files"):
        await parse_form(request, FormLimits(max_files=3))
    assert len(created) == 3
    assert all(upload.file.closed for upload in created)


async def test_file_over_limit_is_413_and_stops_reading() -> None:
    data = multipart(part("f", b"x" * 10_000_000, filename="big.bin"))
    request, body = make_request(chunked(data, 65536), MULTIPART_TYPE)
    with pytest.raises(PayloadTooLarge, match=r"'big\.bin' is larger than the limit of 100000"):
        await parse_form(request, FormLimits(max_file_size=100_000))
    assert body.bytes_sent < 300_000


async def test_field_over_limit_is_413() -> None:
    data = multipart(part("essay", b"x" * 2000))
    request, _ = make_request(chunked(data, 100), MULTIPART_TYPE)
    with pytest.raises(PayloadTooLarge, match="'essay' is larger than the limit of 1000"):
        await parse_form(request, FormLimits(max_field_size=1000))


async def test_fields_together_over_limit_is_413() -> None:
    data = multipart(*(part(f"f{i}", b"x" * 900) for i in range(5)))
    request, _ = make_request([data], MULTIPART_TYPE)
    with pytest.raises(PayloadTooLarge, match="fields together"):
        await parse_form(request, FormLimits(max_field_size=1000, max_total_field_size=4000))


async def test_endless_part_header_value_is_refused_early() -> None:
    def endless() -> Iterator[bytes]:
        yield f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=a; x=".encode()
        while True:
            yield b"y" * 4096

    request, body = make_request(endless(), MULTIPART_TYPE)
    with pytest.raises((PayloadTooLarge, BadRequest)):
        await parse_form(request, FormLimits())
    assert body.bytes_sent < 64 * 1024


async def test_endless_list_of_part_headers_is_refused_early() -> None:
    def endless() -> Iterator[bytes]:
        yield f"--{BOUNDARY}\r\n".encode()
        while True:
            yield b"X-A: b\r\n" * 512

    request, body = make_request(endless(), MULTIPART_TYPE)
    with pytest.raises((PayloadTooLarge, BadRequest)):
        await parse_form(request, FormLimits())
    assert body.bytes_sent < 64 * 1024


async def test_part_headers_over_limit_is_413() -> None:
    extra = "".join(f"X-H{i}: {'v' * 100}\r\n" for i in range(10))
    request, _ = make_request([multipart(part("a", b"1", extra=extra))], MULTIPART_TYPE)
    with pytest.raises(PayloadTooLarge, match="part headers are larger than the limit of 500"):
        await parse_form(request, FormLimits(max_part_header_size=500))


async def test_one_megabyte_of_crlf_is_400_quickly() -> None:
    data = b"\r\n" * 500_000
    request, body = make_request(chunked(data, 65536), MULTIPART_TYPE)
    start = time.perf_counter()
    with pytest.raises(BadRequest, match="outside any part"):
        await parse_form(request, FormLimits())
    assert time.perf_counter() - start < 2.0
    assert body.bytes_sent < 200_000


async def test_crlf_flood_in_one_huge_chunk_is_400() -> None:
    request, _ = make_request([b"\r\n" * 500_000], MULTIPART_TYPE)
    with pytest.raises(BadRequest):
        await parse_form(request, FormLimits())


async def test_endless_padding_after_boundary_is_400_quickly() -> None:
    def endless() -> Iterator[bytes]:
        yield multipart(part("a", b"1"))[: -len(f"--{BOUNDARY}--\r\n")]
        yield f"--{BOUNDARY}".encode()
        while True:
            yield b" " * 4096

    request, body = make_request(endless(), MULTIPART_TYPE)
    start = time.perf_counter()
    with pytest.raises(BadRequest, match="outside any part"):
        await parse_form(request, FormLimits())
    assert time.perf_counter() - start < 2.0
    assert body.bytes_sent < 100_000


# -- the request paths that use this module -------------------------------------------


async def test_request_form_parses_once_and_close_releases_uploads() -> None:
    data = multipart(part("a", b"1"), part("f", b"content", filename="f.txt"))
    request, _ = make_request(chunked(data, 10), MULTIPART_TYPE)
    form = await request.form()
    assert form["a"] == "1"
    assert await request.form() is form
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    await request.close()
    assert upload.file.closed


async def test_request_form_uses_given_limits() -> None:
    request, _ = make_request([b"a=1&b=2&c=3"], URLENCODED_TYPE)
    with pytest.raises(PayloadTooLarge):
        await request.form(FormLimits(max_fields=2))


async def test_request_form_after_body_was_read() -> None:
    request, _ = make_request([b"a=1"], URLENCODED_TYPE)
    assert await request.body() == b"a=1"
    assert (await request.form())["a"] == "1"


def test_request_query_is_parsed_lazily_and_strictly() -> None:
    request, _ = make_request([], None, query=b"q=caf%C3%A9&q=2&x=a+b")
    assert request.query["q"] == "café"
    assert request.query.getall("q") == ["café", "2"]
    assert request.query_params["x"] == "a b"
    assert request.query is request.query
    bad, _ = make_request([], None, query=b"q=%ff%fe")
    with pytest.raises(BadRequest, match="not valid UTF-8"):
        _ = bad.query


def test_request_url_is_a_url() -> None:
    request, _ = make_request([], None, query=b"a=1")
    assert request.url.query == "a=1"
    assert request.url.path == "/submit"


# -- limits ---------------------------------------------------------------------------


def test_form_limits_defaults_and_validation() -> None:
    limits = FormLimits()
    assert limits.max_fields == 1000
    assert limits.max_files == 100
    assert limits.max_field_size == 1024 * 1024
    assert limits.max_file_size == 100 * 1024 * 1024
    assert limits.max_part_header_size == 16 * 1024
    assert limits.max_body_size == 1024 * 1024
    assert limits.spool_max_size == 1024 * 1024
    with pytest.raises(ValueError, match="max_fields must be a non-negative int"):
        FormLimits(max_fields=-1)
    with pytest.raises(ValueError, match="max_files"):
        FormLimits(max_files="10")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        limits.max_fields = 5  # type: ignore[misc]
