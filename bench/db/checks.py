"""The answers every database benchmark app must give (TechEmpower's rules), checked.

Each check asks the app over HTTP and compares with the database itself, read with
psycopg: a row an app returns must be the row in the table, an update must be in the
table afterwards, and the fortunes page must list every fortune plus the one added at
request time, sorted by message and escaped.
"""

from __future__ import annotations

import html.parser
import json
import urllib.error
import urllib.request
from typing import Any

import psycopg
from _db_common import ADDITIONAL_FORTUNE, WORLD_ROWS
from setup import FORTUNES, _libpq_url

HTML_TYPE = "text/html; charset=utf-8"
# query string -> how many rows the answer must have
CLAMPS = [
    ("", 1),
    ("?queries=", 1),
    ("?queries=0", 1),
    ("?queries=-3", 1),
    ("?queries=foo", 1),
    ("?queries=1", 1),
    ("?queries=20", 20),
    ("?queries=500", 500),
    ("?queries=501", 500),
    ("?queries=100000", 500),
]
UPDATE_CLAMPS = [("?queries=0", 1), ("?queries=bar", 1), ("?queries=20", 20), ("?queries=501", 500)]


def fetch(url: str, timeout: float = 10.0) -> tuple[int, str, bytes]:
    """GET ``url``: status, content type and body (errors are answers too)."""
    request = urllib.request.Request(url, headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


class _Table(html.parser.HTMLParser):
    """Collect the text of each ``<td>`` cell, row by row."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []
        elif self._cell is not None:
            self._cell.append(f"<{tag}>")  # a tag inside a cell: the message was not escaped

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


class Checker:
    """Check one app's answers against the database at ``url`` (a PostgreSQL URL)."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(_libpq_url(url), autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def table(self) -> dict[int, int]:
        rows = self.conn.execute("SELECT id, randomnumber FROM world").fetchall()
        return dict(rows)

    def check(self, base: str) -> list[str]:
        """Return what is wrong with the app at ``base`` (empty: all good)."""
        problems: list[str] = []
        world = self.table()
        if len(world) != WORLD_ROWS:
            return [f"the world table has {len(world)} rows, not {WORLD_ROWS} (run setup.py)"]
        for _ in range(3):
            problems += self._json_rows(base, "/db", None, world)
        for query, count in CLAMPS:
            problems += self._json_rows(base, "/queries" + query, count, world)
        for query, count in UPDATE_CLAMPS:
            problems += self._updates(base, query, count)
        problems += self._fortunes(base)
        return problems

    def _get_json(self, base: str, path: str, problems: list[str]) -> Any:
        try:
            status, ctype, body = fetch(base + path)
        except OSError as error:
            problems.append(f"GET {path}: {error}")
            return None
        if status != 200:
            problems.append(f"GET {path}: status {status}: {body[:120]!r}")
            return None
        if not ctype.startswith("application/json"):
            problems.append(f"GET {path}: content-type {ctype!r}, want application/json")
        try:
            return json.loads(body)
        except ValueError:
            problems.append(f"GET {path}: not JSON: {body[:80]!r}")
            return None

    def _json_rows(
        self, base: str, path: str, count: int | None, world: dict[int, int]
    ) -> list[str]:
        problems: list[str] = []
        answer = self._get_json(base, path, problems)
        if answer is None:
            return problems
        if count is None:  # /db: one object, not a list
            if not isinstance(answer, dict):
                return [f"GET {path}: {answer!r:.80} is not one JSON object"]
            answer = [answer]
        elif not isinstance(answer, list) or len(answer) != count:
            size = len(answer) if isinstance(answer, list) else type(answer).__name__
            return [f"GET {path}: {size} rows, want a list of {count}"]
        for item in answer:
            if problem := _bad_world(item):
                return [f"GET {path}: {problem}"]
            if world[item["id"]] != item["randomNumber"]:
                return [f"GET {path}: {item} but the table says randomNumber={world[item['id']]}"]
        return problems

    def _updates(self, base: str, query: str, count: int) -> list[str]:
        problems: list[str] = []
        path = "/updates" + query
        before = self.table()
        answer = self._get_json(base, path, problems)
        if answer is None:
            return problems
        if not isinstance(answer, list) or len(answer) != count:
            size = len(answer) if isinstance(answer, list) else type(answer).__name__
            return [f"GET {path}: {size} rows, want a list of {count}"]
        after = self.table()
        sent: dict[int, set[int]] = {}
        for item in answer:
            if problem := _bad_world(item):
                return [f"GET {path}: {problem}"]
            sent.setdefault(item["id"], set()).add(item["randomNumber"])
        for id_, numbers in sent.items():
            if after[id_] not in numbers:
                return [f"GET {path}: row {id_} is {after[id_]} in the table, answered {numbers}"]
        if count >= 20 and all(before[i] == after[i] for i in sent):
            problems.append(f"GET {path}: no row changed")
        return problems

    def _fortunes(self, base: str) -> list[str]:
        try:
            status, ctype, body = fetch(base + "/fortunes")
        except OSError as error:
            return [f"GET /fortunes: {error}"]
        if status != 200:
            return [f"GET /fortunes: status {status}: {body[:120]!r}"]
        problems = []
        if ctype.replace(" ", "").lower() != HTML_TYPE.replace(" ", ""):
            problems.append(f"GET /fortunes: content-type {ctype!r}, want {HTML_TYPE!r}")
        text = body.decode("utf-8", "replace")
        if "<script>" in text or "&lt;script&gt;" not in text:
            problems.append("GET /fortunes: the <script> fortune is not escaped")
        parser = _Table()
        parser.feed(text)
        got = [tuple(row) for row in parser.rows if row]
        want = sorted([*FORTUNES, (0, ADDITIONAL_FORTUNE)], key=lambda row: row[1])
        if got != [(str(i), message) for i, message in want]:
            problems.append(f"GET /fortunes: rows {got[:3]}..., want {want[:3]}... (13, sorted)")
        return problems


def _bad_world(item: Any) -> str | None:
    if not isinstance(item, dict) or set(item) != {"id", "randomNumber"}:
        return f"{item!r:.80} is not {{id, randomNumber}}"
    id_, number = item["id"], item["randomNumber"]
    if type(id_) is not int or type(number) is not int:
        return f"{item} has a value that is not an integer"
    if not (1 <= id_ <= WORLD_ROWS and 1 <= number <= WORLD_ROWS):
        return f"{item} is out of 1..{WORLD_ROWS}"
    return None
