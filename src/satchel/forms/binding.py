"""Turn posted form values into input for pydantic, and pydantic's errors into messages.

Browsers send strings (and files) with their own conventions: an unticked
checkbox is absent, an empty text box is ``""``, a multi-select repeats its name.
This module applies those conventions field by field before validation, so the
model sees ``False``, ``None`` and lists, and a posted value outside a select's
options is a field error rather than something pydantic has to reject.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from satchel.forms.spec import Choice, FieldSpec
from satchel.http.datastructures import UploadFile

#: Posted checkbox values that mean "not ticked" (scripted clients send these).
_FALSE_WORDS = frozenset({"", "0", "false", "off", "no"})

REQUIRED = "This field is required."
INVALID_CHOICE = "Select a valid choice."
NOT_TEXT = "Expected text, not a file."
NOT_A_FILE = "Upload a file (the form must be sent as multipart/form-data)."


class Missing:
    """The value of a field that was not posted (pydantic then uses its default)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


class FieldError(Exception):
    """A field's posted value broke a browser-side rule (choice, file limit, text/file)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def get_all(data: Any, name: str) -> list[Any]:
    """Return every value posted under ``name`` in a form, multi-dict or plain mapping."""
    getall = getattr(data, "getall", None)
    if getall is not None:
        return list(getall(name))
    if isinstance(data, Mapping):
        value = data.get(name)
        if value is None:
            return []
        if isinstance(value, (list, tuple)):
            return list(value)
        return [value]
    raise TypeError(f"cannot read form values from {type(data).__name__}; pass a mapping")


def extract(spec: FieldSpec, values: Sequence[Any], choices: tuple[Choice, ...] | None) -> Any:
    """Return the value to validate for ``spec`` from its posted ``values``.

    Returns :data:`MISSING` when pydantic should see the field as absent; raises
    :class:`FieldError` for a value no validator should ever see.
    """
    if spec.kind == "file":
        return _extract_files(spec, values)
    if spec.kind == "checkbox":
        if not values:
            return MISSING if spec.required else False
        first = values[0]
        if isinstance(first, UploadFile):
            raise FieldError(NOT_TEXT)
        # A browser sends a ticked box's value, whatever it is; absent means unticked.
        ticked = first.strip().lower() not in _FALSE_WORDS
        return True if ticked else (MISSING if spec.required else False)
    if any(isinstance(v, UploadFile) for v in values):
        raise FieldError(NOT_TEXT)
    if spec.multiple:
        posted = [v for v in values if v != ""]
        if not posted:
            return MISSING if spec.required else []
        if choices is None:
            return posted
        return [_pick(v, choices) for v in posted]
    # Repeated single-valued fields: the first value wins, as in request.form()[name].
    value = values[0] if values else ""
    if value == "":
        if spec.nullable:
            return None
        return MISSING
    if choices is not None:
        return _pick(value, choices)
    return value


def _pick(key: str, choices: tuple[Choice, ...]) -> Any:
    for choice in choices:
        if choice.key == key:
            return choice.value
    raise FieldError(INVALID_CHOICE)


def _extract_files(spec: FieldSpec, values: Sequence[Any]) -> Any:
    uploads: list[UploadFile] = []
    for value in values:
        if isinstance(value, UploadFile):
            # A file input left empty is posted as a part with no filename and no bytes.
            if value.filename or value.size:
                uploads.append(value)
        elif value != "":
            raise FieldError(NOT_A_FILE)
    limits = spec.file
    for upload in uploads:
        if limits is None:
            break
        if limits.max_size is not None and upload.size > limits.max_size:
            raise FieldError(
                f"The file {upload.filename!r:.80} is larger than {_human_size(limits.max_size)}."
            )
        if not limits.allows(upload.content_type):
            allowed = ", ".join(limits.content_types or ())
            raise FieldError(
                f"Files of type {upload.content_type!r:.80} are not allowed; use {allowed}."
            )
    if not uploads:
        if spec.multiple:
            return MISSING if spec.required else []
        return None if spec.nullable else MISSING
    return uploads if spec.multiple else uploads[0]


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"  # pragma: no cover - the loop always returns


def validate(
    model: type[BaseModel],
    values: dict[str, Any],
    specs: Mapping[str, FieldSpec],
    context: dict[str, Any] | None,
) -> tuple[BaseModel | None, dict[str, list[str]], list[str]]:
    """Validate ``values`` with ``model``; return the instance, field errors and form errors."""
    try:
        return model.model_validate(values, context=context), {}, []
    except ValidationError as exc:
        by_key = {spec.key: spec.name for spec in specs.values()}
        errors: dict[str, list[str]] = {}
        form_errors: list[str] = []
        for error in exc.errors(include_url=False):
            loc = error["loc"]
            message = error_message(error)
            name = by_key.get(str(loc[0])) if loc else None
            if name is None:
                form_errors.append(message)
            else:
                bucket = errors.setdefault(name, [])
                if message not in bucket:
                    bucket.append(message)
        return None, errors, form_errors


def error_message(error: Any) -> str:
    """Return the message a person should read for one pydantic error."""
    kind = error.get("type")
    if kind == "missing":
        return REQUIRED
    if kind in ("value_error", "assertion_error"):
        cause = error.get("ctx", {}).get("error")
        if cause is not None and str(cause):
            return str(cause)
    message = str(error.get("msg") or "Invalid value.")
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


__all__ = [
    "INVALID_CHOICE",
    "MISSING",
    "NOT_A_FILE",
    "NOT_TEXT",
    "REQUIRED",
    "FieldError",
    "extract",
    "get_all",
    "validate",
]
