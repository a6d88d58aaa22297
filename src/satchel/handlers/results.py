"""Turn whatever a handler returned into a :class:`Response`.

``str`` is HTML, ``dict``/``list``/models/dataclasses are JSON, ``bytes`` is
``application/octet-stream``, ``None`` is ``204 No Content``, and tuples add a
status and headers: ``(body, status)`` or ``(body, status, headers)``.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any, get_type_hints

from satchel.handlers.coerce import sequence_item
from satchel.http.response import (
    HTMLResponse,
    JSONResponse,
    Response,
    dump_json,
    is_dataclass_instance,
)

_HTML = "text/html; charset=utf-8"
_JSON = "application/json"


def _fast(body: bytes, status: int, content_type: str) -> Response:
    # Skip Response.__init__'s generic checks: the content type is known and safe.
    response = Response.__new__(Response)
    response.status_code = status
    response.body = body
    response._headers = [("content-type", content_type)]
    response._cookies = None
    return response


def to_response(value: Any, status_code: int | None = None, where: str = "handler") -> Response:
    """Return the response for a handler's return value (``status_code`` when it didn't set one)."""
    kind = type(value)
    if kind is str:
        return _fast(value.encode(), status_code or 200, _HTML)
    if kind is dict or kind is list:
        return _fast(dump_json(value), status_code or 200, _JSON)
    if isinstance(value, Response):
        return value
    if value is None:
        response = _fast(b"", 204 if status_code in (None, 200) else status_code, _HTML)
        response._headers = []  # no body, so no Content-Type
        return response
    if kind is tuple:
        return _from_tuple(value, status_code, where)
    if isinstance(value, str):
        return HTMLResponse(value, status_code or 200)
    if isinstance(value, bytes | bytearray | memoryview):
        return Response(bytes(value), status_code or 200, media_type="application/octet-stream")
    if (
        isinstance(value, dict | list)
        or is_dataclass_instance(value)
        or hasattr(value, "model_dump")
    ):
        return JSONResponse(value, status_code or 200)
    raise TypeError(
        f"{where} returned {kind.__name__}; return str (HTML), dict/list/pydantic model/"
        "dataclass (JSON), bytes, None (204), a Response, or a (body, status[, headers]) tuple"
    )


def _from_tuple(value: tuple[Any, ...], status_code: int | None, where: str) -> Response:
    if len(value) == 2:
        body, status = value
        headers: Mapping[str, str] | None = None
    elif len(value) == 3:
        body, status, headers = value
    else:
        raise TypeError(f"{where} returned a tuple of {len(value)}; use (body, status[, headers])")
    if not isinstance(status, int):
        raise TypeError(f"{where} returned a tuple whose second item is not an int status")
    response = to_response(body, status, where)
    response.status_code = status
    if headers:
        response.headers.update(headers)
    return response


# -- response models -----------------------------------------------------------------


class ResponseValidationError(Exception):
    """A handler returned a value that does not fit its response model (a server bug: 500).

    ``errors`` lists each mismatch as ``{"loc": [...], "msg": ..., "type": ...}``.
    """

    def __init__(self, where: str, model: Any, errors: list[dict[str, Any]]) -> None:
        self.where = where
        self.errors = errors
        name = model.__qualname__ if isinstance(model, type) else repr(model)
        lines = [f"{where} returned a value that does not match its response model {name}:"]
        for err in errors[:20]:
            loc = ".".join(str(p) for p in err["loc"]) or "(the value itself)"
            lines.append(f"  {loc}: {err['msg']} [{err['type']}]")
        if len(errors) > 20:
            lines.append(f"  ... and {len(errors) - 20} more")
        super().__init__("\n".join(lines))


def _is_model_type(annotation: Any) -> bool:
    if not isinstance(annotation, type):
        return False
    return dataclasses.is_dataclass(annotation) or hasattr(annotation, "__pydantic_validator__")


def _default_model(annotation: Any) -> bool:
    """Return whether a return annotation is a model, a dataclass or a list of either."""
    if _is_model_type(annotation):
        return True
    item = sequence_item(annotation)
    return item is not None and _is_model_type(item)


def declared_response_model(func: Callable[..., Any], options: Mapping[str, Any]) -> Any:
    """Return the route's response model: ``response_model=`` or a model return annotation.

    ``response_model=None`` turns it off; a return annotation counts when it is a
    pydantic model, a dataclass, or a list of them.
    """
    if "response_model" in options:
        return options["response_model"]
    try:
        localns = dict(inspect.getclosurevars(func).nonlocals)
    except (TypeError, ValueError):
        localns = {}
    try:
        annotation = get_type_hints(func, localns=localns).get("return")
    except Exception:
        return None  # the call plan already reported unreadable annotations
    return annotation if _default_model(annotation) else None


class ResponseModel:
    """A declared response type, with its pydantic validator and serialiser built once.

    The return value is validated (``from_attributes``, so ORM objects and
    dataclasses work) and serialised by the model, so fields the model does not
    declare never reach the client.
    """

    def __init__(self, model: Any, where: str) -> None:
        # Imported here: only routes that declare a response model need pydantic.
        from pydantic import TypeAdapter
        from pydantic import ValidationError as PydanticError

        self.model = model
        self.where = where
        adapter: Any = TypeAdapter(model)
        self._validate = adapter.validator.validate_python
        self._to_json = adapter.serializer.to_json
        self._error = PydanticError
        # An instance of exactly the model class was validated when it was built.
        self._exact = model if isinstance(model, type) and hasattr(model, "model_fields") else None
        #: ``to_response(value, status_code=None, where="")``: the response for a
        #: handler's return value, shaped by the model. Responses pass through
        #: untouched, and so do tuple bodies with a non-2xx status.

        self.to_response = self._converter()

    def render(self, value: Any) -> bytes:
        """Return ``value`` as JSON bytes shaped by the model; a mismatch raises."""
        if type(value) is not self._exact:
            try:
                value = self._validate(value, from_attributes=True)
            except self._error as exc:
                raise self._mismatch(exc) from None
        body: bytes = self._to_json(value, by_alias=True)
        return body

    def _mismatch(self, exc: Any) -> ResponseValidationError:
        errors = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        return ResponseValidationError(self.where, self.model, errors)

    def _converter(self) -> Callable[..., Response]:
        # A closure over locals: this runs on every request of the route.
        exact, validate, to_json, error = self._exact, self._validate, self._to_json, self._error
        slow, render = self._to_response, self.render

        def convert(value: Any, status_code: int | None = None, where: str = "") -> Response:
            kind = type(value)
            if kind is exact:
                body = to_json(value, by_alias=True)
            elif kind is tuple or status_code == 204 or isinstance(value, Response):
                return slow(value, status_code, where)
            elif kind is dict or kind is list:
                # Plain data first (from_attributes costs ~20% more); ORM objects
                # nested in it take the second try.
                try:
                    body = to_json(validate(value), by_alias=True)
                except error:
                    body = render(value)
            else:
                body = render(value)
            return _fast(body, status_code or 200, _JSON)

        return convert

    def _to_response(self, value: Any, status_code: int | None, where: str) -> Response:
        """Return the response for a Response, a tuple, or a 204 (see :meth:`to_response`)."""
        kind = type(value)
        if isinstance(value, Response):
            return value
        if kind is tuple and len(value) in (2, 3) and isinstance(value[1], int):
            status = value[1]
            if 200 <= status < 300 and status != 204:
                response = _fast(self.render(value[0]), status, _JSON)
                if len(value) == 3 and value[2]:
                    response.headers.update(value[2])
                return response
        return to_response(value, status_code, where or self.where)


__all__ = [
    "ResponseModel",
    "ResponseValidationError",
    "declared_response_model",
    "to_response",
]
