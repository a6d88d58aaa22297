"""Markers that tell a form how to show and check a field.

They go in ``Annotated[...]`` next to the type; pydantic keeps them as field
metadata and ignores them, the form reads them once when the form class is first
used::

    class Profile(Form):
        bio: Annotated[str, LongText] = ""
        avatar: Annotated[UploadFile, FileField(max_size=2_000_000, content_types=["image/png"])]
        colour: Annotated[str, Choices(["red", "green"])]
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

#: What a choice source may give: values, or ``(value, label)`` pairs.
ChoiceItems = Iterable[Any]
#: A choice source: the items themselves, or a callable (sync or async) returning them.
ChoiceSource = ChoiceItems | Callable[[], ChoiceItems | Awaitable[ChoiceItems]]


@dataclass(frozen=True)
class Widget:
    """Choose how a field renders: its control, label, help text and extra attributes.

    ``kind`` is an ``<input type>`` (``"text"``, ``"email"``, ``"password"``,
    ``"hidden"``, ``"tel"``, ``"color"``...) or ``"textarea"`` / ``"select"``;
    ``None`` keeps the kind the annotation implies. ``attrs`` are added to the
    control (``{"rows": "8", "placeholder": "..."}``).
    """

    kind: str | None = None
    label: str | None = None
    help_text: str | None = None
    attrs: Mapping[str, str] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.kind, self.label, self.help_text, tuple(sorted(self.attrs.items()))))


#: A multi-line text field (``<textarea>``).
LongText = Widget("textarea")
#: A password field: ``type="password"``, and its value is never sent back to the browser.
Password = Widget("password")
#: A hidden field: no label, no wrapper.
Hidden = Widget("hidden")


@dataclass(frozen=True)
class FileField:
    """Limit an upload field: ``max_size`` in bytes and allowed ``content_types``.

    Content types are the type the client declared (nothing is sniffed);
    ``"image/*"`` allows every image type. Limits failing are errors on the field,
    not 413s: the request-wide limits (``max_file_size``) still apply first.
    """

    max_size: int | None = None
    content_types: tuple[str, ...] | None = None

    def __init__(
        self, *, max_size: int | None = None, content_types: Iterable[str] | None = None
    ) -> None:
        if max_size is not None and max_size < 0:
            raise ValueError(f"FileField max_size must be >= 0, got {max_size!r}")
        types = None if content_types is None else tuple(t.strip().lower() for t in content_types)
        object.__setattr__(self, "max_size", max_size)
        object.__setattr__(self, "content_types", types)

    def allows(self, content_type: str) -> bool:
        """Return whether the declared ``content_type`` is one of the allowed ones."""
        if self.content_types is None:
            return True
        media = content_type.split(";", 1)[0].strip().lower()
        for allowed in self.content_types:
            if allowed == media:
                return True
            if allowed.endswith("/*") and media.startswith(allowed[:-1]):
                return True
        return False


class Choices:
    """Offer a field's value from a list: a ``<select>`` whose posted value must be one of them.

    ``source`` is an iterable of values or ``(value, label)`` pairs, or a callable
    (sync or async) returning one; a callable runs on every bind, so choices read
    from a database stay fresh. A value outside the list is a field error.
    """

    __slots__ = ("source",)

    #: Whether :meth:`load` needs a database session (see ``satchel.forms.ModelChoices``).
    needs_session: ClassVar[bool] = False

    def __init__(self, source: ChoiceSource) -> None:
        self.source = source

    @property
    def is_dynamic(self) -> bool:
        """Whether the options are loaded on every bind rather than fixed at startup."""
        return self.needs_session or callable(self.source)

    async def load(self, session: Any = None) -> ChoiceItems:
        """Return the current options (``session`` is for subclasses that query a database)."""
        return await resolve_items(self.source)

    def __repr__(self) -> str:
        return f"Choices({self.source!r})"


async def resolve_items(source: ChoiceSource) -> ChoiceItems:
    """Return the items of a choice source, calling (and awaiting) it when needed."""
    if not callable(source):
        return source
    result = source()
    if inspect.isawaitable(result):
        return await result
    return result


__all__ = [
    "ChoiceItems",
    "ChoiceSource",
    "Choices",
    "FileField",
    "Hidden",
    "LongText",
    "Password",
    "Widget",
    "resolve_items",
]
