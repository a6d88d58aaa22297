"""``satchel check`` findings about accounts, and the package's import surface."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from accounts_kit import MakeApp

import satchel.auth
from satchel import App
from satchel.auth import Auth
from satchel.auth.passwords import PasswordHasher
from satchel.db import Database
from satchel.security.checks import run_checks

SRC = Path(__file__).resolve().parents[2] / "src"


def ids(app: App, *, deploy: bool = True) -> set[str]:
    return {m.id for m in run_checks(app, deploy=deploy) if m.id.startswith("auth.")}


def test_a_well_configured_app_has_no_findings(make_app: MakeApp) -> None:
    app, _ = make_app(hasher=PasswordHasher(), email_backend=None)
    assert ids(app) == set()


def test_configuration_errors(tmp_path: Path) -> None:
    no_db = App(root_path=str(tmp_path))
    Auth(no_db)
    assert "auth.E001" in ids(no_db, deploy=False)
    no_sessions = App(database=Database("sqlite://"), sessions_enabled=False)
    Auth(no_sessions)
    assert "auth.E002" in ids(no_sessions, deploy=False)
    api_only = App(database=Database("sqlite://"), sessions_enabled=False)
    Auth(api_only, views=False)
    assert "auth.E002" not in ids(api_only, deploy=False)


def test_deploy_warnings(make_app: MakeApp) -> None:
    app, _ = make_app()  # the tests' cheap hasher
    assert "auth.W001" in ids(app)
    assert "auth.W001" not in ids(app, deploy=False)
    shared, _ = make_app(session_store="redis", hasher=PasswordHasher())
    assert "auth.W002" in ids(shared)
    assert "auth.W002" not in ids(
        make_app(session_store="redis", hasher=PasswordHasher(), throttle_store="redis")[0]
    )
    console, _ = make_app(email_backend="console", hasher=PasswordHasher())
    assert "auth.W003" in ids(console)


def test_unapplied_migrations_are_reported(tmp_path: Path) -> None:
    app = App(database=Database(f"sqlite:///{tmp_path / 'empty.db'}"))
    Auth(app)
    found = [m for m in run_checks(app, deploy=True) if m.id == "auth.W004"]
    assert found and "0001_auth" in found[0].msg and "satchel auth migrate" in str(found[0])


def test_every_public_name_resolves() -> None:
    for name in satchel.auth.__all__:
        assert getattr(satchel.auth, name) is not None, name


def test_import_satchel_auth_stays_light() -> None:
    code = (
        "import sys, satchel.auth\n"
        "heavy = {'sqlalchemy', 'argon2', 'jinja2', 'itsdangerous', 'redis', 'alembic'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
