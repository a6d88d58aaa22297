"""Build the HTML of form controls, escaping every value and attribute.

Everything returned is :class:`markupsafe.Markup`, so Jinja's autoescape leaves
it alone, while any text that came from a user or a model is escaped here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

from satchel.forms.spec import Choice

# HTML void elements used here: no closing tag.
_VOID = frozenset({"input"})


def attr_name(name: str) -> str:
    """Return an attribute name: ``class_`` -> ``class``, ``data_x`` -> ``data-x``."""
    return name.rstrip("_").replace("_", "-")


def attributes(attrs: Mapping[str, Any]) -> Markup:
    """Return `` name="value"`` pairs; ``True`` gives a bare attribute, ``False``/``None`` none."""
    parts = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        if not _safe_name(name):
            raise ValueError(f"{name!r} is not a valid HTML attribute name")
        if value is True:
            parts.append(Markup(" ") + Markup(name))  # noqa: S704 - checked by _safe_name
        else:
            safe = Markup(name)  # noqa: S704 - checked by _safe_name
            parts.append(Markup(' {}="{}"').format(safe, str(value)))
    return Markup("").join(parts)


def _safe_name(name: str) -> bool:
    # Attribute names come from code, but refuse anything that could break out of the tag.
    return bool(name) and not any(c in name for c in " \t\n\f\r\"'<>/=`") and name.isprintable()


def element(tag: str, attrs: Mapping[str, Any], content: Any = None) -> Markup:
    """Return ``<tag attrs>content</tag>`` with ``content`` escaped (unless it is Markup)."""
    if not tag.isalnum():
        raise ValueError(f"{tag!r} is not an HTML tag name")
    name = Markup(tag)  # noqa: S704 - an alphanumeric tag name from our code
    opening = Markup("<{}{}>").format(name, attributes(attrs))
    if tag in _VOID:
        return opening
    inner = escape(content) if content is not None else Markup("")
    return opening + inner + Markup("</{}>").format(name)


def options(choices: Iterable[Choice], selected: set[str], *, blank: bool) -> Markup:
    """Return the ``<option>`` list of a select, marking the keys in ``selected``."""
    parts = []
    if blank:
        parts.append(element("option", {"value": ""}, "---------"))
    for choice in choices:
        attrs = {"value": choice.key, "selected": choice.key in selected}
        parts.append(element("option", attrs, choice.label))
    return Markup("").join(parts)


def error_list(errors: Iterable[str], element_id: str | None, css: str = "errorlist") -> Markup:
    """Return a ``<ul>`` of error messages (empty markup when there are none)."""
    items = [element("li", {}, message) for message in errors]
    if not items:
        return Markup("")
    return element("ul", {"class": css, "id": element_id}, Markup("").join(items))


__all__ = ["Markup", "attr_name", "attributes", "element", "error_list", "escape", "options"]
