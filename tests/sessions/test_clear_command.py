"""``satchel sessions clear``: deletes expired rows of the database store, through the CLI."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import MetaData, create_engine, insert, select

from satchel.cli import APP_ENV_VAR
from satchel.cli.main import cli
from satchel.sessions import session_table

APP = """
from satchel import App
from satchel.db import Database

app = App(secret_key="s" * 40, session_store="{store}", sessions_enabled={enabled},
          database=Database("sqlite:///{path}"))
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(APP_ENV_VAR, "")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("sessions_app", None)


def write_app(root: Path, store: str = "database", enabled: bool = True) -> Path:
    path = root / "sessions.db"
    source = APP.format(store=store, enabled=enabled, path=path)
    (root / "sessions_app.py").write_text(textwrap.dedent(source))
    importlib.invalidate_caches()
    return path


def test_clear_deletes_only_expired_rows(project: Path):
    db_path = write_app(project)
    engine = create_engine(f"sqlite:///{db_path}")
    table = session_table(MetaData())
    table.create(engine)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            insert(table),
            [
                {"key": "a" * 64, "data": "{}", "expires_at": now - timedelta(days=1)},
                {"key": "b" * 64, "data": "{}", "expires_at": now - timedelta(seconds=1)},
                {"key": "c" * 64, "data": "{}", "expires_at": now + timedelta(days=1)},
            ],
        )
    result = CliRunner().invoke(cli, ["--app", "sessions_app:app", "sessions", "clear"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Deleted 2 expired sessions."
    with engine.connect() as conn:
        assert conn.execute(select(table.c.key)).scalars().all() == ["c" * 64]
    again = CliRunner().invoke(cli, ["--app", "sessions_app:app", "sessions", "clear"])
    assert again.output.strip() == "Deleted 0 expired sessions."
    engine.dispose()


def test_clear_with_the_cookie_store_has_nothing_to_do(project: Path):
    write_app(project, store="cookie")
    result = CliRunner().invoke(cli, ["--app", "sessions_app:app", "sessions", "clear"])
    assert result.exit_code == 0, result.output
    assert "nothing to delete" in result.output


def test_clear_with_sessions_off_fails_clearly(project: Path):
    write_app(project, store="cookie", enabled=False)
    result = CliRunner().invoke(cli, ["--app", "sessions_app:app", "sessions", "clear"])
    assert result.exit_code == 1
    assert "sessions are turned off" in result.output


def test_sessions_group_help_lists_clear():
    result = CliRunner().invoke(cli, ["sessions", "--help"])
    assert result.exit_code == 0
    assert "clear" in result.output
