"""One field of a bound form: its value, errors and HTML.

``{{ form.email }}`` renders the whole row (label, control, help, errors); a
template that lays the form out by hand uses the parts: ``field.label_tag()``,
``field.widget()``, ``field.errors``, ``field.value``, ``field.id``, ``field.name``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from satchel.forms.render import attr_name, element, error_list, options
from satchel.forms.spec import TEXT_KINDS, Choice, FieldSpec, display_value

if TYPE_CHECKING:
    from satchel.forms.form import BoundForm


class BoundField:
    """A form field together with what was posted or given as its initial value."""

    __slots__ = ("_form", "spec")

    def __init__(self, form: BoundForm[Any], spec: FieldSpec) -> None:
        self._form = form
        self.spec = spec

    # -- identity --------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The control's ``name`` (the field name, after the form's prefix)."""
        return self._form.html_name(self.spec.name)

    @property
    def id(self) -> str:
        """The control's ``id`` (``id_<name>``)."""
        return f"id_{self.name}"

    @property
    def error_id(self) -> str:
        """The ``id`` of the element that lists this field's errors."""
        return f"{self.id}_error"

    @property
    def help_id(self) -> str:
        """The ``id`` of the element holding the help text."""
        return f"{self.id}_help"

    @property
    def label(self) -> str:
        """The human label (``Field(title=...)``, a ``Widget(label=...)`` or the name)."""
        return self.spec.label

    @property
    def help_text(self) -> str | None:
        """The help text (``Field(description=...)`` or ``Widget(help_text=...)``)."""
        return self.spec.help_text

    @property
    def input_type(self) -> str:
        """The control kind: an ``<input type>``, ``"select"`` or ``"textarea"``.

        A field given options with ``choices=`` when binding renders as a select.
        """
        kind = self.spec.kind
        overridden = self._form.choices_for(self.spec.name) is not None
        if overridden and (kind in TEXT_KINDS or kind == "number"):
            return "select"
        return kind

    @property
    def required(self) -> bool:
        """Whether the field must be filled in."""
        return self.spec.required

    @property
    def is_hidden(self) -> bool:
        """Whether the field renders as a hidden input."""
        return self.spec.kind == "hidden"

    # -- state -----------------------------------------------------------------------

    @property
    def errors(self) -> list[str]:
        """This field's error messages (empty when valid or unbound)."""
        return self._form.errors.get(self.spec.name, [])

    @property
    def value(self) -> Any:
        """What the control shows: the text the user posted, or the initial value.

        A string for single fields, a list of strings for multi-selects, ``""`` for
        secrets and files (never sent back), ``True``/``False`` for checkboxes.
        """
        spec = self.spec
        if spec.kind == "checkbox":
            return self.checked
        if spec.secret or spec.kind == "file":
            return [] if spec.multiple else ""
        if self._form.is_bound:
            posted = [v for v in self._form.raw_values(spec.name) if isinstance(v, str)]
            if spec.multiple:
                return posted
            return posted[0] if posted else ""
        initial = self._form.initial_value(spec.name)
        if spec.multiple:
            return [display_value(v) for v in (initial or ())]
        return display_value(initial)

    @property
    def checked(self) -> bool:
        """Whether a checkbox is ticked (posted, or true initially)."""
        if self._form.is_bound:
            posted = self._form.raw_values(self.spec.name)
            if not posted or not isinstance(posted[0], str):
                return False
            return posted[0].strip().lower() not in ("", "0", "false", "off", "no")
        return bool(self._form.initial_value(self.spec.name))

    @property
    def data(self) -> Any:
        """The validated value (``None`` until the form is valid)."""
        return self._form.cleaned_field(self.spec.name)

    @property
    def choices(self) -> tuple[Choice, ...]:
        """A select's options (``Choice(key, value, label)``); empty for other fields."""
        return self._form.choices_for(self.spec.name) or ()

    # -- HTML ------------------------------------------------------------------------

    def label_tag(self, **attrs: Any) -> Markup:
        """Return ``<label for=...>``; hidden fields have none."""
        if self.is_hidden:
            return Markup("")
        merged = {"for": self.id, **{attr_name(k): v for k, v in attrs.items()}}
        return element("label", merged, self.label)

    def widget(self, **attrs: Any) -> Markup:
        """Return the control alone; keyword arguments become attributes (``class_="x"``)."""
        spec = self.spec
        kind = self.input_type
        merged: dict[str, Any] = {}
        if kind not in ("select", "textarea"):
            merged["type"] = kind
        merged.update(name=self.name, id=self.id)
        if spec.required and kind != "hidden":
            merged["required"] = True
        merged.update(spec.attrs)
        merged.update(self._aria())
        merged.update({attr_name(k): v for k, v in attrs.items()})
        if kind == "select":
            selected = set(self.value) if spec.multiple else {self.value}
            merged["multiple"] = spec.multiple
            return element(
                "select", merged, options(self.choices, selected, blank=not spec.multiple)
            )
        if kind == "textarea":
            # A newline right after <textarea> is dropped by parsers; keep the value's own.
            return element("textarea", merged, Markup("\n") + Markup.escape(self.value))
        if kind == "checkbox":
            merged["checked"] = self.checked
        elif kind == "file":
            merged["multiple"] = spec.multiple
        elif not spec.secret:
            merged["value"] = self.value or None
        return element("input", merged)

    def _aria(self) -> dict[str, Any]:
        described = []
        if self.help_text:
            described.append(self.help_id)
        if self.errors:
            described.append(self.error_id)
        return {
            "aria-invalid": "true" if self.errors else None,
            "aria-describedby": " ".join(described) or None,
        }

    def errors_tag(self) -> Markup:
        """Return the ``<ul id=...>`` of this field's errors (empty when none)."""
        return error_list(self.errors, self.error_id)

    def help_tag(self) -> Markup:
        """Return the help text element (empty when there is none)."""
        if not self.help_text:
            return Markup("")
        return element("small", {"class": "helptext", "id": self.help_id}, self.help_text)

    def render(self) -> Markup:
        """Return the whole row: label, control, help text and errors."""
        if self.is_hidden:
            return self.widget() + self.errors_tag()
        if self.spec.kind == "checkbox":
            inner = self.widget() + Markup(" ") + self.label_tag()
        else:
            inner = self.label_tag() + self.widget()
        inner += self.help_tag() + self.errors_tag()
        css = "field field-error" if self.errors else "field"
        return element("div", {"class": css}, inner)

    def __html__(self) -> str:
        return str(self.render())

    def __str__(self) -> str:
        return str(self.render())

    def __repr__(self) -> str:
        return f"<BoundField {self.spec.name!r} kind={self.spec.kind!r} errors={len(self.errors)}>"


__all__ = ["BoundField"]
