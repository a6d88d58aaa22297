"""Route templates and the routes built from them.

A template such as ``/users/{id:int}/files/{rest:path}`` is parsed once into
segments; each segment is static text, one parameter, or a mix of both (compiled
to a regular expression).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from satchel.exceptions import ImproperlyConfigured
from satchel.routing.converters import Converter

_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z_][a-zA-Z0-9_]*))?}")


@dataclass(frozen=True, slots=True)
class Segment:
    """One ``/``-separated piece of a template.

    ``kind`` is ``"static"`` (``text``), ``"param"`` (one ``{name:conv}``), ``"mixed"``
    (text and parameters in one segment, matched by ``pattern``) or ``"path"`` (a
    ``path`` parameter that takes the rest of the URL).
    """

    kind: str
    text: str
    params: tuple[tuple[str, Converter], ...] = ()
    pattern: re.Pattern[str] | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        """Identify what this segment matches, ignoring parameter names."""
        if self.kind == "static":
            return ("static", self.text)
        if self.kind == "mixed":
            shape = _PARAM.sub(lambda _m: "\0", self.text)
            return ("mixed", shape, tuple(conv.key for _, conv in self.params))
        return (self.kind, self.params[0][1].key)


def parse_template(template: str, converters: Mapping[str, Converter]) -> tuple[Segment, ...]:
    """Split ``template`` into segments; unknown converters and bad syntax raise at startup."""
    if not template.startswith("/"):
        raise ImproperlyConfigured(f"route path {template!r} must start with '/'")
    pieces = template[1:].split("/")
    segments: list[Segment] = []
    seen: set[str] = set()
    for index, piece in enumerate(pieces):
        params = []
        for match in _PARAM.finditer(piece):
            name, conv_name = match.group(1), match.group(2) or "str"
            if conv_name not in converters:
                known = ", ".join(sorted(converters))
                raise ImproperlyConfigured(
                    f"route {template!r} uses unknown converter {conv_name!r}; known: {known}. "
                    "Register your own with app.register_converter(name, converter)."
                )
            if name in seen:
                raise ImproperlyConfigured(f"route {template!r} repeats parameter {name!r}")
            seen.add(name)
            params.append((name, converters[conv_name]))
        leftover = _PARAM.sub("", piece)
        if "{" in leftover or "}" in leftover:
            raise ImproperlyConfigured(f"route {template!r} has a malformed parameter in {piece!r}")
        if not params:
            segments.append(Segment("static", piece))
            continue
        spans = [conv for _, conv in params if conv.spans_segments]
        if spans:
            if len(params) != 1 or _PARAM.fullmatch(piece) is None or index != len(pieces) - 1:
                raise ImproperlyConfigured(
                    f"route {template!r}: a 'path' parameter must be a whole, final segment"
                )
            segments.append(Segment("path", piece, tuple(params)))
        elif _PARAM.fullmatch(piece):
            segments.append(Segment("param", piece, tuple(params)))
        else:
            regex = ""
            last = 0
            for match in _PARAM.finditer(piece):
                regex += re.escape(piece[last : match.start()])
                conv = dict(params)[match.group(1)]
                regex += f"(?P<{match.group(1)}>{conv.regex})"
                last = match.end()
            regex += re.escape(piece[last:])
            segments.append(Segment("mixed", piece, tuple(params), re.compile(regex)))
    return tuple(segments)


@dataclass(eq=False)
class Route:
    """A path template bound to a handler for some methods.

    ``handle`` is filled in when the app freezes: it is the composed pipeline
    (hooks, middleware, call plan, error handling) that turns a request into a
    response.
    """

    path: str
    endpoint: Callable[..., Any]
    methods: frozenset[str]
    name: str
    kind: str = "http"
    status_code: int | None = None
    segments: tuple[Segment, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    owner: Any = None
    handle: Any = None
    #: Path parameter names in template order (set when the router adds the route).
    param_names: tuple[str, ...] = ()
    #: The template split for URL building: quoted literals and (name, converter).
    url_pieces: list[Any] = field(default_factory=list)

    @property
    def converters(self) -> dict[str, Converter]:
        """Every path parameter's converter, by name."""
        return {name: conv for seg in self.segments for name, conv in seg.params}

    @property
    def is_static(self) -> bool:
        """Whether the path has no parameters."""
        return all(seg.kind == "static" for seg in self.segments)

    @property
    def shape(self) -> tuple[Any, ...]:
        """What the template matches, parameter names aside."""
        return tuple(seg.key for seg in self.segments)

    def describe(self) -> str:
        """Return ``'path' (module.handler)`` for error messages."""
        qualname = getattr(self.endpoint, "__qualname__", repr(self.endpoint))
        module = getattr(self.endpoint, "__module__", "?")
        return f"{self.path!r} ({module}.{qualname})"


@dataclass(eq=False)
class Mount:
    """An ASGI app served under ``prefix``; it sees the rest of the path."""

    path: str
    app: Any
    name: str | None = None
    kind: str = "mount"
    methods: frozenset[str] = frozenset()

    @property
    def endpoint(self) -> Any:
        """The mounted app (for listings)."""
        return self.app


__all__ = ["Mount", "Route", "Segment", "parse_template"]
