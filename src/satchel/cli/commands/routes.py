"""``satchel routes``: list an app's routes as a table."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import click

from satchel.cli.discovery import load_app

HEADERS = ("METHODS", "PATH", "NAME", "HANDLER")


def route_rows(routes: Iterable[Any]) -> list[tuple[str, str, str, str]]:
    """Return one ``(methods, path, name, handler)`` row per route, sorted by path.

    Each route has ``methods``, ``path``, ``name``, ``endpoint`` and ``kind``
    (``"http"``, ``"websocket"`` or ``"mount"``).
    """
    rows = [
        (_methods(route), str(route.path), route.name or "-", describe_handler(route.endpoint))
        for route in routes
    ]
    rows.sort(key=lambda row: (row[1], row[0]))
    return rows


def format_table(rows: list[tuple[str, str, str, str]]) -> str:
    """Return ``rows`` under :data:`HEADERS` as left-aligned columns."""
    table = [HEADERS, *rows]
    widths = [max(len(row[col]) for row in table) for col in range(len(HEADERS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in table
    ]
    return "\n".join(line.rstrip() for line in lines)


def describe_handler(endpoint: Any) -> str:
    """Return ``module.qualname`` for a handler, its class's for other callables."""
    if endpoint is None:
        return "-"
    while isinstance(endpoint, functools.partial):
        endpoint = endpoint.func
    target = endpoint if hasattr(endpoint, "__qualname__") else type(endpoint)
    module = getattr(target, "__module__", None)
    qualname: str = target.__qualname__
    return f"{module}.{qualname}" if module else qualname


def _methods(route: Any) -> str:
    kind = getattr(route, "kind", "http")
    if kind == "websocket":
        return "WS"
    if kind == "mount":
        return "MOUNT"
    return ",".join(sorted(route.methods or ())) or "-"


@click.command("routes")
@click.argument("app", required=False, metavar="[APP]")
def routes(app: str | None) -> None:
    """List the routes of APP (module:attr; default: $SATCHEL_APP, app.py or main.py)."""
    application = load_app(app)
    rows = route_rows(application.routes)
    if not rows:
        click.echo("No routes.")
        return
    click.echo(format_table(rows))


__all__ = ["HEADERS", "describe_handler", "format_table", "route_rows", "routes"]
