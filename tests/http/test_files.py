"""FileResponse: validators, conditional requests and ranges, over ASGI and a real granian."""

from __future__ import annotations

import asyncio
import email.utils
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import satchel.http
from satchel.exceptions import RangeNotSatisfiable
from satchel.http.files import (
    FileResponse,
    content_disposition,
    guess_media_type,
    make_etag,
    parse_http_date,
    parse_range,
)
from satchel.types import Message

SRC_DIR = Path(satchel.http.__file__).absolute().parents[2]
GRANIAN = [sys.executable, "-m", "granian", "--interface", "rsgi", "--host", "127.0.0.1"]
CONTENT = bytes(range(256)) * 4  # 1024 bytes, every byte value


# -- a minimal ASGI client -----------------------------------------------------------


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
    def status(self) -> int:
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


async def fetch(
    response: FileResponse, method: str = "GET", headers: dict[str, str] | None = None
) -> Client:
    scope = {
        "type": "http",
        "method": method,
        "scheme": "http",
        "path": "/file",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    client = Client()
    await asyncio.wait_for(response(scope, client.receive, client.send), timeout=10)
    assert client.messages[-1].get("more_body", False) is False
    return client


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(CONTENT)
    return path


# -- 200 -----------------------------------------------------------------------------


async def test_whole_file_with_validators(data_file: Path) -> None:
    client = await fetch(FileResponse(data_file))
    stat = data_file.stat()
    assert client.status == 200
    assert client.body == CONTENT
    assert client.headers["content-length"] == "1024"
    assert client.headers["content-type"] == "application/octet-stream"
    assert client.headers["accept-ranges"] == "bytes"
    assert client.headers["etag"] == make_etag(stat)
    assert client.headers["etag"].startswith('"')
    assert parse_http_date(client.headers["last-modified"]) == int(stat.st_mtime)


async def test_file_is_sent_in_chunks(data_file: Path) -> None:
    class Small(FileResponse):
        chunk_size = 100

    client = await fetch(Small(data_file))
    assert client.body == CONTENT
    assert len(client.bodies) == 11
    assert max(len(b) for b in client.bodies) == 100
    assert all(m["more_body"] for m in client.messages[1:-1])


async def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    client = await fetch(FileResponse(empty), headers={"range": "bytes=0-5"})
    assert client.status == 200
    assert client.body == b""
    assert client.headers["content-length"] == "0"


async def test_head_sends_length_and_no_body(data_file: Path) -> None:
    client = await fetch(FileResponse(data_file), method="HEAD")
    assert client.status == 200
    assert client.headers["content-length"] == "1024"
    assert client.body == b""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notes.txt", "text/plain; charset=utf-8"),
        ("page.html", "text/html; charset=utf-8"),
        ("image.png", "image/png"),
        ("data.json", "application/json"),
        ("archive.tar.gz", "application/octet-stream"),
        ("drawing.svg.gz", "application/octet-stream"),
        ("no-extension", "application/octet-stream"),
    ],
)
async def test_media_type_is_guessed(tmp_path: Path, name: str, expected: str) -> None:
    (tmp_path / name).write_bytes(b"x")
    client = await fetch(FileResponse(tmp_path / name))
    assert client.headers["content-type"] == expected


async def test_explicit_media_type_and_filename_guess(data_file: Path) -> None:
    assert (await fetch(FileResponse(data_file, media_type="image/webp"))).headers[
        "content-type"
    ] == "image/webp"
    guessed = await fetch(FileResponse(data_file, filename="report.csv"))
    assert guessed.headers["content-type"] == "text/csv; charset=utf-8"


# -- Content-Disposition -------------------------------------------------------------


def test_ascii_filename() -> None:
    assert content_disposition("attachment", "report.pdf") == 'attachment; filename="report.pdf"'


def test_unicode_filename_gets_rfc5987_form() -> None:
    value = content_disposition("inline", "résumé €.pdf")
    assert value == (
        "inline; filename=\"r_sum_ _.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%82%AC.pdf"
    )


@pytest.mark.parametrize(
    "hostile",
    [
        'evil".exe',
        "a\r\nSet-Cookie: session=stolen",
        "back\\slash",
        "nul\0byte",
        "../../etc/passwd",
        "tab\tand\x7fdel",
    ],
)
async def test_hostile_filenames_cannot_break_the_header(data_file: Path, hostile: str) -> None:
    client = await fetch(FileResponse(data_file, filename=hostile))
    raw = dict(client.messages[0]["headers"])[b"content-disposition"]
    assert not any(c in raw for c in b"\r\n\0\t\x7f")
    value = raw.decode()
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in fallback and "\\" not in fallback
    # Anything changed in the fallback travels, percent-encoded, in filename*.
    assert fallback == hostile or "filename*=UTF-8''" in value
    assert "set-cookie" not in client.headers


@pytest.mark.parametrize("kind", ["attachment; filename=x", "", "in line", "a\r\nb"])
def test_bad_disposition_type_is_refused(data_file: Path, kind: str) -> None:
    with pytest.raises(ValueError, match="token"):
        FileResponse(data_file, filename="x.txt", content_disposition_type=kind)


def test_no_filename_no_disposition(data_file: Path) -> None:
    assert "content-disposition" not in FileResponse(data_file).headers


# -- conditional requests ------------------------------------------------------------


async def test_if_none_match_gives_304_with_etag_and_no_body(data_file: Path) -> None:
    etag = make_etag(data_file.stat())
    client = await fetch(
        FileResponse(data_file, headers={"cache-control": "max-age=60"}),
        headers={"if-none-match": etag},
    )
    assert client.status == 304
    assert client.body == b""
    assert client.headers["etag"] == etag
    assert client.headers["cache-control"] == "max-age=60"
    assert "content-length" not in client.headers
    assert "content-type" not in client.headers


@pytest.mark.parametrize(
    "template", ["{etag}", "W/{etag}", '"other", {etag}', '"a,b", W/{etag} ', "*"]
)
async def test_if_none_match_forms(data_file: Path, template: str) -> None:
    header = template.format(etag=make_etag(data_file.stat()))
    client = await fetch(FileResponse(data_file), headers={"if-none-match": header})
    assert client.status == 304


@pytest.mark.parametrize("header", ['"nope"', 'W/"nope"', "", "garbage", '"1-400"'])
async def test_if_none_match_mismatch_sends_the_file(data_file: Path, header: str) -> None:
    future = email.utils.formatdate(time.time() + 3600, usegmt=True)
    client = await fetch(
        FileResponse(data_file),
        # If-None-Match takes precedence: If-Modified-Since is ignored beside it.
        headers={"if-none-match": header, "if-modified-since": future},
    )
    assert client.status == 200
    assert client.body == CONTENT


async def test_if_modified_since(data_file: Path) -> None:
    mtime = data_file.stat().st_mtime
    same = email.utils.formatdate(mtime, usegmt=True)
    earlier = email.utils.formatdate(mtime - 10, usegmt=True)
    assert (await fetch(FileResponse(data_file), headers={"if-modified-since": same})).status == 304
    assert (
        await fetch(FileResponse(data_file), headers={"if-modified-since": earlier})
    ).status == 200


@pytest.mark.parametrize("header", ["yesterday", "", "Mon, 99 Foo 2020 99:99:99 GMT", "0" * 5000])
async def test_garbage_if_modified_since_is_ignored(data_file: Path, header: str) -> None:
    client = await fetch(FileResponse(data_file), headers={"if-modified-since": header})
    assert client.status == 200


async def test_conditionals_apply_only_to_get_and_head(data_file: Path) -> None:
    etag = make_etag(data_file.stat())
    client = await fetch(FileResponse(data_file), "POST", {"if-none-match": etag})
    assert client.status == 200


async def test_if_match(data_file: Path) -> None:
    etag = make_etag(data_file.stat())
    ok = await fetch(FileResponse(data_file), headers={"if-match": etag})
    assert ok.status == 200
    failed = await fetch(FileResponse(data_file), headers={"if-match": '"stale"'})
    assert failed.status == 412
    assert failed.body == b""
    # If-Match uses the strong comparison: a weak tag never matches.
    weak = await fetch(FileResponse(data_file), headers={"if-match": "W/" + etag})
    assert weak.status == 412


async def test_if_unmodified_since(data_file: Path) -> None:
    earlier = email.utils.formatdate(data_file.stat().st_mtime - 10, usegmt=True)
    client = await fetch(FileResponse(data_file), headers={"if-unmodified-since": earlier})
    assert client.status == 412


async def test_etag_changes_when_the_file_does(data_file: Path) -> None:
    before = (await fetch(FileResponse(data_file))).headers["etag"]
    data_file.write_bytes(CONTENT + b"more")
    os.utime(data_file, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    client = await fetch(FileResponse(data_file), headers={"if-none-match": before})
    assert client.status == 200
    assert client.headers["etag"] != before


async def test_callers_etag_is_used_for_matching(data_file: Path) -> None:
    response = FileResponse(data_file, headers={"etag": '"v2"'})
    client = await fetch(response, headers={"if-none-match": '"v2"'})
    assert client.status == 304
    assert client.headers["etag"] == '"v2"'


async def test_unparsable_callers_last_modified_falls_back_to_the_file(data_file: Path) -> None:
    earlier = email.utils.formatdate(data_file.stat().st_mtime - 60, usegmt=True)
    response = FileResponse(data_file, headers={"last-modified": "whenever"})
    client = await fetch(response, headers={"if-modified-since": earlier})
    assert client.status == 200
    assert client.body == CONTENT


async def test_error_page_status_skips_conditionals_and_ranges(data_file: Path) -> None:
    etag = make_etag(data_file.stat())
    client = await fetch(
        FileResponse(data_file, status_code=404),
        headers={"if-none-match": etag, "range": "bytes=0-1"},
    )
    assert client.status == 404
    assert client.body == CONTENT


# -- ranges --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 10),
        ("bytes=10-", 10, 1024),
        ("bytes=-5", 1019, 1024),
        ("bytes=-5000", 0, 1024),
        ("bytes=1000-99999", 1000, 1024),
        ("bytes=1023-1023", 1023, 1024),
        ("BYTES = 3-4", 3, 5),
        ("bytes=5-6, ", 5, 7),
    ],
)
async def test_single_range_gives_206(data_file: Path, header: str, start: int, end: int) -> None:
    client = await fetch(FileResponse(data_file), headers={"range": header})
    assert client.status == 206
    assert client.body == CONTENT[start:end]
    assert client.headers["content-range"] == f"bytes {start}-{end - 1}/1024"
    assert client.headers["content-length"] == str(end - start)
    assert "etag" in client.headers


@pytest.mark.parametrize(
    "header", ["bytes=1024-", "bytes=5000-6000", "bytes=-0", "bytes=1" + "0" * 30 + "-"]
)
async def test_unsatisfiable_range_gives_416(data_file: Path, header: str) -> None:
    client = await fetch(FileResponse(data_file), headers={"range": header})
    assert client.status == 416
    assert client.headers["content-range"] == "bytes */1024"
    assert client.body == b""
    assert "content-type" not in client.headers


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-1,5-6",  # multiple ranges: whole file, by choice
        "bytes=0-1023,0-1023,0-1023",
        "bytes=abc",
        "bytes=5-2",
        "items=0-5",
        "bytes=--5",
        "bytes=-",
        "bytes=+1-2",
        "bytes=1-+2",
        "bytes=\u0663-5",  # an Arabic-Indic digit that int() would accept
        "bytes=1_0-20",
        "bytes=0x10-20",
        "bytes=" + "9" * 5000 + "-",
        "bytes 0-5",
        "",
        "bytes=",
    ],
)
async def test_malformed_or_multiple_ranges_send_the_whole_file(
    data_file: Path, header: str
) -> None:
    client = await fetch(FileResponse(data_file), headers={"range": header})
    assert client.status == 200
    assert client.body == CONTENT


async def test_range_is_ignored_for_head(data_file: Path) -> None:
    client = await fetch(FileResponse(data_file), "HEAD", {"range": "bytes=0-9"})
    assert client.status == 200
    assert client.headers["content-length"] == "1024"


async def test_if_range(data_file: Path) -> None:
    stat = data_file.stat()
    etag = make_etag(stat)
    last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
    cases = {
        etag: 206,
        '"stale"': 200,
        "W/" + etag: 200,  # If-Range needs a strong match
        last_modified: 206,
        email.utils.formatdate(stat.st_mtime - 60, usegmt=True): 200,
        "not a date": 200,
    }
    for if_range, status in cases.items():
        client = await fetch(
            FileResponse(data_file), headers={"range": "bytes=0-3", "if-range": if_range}
        )
        assert client.status == status, if_range
        assert client.body == (CONTENT[:4] if status == 206 else CONTENT)


def test_parse_range_table() -> None:
    assert parse_range("bytes=0-0", 10) == (0, 1)
    assert parse_range("bytes=-1", 10) == (9, 10)
    assert parse_range("bytes=9-", 10) == (9, 10)
    assert parse_range("bytes=0-1,2-3", 10) is None
    assert parse_range("bytes=3-2", 10) is None
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=10-", 10)
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=-0", 10)


@pytest.mark.parametrize(
    "value",
    ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"],
)
def test_parse_http_date_formats(value: str) -> None:
    assert parse_http_date(value) == 784111777


# -- missing and odd files -----------------------------------------------------------


async def test_missing_file_is_404(tmp_path: Path) -> None:
    client = await fetch(FileResponse(tmp_path / "gone.txt"))
    assert client.status == 404
    assert client.body == b"Not Found"


async def test_file_deleted_after_the_response_was_made_is_404(data_file: Path) -> None:
    response = FileResponse(data_file)
    data_file.unlink()
    assert (await fetch(response)).status == 404


async def test_directory_is_404(tmp_path: Path) -> None:
    assert (await fetch(FileResponse(tmp_path))).status == 404


async def test_nul_in_path_is_404(tmp_path: Path) -> None:
    assert (await fetch(FileResponse(str(tmp_path / "a\0b")))).status == 404


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
async def test_fifo_is_404_and_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert (await fetch(FileResponse(fifo))).status == 404


async def test_disconnect_stops_reading(data_file: Path) -> None:
    class Tiny(FileResponse):
        chunk_size = 16

    client = Client(disconnect_after=2)
    scope = {"type": "http", "method": "GET", "scheme": "http", "path": "/", "headers": []}
    await asyncio.wait_for(Tiny(data_file)(scope, client.receive, client.send), timeout=10)
    assert 2 <= len(client.bodies) < 64 // 2


async def test_given_stat_result_is_used_for_the_headers(data_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.write_bytes(b"12345")
    client = await fetch(FileResponse(data_file, stat_result=other.stat()))
    assert client.headers["content-length"] == "5"
    assert client.body == CONTENT[:5]


def test_guess_media_type_default() -> None:
    assert guess_media_type("x.unknownext") == "application/octet-stream"


# -- RSGI through a real granian -----------------------------------------------------

RSGI_APP = textwrap.dedent(
    """
    from satchel.http.files import FileResponse
    from satchel.http.request import Request


    async def app(scope, proto):
        request = Request.from_rsgi(scope, proto)
        name = "data.bin" if scope.path == "/data" else "missing.bin"
        await FileResponse(name, headers={"cache-control": "max-age=5"}).send_rsgi(request, proto)
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
def test_rsgi_file_responses(granian: Callable[[str], str], data_file: Path) -> None:
    base = granian(RSGI_APP)
    etag = make_etag(data_file.stat())
    with httpx.Client(base_url=base, timeout=10) as http:
        full = http.get("/data")
        assert full.status_code == 200
        assert full.content == CONTENT
        assert full.headers["content-length"] == "1024"
        assert full.headers["etag"] == etag
        assert full.headers["cache-control"] == "max-age=5"
        assert full.headers["accept-ranges"] == "bytes"

        part = http.get("/data", headers={"range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.content == CONTENT[100:200]
        assert part.headers["content-range"] == "bytes 100-199/1024"
        assert part.headers["content-length"] == "100"

        suffix = http.get("/data", headers={"range": "bytes=-24"})
        assert suffix.status_code == 206
        assert suffix.content == CONTENT[-24:]

        cached = http.get("/data", headers={"if-none-match": etag})
        assert cached.status_code == 304
        assert cached.content == b""
        assert cached.headers["etag"] == etag

        beyond = http.get("/data", headers={"range": "bytes=2000-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == "bytes */1024"
        assert beyond.content == b""

        head = http.head("/data")
        assert head.status_code == 200
        assert head.headers["content-length"] == "1024"
        assert head.content == b""

        multi = http.get("/data", headers={"range": "bytes=0-1,4-5"})
        assert multi.status_code == 200
        assert multi.content == CONTENT

        missing = http.get("/missing")
        assert missing.status_code == 404
        assert missing.text == "Not Found"
