"""Turn request text (path, query, header, cookie values) into typed values.

Common types get a hand-written converter, built once per parameter: they are on
the hot path and a pydantic round trip costs several microseconds. Anything else
(constrained values, unions, nested types) goes through a pydantic
``TypeAdapter``, also built once.
"""

from __future__ import annotations

import decimal
import enum
import types
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from typing import Annotated, Any, Literal, Union, get_args, get_origin

Coercer = Callable[[str], Any]

_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "f", "n", ""})

#: Longest decimal text turned into an int (bounded work; ints past this are a 422).
MAX_INT_DIGITS = 100


class CoercionError(ValueError):
    """A value didn't fit its type; ``kind`` is a stable error code such as ``int_parsing``."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def _to_int(value: str) -> int:
    text = value.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isdigit() or not digits.isascii() or len(digits) > MAX_INT_DIGITS:
        raise CoercionError("Input should be a valid integer", "int_parsing")
    return int(text)


def _to_float(value: str) -> float:
    try:
        if len(value) > 100:
            raise ValueError
        result = float(value)
    except ValueError:
        raise CoercionError("Input should be a valid number", "float_parsing") from None
    if result != result or result in (float("inf"), float("-inf")):
        raise CoercionError("Input should be a finite number", "finite_number")
    return result


def _to_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CoercionError("Input should be a valid boolean", "bool_parsing")


def _to_uuid(value: str) -> uuid.UUID:
    try:
        if len(value) > 45:
            raise ValueError
        return uuid.UUID(value)
    except ValueError:
        raise CoercionError("Input should be a valid UUID", "uuid_parsing") from None


def _to_decimal(value: str) -> decimal.Decimal:
    try:
        if len(value) > 100:
            raise decimal.InvalidOperation
        result = decimal.Decimal(value)
    except decimal.InvalidOperation:
        raise CoercionError("Input should be a valid decimal", "decimal_parsing") from None
    if not result.is_finite():
        raise CoercionError("Input should be a finite number", "finite_number")
    return result


def _iso(kind: type[date] | type[datetime] | type[time], code: str) -> Coercer:
    def convert(value: str) -> Any:
        try:
            if len(value) > 64:
                raise ValueError
            return kind.fromisoformat(value)
        except ValueError:
            raise CoercionError(f"Input should be a valid {kind.__name__}", code) from None

    return convert


def _identity(value: str) -> str:
    return value


_SIMPLE: dict[Any, Coercer] = {
    str: _identity,
    int: _to_int,
    float: _to_float,
    bool: _to_bool,
    uuid.UUID: _to_uuid,
    decimal.Decimal: _to_decimal,
    datetime: _iso(datetime, "datetime_parsing"),
    date: _iso(date, "date_parsing"),
    time: _iso(time, "time_parsing"),
    Any: _identity,
}


def _enum_coercer(kind: type[enum.Enum]) -> Coercer:
    by_value = {str(member.value): member for member in kind}

    def convert(value: str) -> Any:
        try:
            return by_value[value]
        except KeyError:
            allowed = ", ".join(repr(v) for v in by_value)
            raise CoercionError(f"Input should be one of {allowed}", "enum") from None

    return convert


def _literal_coercer(options: tuple[Any, ...]) -> Coercer | None:
    if not all(isinstance(o, str | int) and not isinstance(o, bool) for o in options):
        return None
    by_text = {str(o): o for o in options}

    def convert(value: str) -> Any:
        try:
            return by_text[value]
        except KeyError:
            allowed = ", ".join(repr(o) for o in options)
            raise CoercionError(f"Input should be {allowed}", "literal_error") from None

    return convert


def unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """Return ``(inner, True)`` for ``X | None`` / ``Optional[X]``, else ``(annotation, False)``."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def simple_coercer(annotation: Any) -> Coercer | None:
    """Return a fast converter for ``annotation``, or ``None`` when pydantic must handle it."""
    if get_origin(annotation) is Annotated:
        return None
    found = _SIMPLE.get(annotation)
    if found is not None:
        return found
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum_coercer(annotation)
    if get_origin(annotation) is Literal:
        return _literal_coercer(get_args(annotation))
    return None


def sequence_item(annotation: Any) -> Any | None:
    """Return ``X`` for ``list[X]``, ``set[X]``, ``tuple[X, ...]``, ``Sequence[X]``; else None."""
    origin = get_origin(annotation)
    if origin in (list, set, frozenset):
        args = get_args(annotation)
        return args[0] if args else Any
    if origin is tuple:
        args = get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
    if origin is Sequence:
        args = get_args(annotation)
        return args[0] if args else Any
    return None


__all__ = [
    "MAX_INT_DIGITS",
    "Coercer",
    "CoercionError",
    "sequence_item",
    "simple_coercer",
    "unwrap_optional",
]
