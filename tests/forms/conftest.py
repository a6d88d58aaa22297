"""Helpers for form tests: an HTML parser that gives elements, and a form app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest

from satchel import App, HTMLResponse, Request
from satchel.forms import Form
from satchel.http.datastructures import UploadFile

_VOID = {"input", "br", "hr", "img", "meta", "link"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self.attrs


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if self.stack:
            self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.text += data


@dataclass
class Page:
    elements: list[Element]

    def find_all(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def find(self, tag: str, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag} {attrs}>, found {len(found)}"
        return found[0]

    def control(self, name: str) -> Element:
        found = [e for e in self.elements if e.attrs.get("name") == name]
        assert len(found) == 1, f"expected one control named {name!r}, found {len(found)}"
        return found[0]

    def tags(self) -> set[str]:
        return {e.tag for e in self.elements}


def parse_html(text: str) -> Page:
    parser = _Parser()
    parser.feed(str(text))
    parser.close()
    return Page(parser.elements)


@pytest.fixture
def html() -> Callable[[str], Page]:
    """Parse HTML into a :class:`Page` of elements."""
    return parse_html


def describe(data: Form) -> dict[str, Any]:
    """Turn a validated form into JSON-friendly values (uploads as name/type/size)."""
    out: dict[str, Any] = {}
    for name in type(data).model_fields:
        value = getattr(data, name)
        out[name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, UploadFile):
        return {"filename": value.filename, "type": value.content_type, "size": value.size}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "get_secret_value"):
        return value.get_secret_value()
    if hasattr(value, "value") and not isinstance(value, (str, int)):
        return value.value  # enums
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@pytest.fixture
def form_app() -> Callable[..., App]:
    """Return a factory: an app with ``/form`` binding ``form_class`` (GET shows, POST checks).

    A valid POST answers JSON ``{"ok": true, "data": {...}}``; otherwise the form's
    HTML with status 200 (GET) or 422 (invalid POST), form errors first.
    """

    def make(form_class: type[Form], **bind: Any) -> App:
        app = App(csrf_enabled=False)

        @app.route("/form", methods=["GET", "POST"])
        async def view(request: Request) -> Any:
            form = await form_class.from_request(request, **bind)
            if form.is_valid():
                return {"ok": True, "data": describe(form.data)}
            status = 422 if form.is_bound else 200
            page = f'<form method="post" enctype="{form.enctype}">{form.render()}</form>'
            return HTMLResponse(page, status_code=status)

        return app

    return make
