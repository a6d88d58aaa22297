"""Read a form class once into field specs: control kind, constraints, choices, limits.

This is the startup work of a form: everything a bind or a render needs to know
about a field is decided here from its annotation and metadata, and kept on the
class, so a request only looks values up.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AnyUrl, EmailStr, NameEmail, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from satchel.forms.widgets import Choices, FileField, Widget
from satchel.http.datastructures import UploadFile

#: Kinds of control that take one line of text and accept ``pattern``/``minlength``.
TEXT_KINDS = frozenset({"text", "email", "url", "password", "search", "tel"})
_SEQUENCES = (list, set, frozenset, tuple, typing.Sequence)


@dataclass(frozen=True)
class Choice:
    """One option of a select: the posted ``key``, the typed ``value`` and its ``label``."""

    key: str
    value: Any
    label: str


@dataclass
class FieldSpec:
    """Everything a form knows about one field, decided when the class is first used."""

    name: str
    #: The key the value is validated under (the field's alias, if it has one).
    key: str
    info: FieldInfo
    kind: str
    label: str
    help_text: str | None = None
    required: bool = False
    nullable: bool = False
    multiple: bool = False
    #: Never send the value back to the browser (passwords, secrets).
    secret: bool = False
    attrs: dict[str, str] = field(default_factory=dict)
    #: Options fixed by the type (Literal, Enum) or by a static ``Choices``.
    static_choices: tuple[Choice, ...] | None = None
    #: A ``Choices`` whose options are loaded on every bind (callable or database).
    dynamic_choices: Choices | None = None
    file: FileField | None = None

    @property
    def has_choices(self) -> bool:
        """Whether the field is a select (its value must be one of a list)."""
        return self.static_choices is not None or self.dynamic_choices is not None

    def default(self) -> Any:
        """Return the field's default value, or ``None`` when it has none."""
        value = self.info.get_default(call_default_factory=True)
        return None if value is PydanticUndefined else value


def build_specs(fields: Mapping[str, FieldInfo]) -> dict[str, FieldSpec]:
    """Return a spec per field, in declaration order."""
    return {name: _build(name, info) for name, info in fields.items()}


def _build(name: str, info: FieldInfo) -> FieldSpec:
    base, nullable, multiple, meta = _unwrap(info.annotation, list(info.metadata))
    widget = _merge_widgets(m for m in meta if isinstance(m, Widget))
    file = next((m for m in reversed(meta) if isinstance(m, FileField)), None)
    choices = next((m for m in reversed(meta) if isinstance(m, Choices)), None)
    kind, secret = _kind(base, file is not None, choices is not None)
    extra = info.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("widget"), str):
        kind = str(extra["widget"])
    if widget.kind is not None:
        kind = widget.kind
    secret = secret or kind == "password"
    spec = FieldSpec(
        name=name,
        key=info.validation_alias
        if isinstance(info.validation_alias, str)
        else (info.alias or name),
        info=info,
        kind=kind,
        label=widget.label or info.title or name.replace("_", " ").capitalize(),
        help_text=widget.help_text or info.description,
        required=info.is_required(),
        nullable=nullable,
        multiple=multiple,
        secret=secret,
        file=file if file is not None else (FileField() if kind == "file" else None),
    )
    if choices is not None:
        if choices.is_dynamic:
            spec.dynamic_choices = choices
        else:
            spec.static_choices = normalize_choices(choices.source)  # type: ignore[arg-type]
    elif isinstance(base, type) and issubclass(base, enum.Enum):
        spec.static_choices = normalize_choices(list(base))
    elif get_origin(base) is Literal and kind != "checkbox":
        spec.static_choices = normalize_choices(get_args(base))
    if kind == "file" and file is not None and file.content_types:
        spec.attrs["accept"] = ",".join(file.content_types)
    if not multiple:
        spec.attrs.update(_constraint_attrs(kind, base, meta))
    spec.attrs.update(widget.attrs)
    return spec


def _unwrap(tp: Any, meta: list[Any]) -> tuple[Any, bool, bool, list[Any]]:
    """Peel ``Annotated``, ``Optional`` and one sequence level off an annotation."""
    nullable = False
    multiple = False
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            args = get_args(tp)
            meta.extend(args[1:])
            tp = args[0]
        elif origin is Union or origin is types.UnionType:
            args = get_args(tp)
            rest = [a for a in args if a is not type(None)]
            nullable = nullable or len(rest) < len(args)
            if len(rest) != 1:
                # A union of several types has no one control; show it as text.
                return str, nullable, multiple, meta
            tp = rest[0]
        elif origin in _SEQUENCES and not multiple:
            multiple = True
            inner = [a for a in get_args(tp) if a is not Ellipsis]
            tp = inner[0] if inner else str
        else:
            return tp, nullable, multiple, meta


def _merge_widgets(widgets: Iterable[Widget]) -> Widget:
    kind = label = help_text = None
    attrs: dict[str, str] = {}
    for w in widgets:
        kind = w.kind or kind
        label = w.label or label
        help_text = w.help_text or help_text
        attrs.update(w.attrs)
    return Widget(kind, label, help_text, attrs)


def _kind(base: Any, is_file: bool, has_choices: bool) -> tuple[str, bool]:
    """Return the control kind implied by a type, and whether its value is secret."""
    if is_file or base is UploadFile:
        return "file", False
    if has_choices or get_origin(base) is Literal:
        if get_args(base) == (True,):
            return "checkbox", False  # Literal[True]: a box that must be ticked
        return "select", False
    if not isinstance(base, type):
        return "text", False
    checks: list[tuple[type | tuple[type, ...], str]] = [
        (enum.Enum, "select"),
        (bool, "checkbox"),
        ((EmailStr, NameEmail), "email"),
        (AnyUrl, "url"),
        (datetime.datetime, "datetime-local"),
        (datetime.date, "date"),
        (datetime.time, "time"),
        (int, "number"),
        ((float, decimal.Decimal), "number"),
    ]
    if issubclass(base, SecretStr):
        return "password", True
    for types_, kind in checks:
        if issubclass(base, types_):
            return kind, False
    return "text", False


def _constraint_attrs(kind: str, base: Any, meta: list[Any]) -> dict[str, str]:
    """Turn pydantic/annotated-types constraints into HTML validation attributes.

    Attributes are hints for the browser and must never refuse a value the server
    accepts; where HTML cannot say exactly what the constraint says, the looser
    form is used (the server check is the real one).
    """
    found: dict[str, Any] = {}
    for item in meta:
        for name in ("min_length", "max_length", "pattern", "ge", "gt", "le", "lt", "multiple_of"):
            value = getattr(item, name, None)
            if value is not None:
                found[name] = value
    attrs: dict[str, str] = {}
    if kind in TEXT_KINDS or kind == "textarea":
        if "min_length" in found:
            attrs["minlength"] = str(found["min_length"])
        if "max_length" in found:
            attrs["maxlength"] = str(found["max_length"])
        pattern = found.get("pattern")
        if kind in TEXT_KINDS and isinstance(pattern, str):
            attrs["pattern"] = _html_pattern(pattern)
    elif kind in ("number", "date", "datetime-local", "time"):
        integral = isinstance(base, type) and issubclass(base, int)
        low = found.get("ge", found.get("gt"))
        high = found.get("le", found.get("lt"))
        if integral and "ge" not in found and "gt" in found:
            low = found["gt"] + 1
        if integral and "le" not in found and "lt" in found:
            high = found["lt"] - 1
        if low is not None:
            attrs["min"] = _attr_value(low)
        if high is not None:
            attrs["max"] = _attr_value(high)
        if "multiple_of" in found:
            attrs["step"] = _attr_value(found["multiple_of"])
        elif kind == "number" and not integral:
            attrs["step"] = "any"  # without it browsers refuse decimals
    return attrs


def _html_pattern(pattern: str) -> str:
    # pydantic searches for the pattern; HTML requires it to match the whole value.
    if pattern.startswith("^") and pattern.endswith("$"):
        return pattern
    return f".*(?:{pattern}).*"


def _attr_value(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def normalize_choices(items: Iterable[Any]) -> tuple[Choice, ...]:
    """Return choices as :class:`Choice` from values or ``(value, label)`` pairs."""
    result = []
    for item in items:
        if isinstance(item, Choice):
            result.append(item)
            continue
        if isinstance(item, tuple) and len(item) == 2:
            value, label = item
            label = str(label)
        else:
            value, label = item, choice_label(item)
        result.append(Choice(choice_key(value), value, label))
    return tuple(result)


def choice_key(value: Any) -> str:
    """Return the string a browser posts for ``value``."""
    if isinstance(value, enum.Enum):
        value = value.value
    return display_value(value)


def choice_label(value: Any) -> str:
    """Return a readable label for a bare choice value."""
    if isinstance(value, enum.Enum):
        label = getattr(value, "label", None)
        return str(label) if label is not None else value.name.replace("_", " ").capitalize()
    return str(value)


def display_value(value: Any) -> str:
    """Return the text a control shows for a Python value (``""`` for ``None``)."""
    if value is None or isinstance(value, (SecretStr, UploadFile)):
        return ""
    if isinstance(value, enum.Enum):
        return display_value(value.value)
    if isinstance(value, datetime.datetime):
        fmt = "%Y-%m-%dT%H:%M:%S" if value.second or value.microsecond else "%Y-%m-%dT%H:%M"
        return value.strftime(fmt)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


__all__ = [
    "TEXT_KINDS",
    "Choice",
    "FieldSpec",
    "build_specs",
    "choice_key",
    "choice_label",
    "display_value",
    "normalize_choices",
]
