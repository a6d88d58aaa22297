"""Parse form bodies (urlencoded and multipart) within fixed limits.

Multipart bodies stream through python-multipart's push parser: nothing larger
than one part's headers or one text field is held in memory, uploads spool to
disk, and every limit is checked as bytes arrive, so an oversized or endless body
is refused after the first bytes over the line rather than after reading it all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from satchel.exceptions import BadRequest, PayloadTooLarge, UnsupportedMediaType
from satchel.http.datastructures import FormData, UploadFile
from satchel.http.headers import Headers
from satchel.http.url import parse_urlencoded

if TYPE_CHECKING:
    from satchel.http.request import Request

_KIB = 1024
_MIB = 1024 * 1024

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

# Headers a part may carry; browsers send two (Content-Disposition, Content-Type).
_MAX_PART_HEADERS = 16
# Raw bytes that cost a header beyond its name and value: ": " and the CRLF.
_HEADER_OVERHEAD = 4
# Bytes handed to the parser per call, so a single huge chunk from the server is
# still checked for progress at this granularity.
_FEED_SIZE = 64 * _KIB


@dataclass(frozen=True)
class FormLimits:
    """Limits applied while a form is parsed; going over one raises 413.

    Sizes are in bytes. ``max_body_size`` bounds a whole urlencoded body;
    ``max_total_field_size`` bounds the text fields of a multipart body together;
    ``spool_max_size`` is how much of each upload stays in memory before it moves
    to a temporary file.
    """

    max_fields: int = 1000
    max_files: int = 100
    max_field_size: int = 1 * _MIB
    max_total_field_size: int = 16 * _MIB
    max_file_size: int = 100 * _MIB
    max_part_header_size: int = 16 * _KIB
    max_body_size: int = 1 * _MIB
    spool_max_size: int = 1 * _MIB

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(
                    f"FormLimits.{field.name} must be a non-negative int, got {value!r}"
                )


async def parse_form(request: Request, limits: FormLimits) -> FormData:
    """Parse the request body as a form, choosing the parser from its Content-Type.

    Malformed bodies raise ``BadRequest`` (400), bodies over a limit
    ``PayloadTooLarge`` (413), and any other content type
    ``UnsupportedMediaType`` (415). On error every upload created is closed.
    """
    header = request.headers.get("content-type", "")
    media_type, params = parse_options_header(header)
    if media_type == URLENCODED.encode():
        body = await request.body(limit=limits.max_body_size)
        query = parse_urlencoded(body.decode("latin-1"), limits.max_fields)
        return FormData(query.multi_items())
    if media_type == MULTIPART.encode():
        boundary = params.get(b"boundary")
        if not boundary:
            raise BadRequest(detail="Cannot parse a multipart body without a boundary")
        reader = _MultipartReader(boundary, limits)
        return await reader.read(request.stream())
    got = f"Content-Type {media_type.decode('latin-1')!r}" if media_type else "no Content-Type"
    raise UnsupportedMediaType(
        detail=f"Cannot parse a form from a body with {got}; send {URLENCODED} or {MULTIPART}"
    )


class _MultipartReader:
    """Drive one :class:`MultipartParser` and turn its callbacks into a :class:`FormData`."""

    def __init__(self, boundary: bytes, limits: FormLimits) -> None:
        self.limits = limits
        self.items: list[tuple[str, str | UploadFile]] = []
        self.uploads: list[UploadFile] = []
        # Upload bytes waiting to be written; callbacks are sync, file writes async.
        self.pending: list[tuple[UploadFile, bytes]] = []
        self.field_count = 0
        self.file_count = 0
        self.total_field_size = 0
        self.progress = False
        self.finished = False
        # The part being parsed.
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_size = 0
        self.name = ""
        self.charset = "utf-8"
        self.value = bytearray()
        self.upload: UploadFile | None = None
        self.part_size = 0
        try:
            self.parser = MultipartParser(
                boundary,
                {
                    "on_part_begin": self._on_part_begin,
                    "on_header_begin": self._on_header_begin,
                    "on_header_field": self._on_header_field,
                    "on_header_value": self._on_header_value,
                    "on_header_end": self._on_header_end,
                    "on_headers_finished": self._on_headers_finished,
                    "on_part_data": self._on_part_data,
                    "on_part_end": self._on_part_end,
                    "on_end": self._on_end,
                },
                max_header_count=_MAX_PART_HEADERS,
                max_header_size=limits.max_part_header_size,
            )
        except FormParserError as exc:
            raise BadRequest(detail=f"Malformed multipart boundary: {exc}") from None

    async def read(self, stream: AsyncIterator[bytes]) -> FormData:
        """Feed ``stream`` to the parser and return the form; close uploads on failure."""
        try:
            await self._consume(stream)
            if not self.finished:
                raise BadRequest(
                    detail="Malformed multipart body: it ends before its last boundary"
                )
            for upload in self.uploads:
                await upload.seek(0)
        except BaseException:
            for upload in self.uploads:
                await upload.close()
            raise
        finally:
            # Stopping early (an error, or bytes after the last boundary) leaves the
            # stream generator suspended; close it now rather than at garbage collection.
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        return FormData(self.items)

    async def _consume(self, stream: AsyncIterator[bytes]) -> None:
        idle = 0
        async for chunk in stream:
            for piece in _slices(chunk):
                self.progress = False
                try:
                    self.parser.write(piece)
                except FormParserError as exc:
                    raise BadRequest(detail=f"Malformed multipart body: {exc}") from None
                # Some parser states (leading CR/LF, padding after a boundary) eat
                # bytes without a callback; without this check they could eat forever.
                idle = 0 if self.progress else idle + len(piece)
                if idle > self.limits.max_part_header_size:
                    raise BadRequest(
                        detail="Malformed multipart body: too many bytes outside any part"
                    )
                for upload, data in self.pending:
                    await upload.write(data)
                self.pending.clear()
                if self.finished:
                    # Whatever follows the closing boundary is an epilogue to ignore.
                    return

    # -- parser callbacks (sync; they only record and check limits) -------------------

    def _on_part_begin(self) -> None:
        self.progress = True
        self.headers = []
        self.header_size = 0

    def _on_header_begin(self) -> None:
        self.progress = True
        self._count_header_bytes(_HEADER_OVERHEAD)

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.progress = True
        self._count_header_bytes(end - start)
        self.header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.progress = True
        self._count_header_bytes(end - start)
        self.header_value += data[start:end]

    def _count_header_bytes(self, size: int) -> None:
        self.header_size += size
        if self.header_size > self.limits.max_part_header_size:
            raise PayloadTooLarge(
                detail="Multipart part headers are larger than the limit of "
                f"{self.limits.max_part_header_size} bytes"
            )

    def _on_header_end(self) -> None:
        self.headers.append((bytes(self.header_name).lower(), bytes(self.header_value)))
        self.header_name.clear()
        self.header_value.clear()

    def _on_headers_finished(self) -> None:
        self.progress = True
        disposition = _first(self.headers, b"content-disposition")
        if disposition is None:
            raise BadRequest(detail="Multipart part without a Content-Disposition header")
        kind, params = parse_options_header(disposition.decode("latin-1"))
        if kind != b"form-data":
            raise BadRequest(detail="Multipart part whose Content-Disposition is not form-data")
        raw_name = params.get(b"name")
        if raw_name is None:
            raise BadRequest(detail="Multipart part without a field name")
        self.name = _header_text(raw_name)
        raw_filename = params.get(b"filename")
        content_type = _first(self.headers, b"content-type")
        if raw_filename is None:
            self._begin_field(content_type)
        else:
            self._begin_file(_header_text(raw_filename), content_type)

    def _begin_field(self, content_type: bytes | None) -> None:
        self.field_count += 1
        if self.field_count > self.limits.max_fields:
            raise PayloadTooLarge(detail=f"The form has more than {self.limits.max_fields} fields")
        self.upload = None
        self.value = bytearray()
        charset = parse_options_header(content_type)[1].get(b"charset") if content_type else None
        self.charset = charset.decode("latin-1") if charset else "utf-8"

    def _begin_file(self, filename: str, content_type: bytes | None) -> None:
        self.file_count += 1
        if self.file_count > self.limits.max_files:
            raise PayloadTooLarge(detail=f"The form has more than {self.limits.max_files} files")
        headers = Headers([(k.decode("latin-1"), _header_text(v)) for k, v in self.headers])
        upload = UploadFile(
            filename=filename,
            content_type=_header_text(content_type) if content_type else "application/octet-stream",
            headers=headers,
            spool_max_size=self.limits.spool_max_size,
        )
        self.uploads.append(upload)
        self.items.append((self.name, upload))
        self.upload = upload
        self.part_size = 0

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.progress = True
        size = end - start
        if self.upload is not None:
            self.part_size += size
            if self.part_size > self.limits.max_file_size:
                raise PayloadTooLarge(
                    detail=f"Uploaded file {self.upload.filename!r:.100} is larger than "
                    f"the limit of {self.limits.max_file_size} bytes"
                )
            self.pending.append((self.upload, data[start:end]))
            return
        self.total_field_size += size
        if len(self.value) + size > self.limits.max_field_size:
            raise PayloadTooLarge(
                detail=f"Form field {self.name!r:.100} is larger than the limit of "
                f"{self.limits.max_field_size} bytes"
            )
        if self.total_field_size > self.limits.max_total_field_size:
            raise PayloadTooLarge(
                detail="The form's fields together are larger than the limit of "
                f"{self.limits.max_total_field_size} bytes"
            )
        self.value += data[start:end]

    def _on_part_end(self) -> None:
        self.progress = True
        if self.upload is not None:
            self.upload = None
            return
        try:
            text = self.value.decode(self.charset)
        except LookupError:
            raise BadRequest(
                detail=f"Form field {self.name!r:.100} names an unknown charset "
                f"{self.charset!r:.40}"
            ) from None
        except UnicodeDecodeError:
            raise BadRequest(
                detail=f"Form field {self.name!r:.100} is not valid {self.charset:.40}"
            ) from None
        self.items.append((self.name, text))

    def _on_end(self) -> None:
        self.progress = True
        self.finished = True


def _slices(chunk: bytes) -> Iterator[bytes]:
    if len(chunk) <= _FEED_SIZE:
        yield chunk
        return
    for start in range(0, len(chunk), _FEED_SIZE):
        yield chunk[start : start + _FEED_SIZE]


def _first(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _header_text(raw: bytes) -> str:
    # Browsers send names and filenames as raw UTF-8; older clients as latin-1,
    # which decodes any byte, so a filename never fails the whole upload.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


__all__ = ["MULTIPART", "URLENCODED", "FormLimits", "parse_form"]
