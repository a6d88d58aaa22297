"""Build forms from SQLAlchemy models: columns become fields, foreign keys selects.

::

    ArticleForm = model_form(Article, exclude=["created_at"])
    form = await ArticleForm.from_request(request, session=session)
    if form.is_valid():
        session.add(form.populate(Article()))

Works with any declarative model (``satchel.db.Model`` or a plain
``DeclarativeBase``). The admin builds its forms with this function.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any, ClassVar, Literal

import sqlalchemy as sa
from pydantic import Field, create_model
from pydantic.fields import FieldInfo
from sqlalchemy.orm import Mapper

from satchel.exceptions import ImproperlyConfigured
from satchel.forms.form import Form
from satchel.forms.widgets import Choices, LongText

# Column Python types a form can show; others (JSON, binary, intervals) need an
# explicit field on a subclass.
_SUPPORTED = (
    str,
    int,
    float,
    decimal.Decimal,
    bool,
    datetime.date,
    datetime.datetime,
    datetime.time,
    uuid.UUID,
)


class ModelChoices(Choices):
    """Options read from a table on every bind: the rows of ``model``.

    ``value`` is the attribute posted (the referenced column), ``label`` a
    callable making the text of a row (default: ``str(row)`` when the model
    defines ``__str__``, else its ``name``/``title``, else ``"Model <value>"``).
    Loading needs a session (sync or async): ``from_request(..., session=...)``.
    """

    __slots__ = ("label", "model", "order_by", "value")
    needs_session: ClassVar[bool] = True

    def __init__(
        self,
        model: type[Any],
        *,
        value: str = "id",
        label: Callable[[Any], str] | None = None,
        order_by: Any = None,
    ) -> None:
        super().__init__(())
        self.model = model
        self.value = value
        self.label = label
        self.order_by = order_by

    async def load(self, session: Any = None) -> list[tuple[Any, str]]:
        """Return ``(value, label)`` for every row of the model."""
        if session is None:
            raise ImproperlyConfigured(
                f"choices from {self.model.__name__} need a database session"
            )
        stmt = sa.select(self.model)
        order = self.order_by if self.order_by is not None else getattr(self.model, self.value)
        stmt = stmt.order_by(order)
        result = session.execute(stmt)
        if hasattr(result, "__await__"):
            result = await result
        rows = result.scalars().all()
        make_label = self.label or _row_label
        return [(getattr(row, self.value), make_label(row)) for row in rows]

    def __repr__(self) -> str:
        return f"ModelChoices({self.model.__name__}, value={self.value!r})"


def _row_label(row: Any) -> str:
    if type(row).__str__ is not object.__str__:  # type: ignore[comparison-overlap]
        return str(row)
    for name in ("name", "title", "username", "email", "label"):
        value = getattr(row, name, None)
        if isinstance(value, str) and value:
            return value
    mapper = sa.inspect(type(row))
    key = ", ".join(str(v) for v in mapper.primary_key_from_instance(row))
    return f"{type(row).__name__} {key}"


def model_form(
    model: type[Any],
    *,
    include: Sequence[str] | None = None,
    exclude: Iterable[str] = (),
    base: type[Form] = Form,
    name: str | None = None,
) -> type[Form]:
    """Return a :class:`Form` subclass with a field per column of ``model``.

    Types, nullability (``None`` allowed, not required), ``String(length)``
    (``max_length``), ``Text`` (a textarea), ``Enum`` (a select) and scalar
    defaults come from the columns; a foreign key becomes a select of the
    referenced rows (:class:`ModelChoices`). Primary keys and columns the
    database fills (server defaults, SQL expression defaults, ``onupdate``,
    computed and identity columns) are left out unless named in ``include``;
    ``exclude`` drops more. ``base`` is the class to extend (its own fields and
    validators are kept).
    """
    mapper: Mapper[Any] = sa.inspect(model)
    columns: dict[str, sa.Column[Any]] = {
        prop.key: prop.columns[0]  # type: ignore[misc]
        for prop in mapper.column_attrs
    }
    excluded = set(exclude)
    unknown = sorted((set(include or ()) | excluded) - set(columns))
    if unknown:
        raise ImproperlyConfigured(
            f"model_form({model.__name__}): no column named {', '.join(unknown)} "
            f"(columns: {', '.join(columns)})"
        )
    if include is not None:
        chosen = [key for key in include if key not in excluded]
    else:
        chosen = [
            key
            for key, column in columns.items()
            if key not in excluded and not _generated(column) and _python_type(column) is not None
        ]
    definitions: dict[str, Any] = {}
    for key in chosen:
        if key not in base.model_fields:  # a field declared on the base form wins
            definitions[key] = _field(model, key, columns[key])
    form_class: type[Form] = create_model(
        name or f"{model.__name__}Form",
        __base__=base,
        __module__=model.__module__,
        **definitions,
    )
    form_class.__model__ = model  # type: ignore[attr-defined]
    return form_class


def _generated(column: sa.Column[Any]) -> bool:
    """Whether the database (not the person filling the form) sets the column."""
    default = column.default
    return bool(
        column.primary_key
        or column.server_default is not None
        or column.server_onupdate is not None
        or column.onupdate is not None
        or column.computed is not None
        or column.identity is not None
        or (default is not None and getattr(default, "is_clause_element", False))
        or (default is not None and getattr(default, "is_sequence", False))
    )


def _python_type(column: sa.Column[Any]) -> Any:
    col_type = column.type
    if isinstance(col_type, sa.Enum):
        if col_type.enum_class is not None:
            return col_type.enum_class
        return Literal[tuple(col_type.enums)] if col_type.enums else None
    try:
        python_type = col_type.python_type
    except NotImplementedError:
        return None
    if isinstance(python_type, type) and issubclass(python_type, enum.Enum):
        return python_type
    return python_type if python_type in _SUPPORTED else None


def _field(model: type[Any], key: str, column: sa.Column[Any]) -> tuple[Any, FieldInfo]:
    python_type = _python_type(column)
    if python_type is None:
        raise ImproperlyConfigured(
            f"model_form({model.__name__}): column {key!r} has type {column.type!r}, which "
            "a form cannot edit; exclude it or declare the field on a base form"
        )
    metadata: list[Any] = []
    constraints: dict[str, Any] = {}
    length = getattr(column.type, "length", None)
    if python_type is str and isinstance(length, int):
        constraints["max_length"] = length
    if isinstance(column.type, sa.Text):
        metadata.append(LongText)
    if column.foreign_keys:
        target = _foreign_target(sa.inspect(model), column)
        if target is None:
            raise ImproperlyConfigured(
                f"model_form({model.__name__}): column {key!r} references a table no "
                "model of the same registry maps; exclude it or declare the field "
                "with Choices(...) on a base form"
            )
        metadata.append(ModelChoices(target[0], value=target[1]))
    annotation: Any = Annotated[(python_type, *metadata)] if metadata else python_type
    default = _default(column)
    if column.nullable:
        annotation = annotation | None
        if default is ...:
            default = None
    elif python_type is bool and default is ...:
        default = False  # an unticked box is a value, not a missing one
    info: dict[str, Any] = {}
    label = column.info.get("label") if column.info else None
    if isinstance(label, str):
        info["title"] = label
    elif column.foreign_keys and key.endswith("_id"):
        info["title"] = key[:-3].replace("_", " ").capitalize()
    description = column.doc or column.comment
    if description:
        info["description"] = description
    return annotation, Field(default, **constraints, **info)


def _default(column: sa.Column[Any]) -> Any:
    default = column.default
    if default is None:
        return ...
    if getattr(default, "is_scalar", False):
        return default.arg  # type: ignore[attr-defined]
    # A Python callable default: leave the field optional; None means "let the model decide".
    return None


def _foreign_target(mapper: Mapper[Any], column: sa.Column[Any]) -> tuple[type[Any], str] | None:
    """Return the mapped class and attribute a foreign key points at, if mapped."""
    for fk in column.foreign_keys:
        target = fk.column
        for other in mapper.registry.mappers:
            if target.table in other.tables:
                return other.class_, other.get_property_by_column(target).key
    return None


__all__ = ["ModelChoices", "model_form"]
