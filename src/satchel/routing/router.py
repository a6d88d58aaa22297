"""The compiled router: a dict for static paths, a segment trie for the rest.

Routes are added while the app is being set up and compiled once by
:meth:`Router.freeze`. Matching a static path is one dict lookup; a dynamic path
walks a trie of segments, trying static children before typed parameters before
plain strings before ``path`` catch-alls, and backing up when a branch fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

from satchel.exceptions import ImproperlyConfigured, RouteConflict
from satchel.routing.converters import Converter
from satchel.routing.route import Mount, Route, Segment

WEBSOCKET = "WEBSOCKET"


class _Node:
    __slots__ = ("mixed", "params", "paths", "routes", "static")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.params: list[tuple[Converter, _Node]] = []
        self.mixed: list[tuple[Segment, _Node]] = []
        self.paths: list[tuple[Converter, _Node]] = []
        # method -> (route, parameter names in template order)
        self.routes: dict[str, Route] = {}

    def child(self, segment: Segment) -> _Node:
        if segment.kind == "static":
            return self.static.setdefault(segment.text, _Node())
        if segment.kind == "mixed":
            for existing, node in self.mixed:
                if existing.key == segment.key:
                    return node
            node = _Node()
            self.mixed.append((segment, node))
            return node
        conv = segment.params[0][1]
        bucket = self.paths if segment.kind == "path" else self.params
        for existing_conv, node in bucket:
            if existing_conv.key == conv.key:
                return node
        node = _Node()
        bucket.append((conv, node))
        bucket.sort(key=lambda item: item[0].priority)
        return node


def _walk(
    node: _Node, parts: list[str], index: int, values: list[Any], skip_static: bool = False
) -> Iterator[_Node]:
    """Yield every leaf that matches ``parts[index:]``, best first, filling ``values``.

    ``skip_static`` leaves out ``node``'s static child (the caller already tried it).
    """
    if index == len(parts):
        if node.routes:
            yield node
        return
    part = parts[index]
    child = None if skip_static else node.static.get(part)
    if child is not None:
        yield from _walk(child, parts, index + 1, values)
    for segment, child in node.mixed:
        assert segment.pattern is not None
        found = segment.pattern.fullmatch(part)
        if found is None:
            continue
        try:
            converted = [conv.convert(found.group(name)) for name, conv in segment.params]
        except ValueError:
            continue
        values.extend(converted)
        yield from _walk(child, parts, index + 1, values)
        del values[len(values) - len(converted) :]
    for conv, child in node.params:
        try:
            value = conv.convert(part)
        except ValueError:
            continue
        values.append(value)
        yield from _walk(child, parts, index + 1, values)
        values.pop()
    if node.paths:
        rest = "/".join(parts[index:])
        for conv, child in node.paths:
            if not child.routes:
                continue
            try:
                value = conv.convert(rest)
            except ValueError:
                continue
            values.append(value)
            yield child
            values.pop()


def _greedy(root: _Node, parts: list[str], values: list[Any], method: str) -> Route | None:
    """Follow the first branch that fits at every segment, without backing up.

    Most requests match this way, in one loop with no calls but the converters;
    when it fails, :func:`_find` searches properly.
    """
    node = root
    for part in parts:
        child = node.static.get(part)
        if child is None:
            if node.mixed or node.paths:
                return None
            for conv, param_child in node.params:
                try:
                    values.append(conv.convert(part))
                except ValueError:
                    continue
                child = param_child
                break
            else:
                return None
        node = child
    return node.routes.get(method)


def _find(
    node: _Node, parts: list[str], index: int, values: list[Any], method: str
) -> Route | None:
    """Return the best route for ``method`` below ``node`` (the fast path: no generators)."""
    if index == len(parts):
        return node.routes.get(method)
    part = parts[index]
    child = node.static.get(part)
    if child is not None:
        found = _find(child, parts, index + 1, values, method)
        if found is not None:
            return found
    if node.mixed or node.paths:
        return _find_slow(node, parts, index, values, method)
    for conv, child in node.params:
        try:
            value = conv.convert(part)
        except ValueError:
            continue
        values.append(value)
        found = _find(child, parts, index + 1, values, method)
        if found is not None:
            return found
        values.pop()
    return None


def _find_slow(
    node: _Node, parts: list[str], index: int, values: list[Any], method: str
) -> Route | None:
    start = len(values)
    for leaf in _walk(node, parts, index, values, skip_static=True):
        route = leaf.routes.get(method)
        if route is not None:
            return route
    del values[start:]
    return None


class Router:
    """Holds every route and mount, and finds the one for a method and path."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.mounts: list[Mount] = []
        self._static: dict[str, dict[str, Route]] = {}
        self._root = _Node()
        self._by_name: dict[str, list[Route]] = {}
        self._shapes: dict[tuple[Any, ...], dict[str, Route]] = {}

    # -- building --------------------------------------------------------------------

    def add(self, route: Route) -> None:
        """Add ``route``; a route that could never be told apart from an earlier one raises."""
        methods = self._shapes.setdefault(route.shape, {})
        for method in sorted(route.methods):
            other = methods.get(method)
            if other is not None and other is not route:
                raise RouteConflict(
                    f"routes {other.describe()} and {route.describe()} both match "
                    f"{method} on the same paths, so the second could never be reached. "
                    "Change one path, its converters, or its methods."
                )
            methods[method] = route
        named = self._by_name.setdefault(route.name, [])
        if named and all(r.endpoint is not route.endpoint for r in named):
            raise ImproperlyConfigured(
                f"route name {route.name!r} is used by {named[0].describe()} and "
                f"{route.describe()}; pass name=... to one of them"
            )
        named.append(route)
        self.routes.append(route)
        route.param_names = tuple(name for seg in route.segments for name, _ in seg.params)
        route.url_pieces = _url_pieces(route)
        if route.is_static:
            table = self._static.setdefault(route.path, {})
            node_routes = table
        else:
            node = self._root
            for segment in route.segments:
                node = node.child(segment)
            node_routes = node.routes
        for method in route.methods:
            node_routes[method] = route
        if "GET" in node_routes and "HEAD" not in node_routes:
            node_routes["HEAD"] = node_routes["GET"]

    def mount(self, mount: Mount) -> None:
        """Serve ``mount.app`` under its prefix."""
        for existing in self.mounts:
            if existing.path == mount.path:
                raise RouteConflict(f"two apps are mounted at {mount.path!r}")
        self.mounts.append(mount)
        # Longest prefix first, so /api/v2 wins over /api.
        self.mounts.sort(key=lambda m: len(m.path), reverse=True)

    # -- matching --------------------------------------------------------------------

    def match(
        self, method: str, path: str
    ) -> tuple[Route | None, dict[str, Any] | None, frozenset[str] | None]:
        """Return ``(route, params, None)``, ``(None, None, allowed)`` or ``(None, None, None)``.

        ``allowed`` is the set of methods the path does answer (for 405 and ``OPTIONS``).
        """
        table = self._static.get(path)
        if table is not None:
            route = table.get(method)
            if route is not None:
                return route, {}, None
        values: list[Any] = []
        parts = path[1:].split("/")
        route = _greedy(self._root, parts, values, method)
        if route is None:
            values.clear()
            route = _find(self._root, parts, 0, values, method)
        if route is not None:
            return route, dict(zip(route.param_names, values, strict=True)), None
        values.clear()
        allowed: set[str] = set(table) if table else set()
        for leaf in _walk(self._root, parts, 0, values):
            route = leaf.routes.get(method)
            if route is not None:
                return route, dict(zip(route.param_names, values, strict=True)), None
            allowed.update(leaf.routes)
        allowed.discard(WEBSOCKET)
        return None, None, frozenset(allowed) if allowed else None

    def match_mount(self, path: str) -> Mount | None:
        """Return the mount that owns ``path``, if any."""
        for mount in self.mounts:
            prefix = mount.path
            if path == prefix or path.startswith(prefix + "/") or prefix == "":
                return mount
        return None

    # -- building URLs ---------------------------------------------------------------

    def url_for(self, name: str, params: dict[str, Any]) -> str:
        """Return the path of route ``name`` filled with ``params``; extra params form the query."""
        candidates = self._by_name.get(name)
        if not candidates:
            mount = next((m for m in self.mounts if m.name == name), None)
            if mount is not None:
                rest = str(params.pop("path", ""))
                return mount.path + "/" + quote(rest.lstrip("/"), safe="/")
            hint = ", ".join(sorted(self._by_name)[:20]) or "(no routes)"
            raise ImproperlyConfigured(f"no route named {name!r}; known names: {hint}")
        for route in candidates:
            if all(n in params for n in route.param_names):
                return _build(route, params)
        needed = candidates[0].param_names
        missing = [n for n in needed if n not in params]
        raise ImproperlyConfigured(f"url_for({name!r}) is missing parameters: {', '.join(missing)}")


_STATIC_SAFE = "@:!$&'()*+,;=-._~"
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+\Z").match

#: One piece of a URL template: literal text (already quoted) or a parameter.
_Piece = str | tuple[str, Converter]


def _url_pieces(route: Route) -> list[_Piece]:
    """Split ``route``'s template into quoted literals and parameters, once."""
    pieces: list[_Piece] = []
    for segment in route.segments:
        pieces.append("/")
        if segment.kind == "static":
            pieces.append(quote(segment.text, safe=_STATIC_SAFE))
            continue
        text = segment.text
        for name, conv in segment.params:
            start = text.index("{" + name)
            end = text.index("}", start)
            if start:
                pieces.append(quote(text[:start], safe=_STATIC_SAFE))
            pieces.append((name, conv))
            text = text[end + 1 :]
        if text:
            pieces.append(quote(text, safe=_STATIC_SAFE))
    merged: list[_Piece] = []
    for piece in pieces:  # join neighbouring literals: fewer steps per url_for
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def _build(route: Route, params: dict[str, Any]) -> str:
    parts: list[str] = []
    for piece in route.url_pieces:
        if isinstance(piece, str):
            parts.append(piece)
            continue
        name, conv = piece
        try:
            raw = conv.to_url(params[name])
            conv.convert(raw)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"url_for({route.name!r}): {name}={params[name]!r} does not fit "
                f"{type(conv).__name__} ({exc})"
            ) from None
        if raw in (".", ".."):  # a dot segment would be resolved away by the browser
            parts.append(raw.replace(".", "%2E"))
        elif _UNRESERVED(raw):  # most values (ids, slugs) need no quoting
            parts.append(raw)
        else:
            parts.append(quote(raw, safe="/" if conv.spans_segments else ""))
    url = "".join(parts)
    if len(params) > len(route.param_names):
        used = route.param_names
        extra = {k: v for k, v in params.items() if k not in used and v is not None}
        if extra:
            url += "?" + urlencode(extra, doseq=True)
    return url


__all__ = ["WEBSOCKET", "Router"]
