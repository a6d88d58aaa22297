"""Build the HTML of form controls, escaping every value and attribute.

Everything returned is :class:`markupsafe.Markup`, so Jinja's autoescape leaves
it alone, while any text that came from a user or a model is escaped here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

from satchel.forms.spec import Choice

# HTML void elements used here: no closing tag.
_VOID = frozenset({"input"})
# What may appear in an attribute name without breaking out of the tag.
_ATTR_NAME = re.compile(r"[^\s\"'<>/=`\x00-\x1f\x7f]+")


def attr_name(name: str) -> str:
    """Return an attribute name: ``class_`` -> ``class``, ``data_x`` -> ``data-x``."""
    return name.rstrip("_").replace("_", "-")


def attributes(attrs: Mapping[str, Any]) -> str:
    """Return `` name="value"`` pairs; ``True`` gives a bare attribute, ``False``/``None`` none.

    Values are escaped; names must be plain attribute names.
    """
    parts = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        if not _ATTR_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid HTML attribute name")
        if value is True:
            parts.append(f" {name}")
        else:
            parts.append(f' {name}="{escape(str(value))}"')
    return "".join(parts)


def element(tag: str, attrs: Mapping[str, Any], content: Any = None) -> Markup:
    """Return ``<tag attrs>content</tag>`` with ``content`` escaped (unless it is Markup)."""
    # Plain string building: Markup.format goes through string.Formatter and was
    # ~10x slower for a rendered form. Every value below is escaped explicitly.
    if not tag.isalnum():
        raise ValueError(f"{tag!r} is not an HTML tag name")
    opening = f"<{tag}{attributes(attrs)}>"
    if tag in _VOID:
        return Markup(opening)  # noqa: S704 - built from escaped parts
    inner = escape(content) if content is not None else ""
    return Markup(f"{opening}{inner}</{tag}>")  # noqa: S704 - built from escaped parts


def options(choices: Iterable[Choice], selected: set[str], *, blank: bool) -> Markup:
    """Return the ``<option>`` list of a select, marking the keys in ``selected``."""
    parts = []
    if blank:
        parts.append(element("option", {"value": ""}, "---------"))
    for choice in choices:
        attrs = {"value": choice.key, "selected": choice.key in selected}
        parts.append(element("option", attrs, choice.label))
    return Markup("".join(parts))  # noqa: S704 - each part is escaped markup


def error_list(errors: Iterable[str], element_id: str | None, css: str = "errorlist") -> Markup:
    """Return a ``<ul>`` of error messages (empty markup when there are none)."""
    items = [element("li", {}, message) for message in errors]
    if not items:
        return Markup("")
    return element("ul", {"class": css, "id": element_id}, Markup("").join(items))


__all__ = ["Markup", "attr_name", "attributes", "element", "error_list", "escape", "options"]
