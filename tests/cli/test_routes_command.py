"""``satchel routes``: the table, from stub routes and from a real App."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from click.testing import CliRunner

from satchel.cli.commands.routes import describe_handler, format_table, route_rows
from satchel.cli.main import cli


@dataclass
class StubRoute:
    path: str
    endpoint: Any
    methods: frozenset[str] | None
    name: str | None
    kind: str = "http"


async def list_users() -> None:
    """Handler stand-in."""


class Chat:
    async def __call__(self) -> None:
        """Callable-object stand-in."""


def test_rows_sorted_by_path_with_kinds():
    rows = route_rows(
        [
            StubRoute("/users", list_users, frozenset({"POST", "GET"}), "users"),
            StubRoute("/ws", Chat(), frozenset(), None, kind="websocket"),
            StubRoute("/static", object(), None, "static", kind="mount"),
            StubRoute("/", None, frozenset({"GET"}), None),
        ]
    )
    assert rows == [
        ("GET", "/", "-", "-"),
        ("MOUNT", "/static", "static", "builtins.object"),
        ("GET,POST", "/users", "users", f"{__name__}.list_users"),
        ("WS", "/ws", "-", f"{__name__}.Chat"),
    ]


def test_same_path_sorted_by_methods():
    rows = route_rows(
        [
            StubRoute("/a", list_users, frozenset({"POST"}), "b"),
            StubRoute("/a", list_users, frozenset({"GET"}), "a"),
        ]
    )
    assert [row[2] for row in rows] == ["a", "b"]


def test_handler_names():
    assert describe_handler(list_users) == f"{__name__}.list_users"
    assert describe_handler(functools.partial(list_users)) == f"{__name__}.list_users"
    assert describe_handler(Chat.__call__) == f"{__name__}.Chat.__call__"
    assert describe_handler(None) == "-"


def test_table_columns_align():
    table = format_table(
        [("GET", "/", "index", "app.index"), ("GET,POST", "/long/path", "-", "x.y")]
    )
    lines = table.splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "NAME", "HANDLER"]
    starts = {
        line.index(word) for line, word in zip(lines, ["PATH", "/", "/long/path"], strict=True)
    }
    assert len(starts) == 1
    assert all(line == line.rstrip() for line in lines)


def test_routes_of_a_real_app(project):
    project.write(
        "app.py",
        """
        from satchel.app import App
        from satchel.http.websocket import WebSocket

        app = App()


        async def files(scope, receive, send):
            pass


        app.mount("/files", files, name="files")


        @app.get("/items/{item_id:int}", name="item")
        async def item(item_id: int) -> dict[str, int]:
            return {"id": item_id}


        @app.post("/items")
        async def create_item() -> str:
            return "made"


        @app.websocket("/live")
        async def live(websocket: WebSocket) -> None:
            await websocket.close()
        """,
    )
    result = CliRunner().invoke(cli, ["routes"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "NAME", "HANDLER"]
    rows = [line.split() for line in lines[1:]]
    assert [row[1] for row in rows] == ["/files", "/items", "/items/{item_id:int}", "/live"]
    assert rows[0][0] == "MOUNT"
    assert rows[0][2] == "files"
    assert rows[1][0] == "POST"
    assert rows[1][3] == "app.create_item"
    assert "GET" in rows[2][0].split(",")
    assert rows[2][2:] == ["item", "app.item"]
    assert rows[3][0] == "WS"
    assert rows[3][3] == "app.live"


def test_routes_of_an_app_without_routes(project):
    project.write("app.py", "from satchel.app import App\napp = App()\n")
    result = CliRunner().invoke(cli, ["routes"])
    assert result.exit_code == 0, result.output
    assert result.output == "No routes.\n"


def test_routes_reports_discovery_errors(project):
    result = CliRunner().invoke(cli, ["routes", "missing_mod:app"])
    assert result.exit_code == 1
    assert "Error: Could not import module 'missing_mod'" in result.output
