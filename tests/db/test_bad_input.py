"""Hostile values from every parameter kind reach SQL only as bound parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from dbt_models import Note, count_rows
from sqlalchemy import func, select

from satchel import App, Body, Header
from satchel.db import AsyncSession, Database, Session
from satchel.testing import TestClient

#: Values that would break SQL built by string formatting. Header-safe ones first.
HEADER_SAFE = [
    "'; DROP TABLE dbt_note; --",
    "' OR '1'='1",
    '" OR ""="',
    "%",
    "_",
    "%_%",
    "a\\b",
    "\\'",
    "\\",
    "1; DELETE FROM dbt_note",
    "$1",
    ":name",
    "%(text)s",
    "?",
    "--",
    "/* */",
]
ANYWHERE = [
    *HEADER_SAFE,
    "ユニコード 💥",
    "line\nbreak\ttab",
    "x" * 5000,
]
NUL = "before\x00after"


def _app(make_app: Callable[..., App]) -> App:
    app = make_app()

    @app.post("/notes", status_code=201)
    async def create(
        text: Annotated[str, Body(embed=True)], session: AsyncSession
    ) -> dict[str, int]:
        note = Note(text=text)
        session.add(note)
        await session.flush()
        return {"id": note.id}

    @app.get("/by-path/{text}")
    async def by_path(text: str, session: AsyncSession) -> list[str]:
        return list(await session.scalars(select(Note.text).where(Note.text == text)))

    @app.get("/search")
    def search(q: str, session: Session) -> list[str]:
        stmt = select(Note.text).where(Note.text.contains(q, autoescape=True))
        return list(session.scalars(stmt.order_by(Note.id)))

    @app.get("/by-header")
    async def by_header(x_text: Annotated[str, Header()], session: AsyncSession) -> list[str]:
        return list(await session.scalars(select(Note.text).where(Note.text == x_text)))

    @app.get("/count")
    async def count(session: AsyncSession) -> dict[str, int]:
        return {"n": (await session.scalar(select(func.count()).select_from(Note))) or 0}

    return app


def test_metacharacters_in_every_parameter_kind(make_app: Callable[..., App], database: Database):
    app = _app(make_app)
    with TestClient(app) as client:
        for n, value in enumerate(ANYWHERE, 1):
            created = client.post("/notes", json={"text": value})
            assert created.status_code == 201, (value, created.text)
            assert client.get("/count").json() == {"n": n}, value
            if "/" not in value:
                found = client.get("/by-path/" + quote(value, safe=""))
                assert found.json() == [value], value
            assert value in client.get("/search", params={"q": value}).json(), value
            if value in HEADER_SAFE:
                assert client.get("/by-header", headers={"x-text": value}).json() == [value]
        # LIKE wildcards are literal: "%" finds only texts that contain a percent sign.
        percent = client.get("/search", params={"q": "%"}).json()
        assert percent == [v for v in ANYWHERE if "%" in v]
        underscore = client.get("/search", params={"q": "_"}).json()
        assert underscore == [v for v in ANYWHERE if "_" in v]
    assert count_rows(database, "dbt_note") == len(ANYWHERE)  # the table survived


def test_nul_character(make_app: Callable[..., App], database: Database, backend: str):
    """SQLite and MariaDB store NUL; PostgreSQL text cannot hold it: a 400, not a 500."""
    app = _app(make_app)
    with TestClient(app) as client:
        created = client.post("/notes", json={"text": NUL})
        if backend == "postgresql":
            assert created.status_code == 400
            assert count_rows(database, "dbt_note") == 0
            return
        assert created.status_code == 201
        assert client.get("/by-path/" + quote(NUL, safe="")).json() == [NUL]
        assert client.get("/search", params={"q": "\x00"}).json() == [NUL]
