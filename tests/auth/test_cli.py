"""``satchel createsuperuser``, ``changepassword`` and ``satchel auth ...`` as a user runs them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from satchel.auth.passwords import PasswordHasher
from satchel.auth.tokens import hash_api_token, parse_api_token

SRC = Path(__file__).resolve().parents[2] / "src"
GOOD = "violet kettle drums at noon"
APP = """
from satchel import App
from satchel.auth import Auth
from satchel.auth.passwords import PasswordHasher
from satchel.db import Database

app = App(database=Database("sqlite:///project.db"))
auth = Auth(app, hasher=PasswordHasher(time_cost=1, memory_cost=1024))
"""


def satchel(
    project: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("satchel")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "satchel.cli.main"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), base.get("PYTHONPATH")]))
    return subprocess.run(
        [*argv, *args],
        cwd=project,
        env={**base, **env},
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    done = satchel(tmp_path, "auth", "migrate")
    assert done.returncode == 0, done.stderr
    assert "The account tables are at 0001_auth." in done.stdout
    return tmp_path


def rows(project: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(project / "project.db") as conn:
        return list(conn.execute(sql))


def test_createsuperuser_without_questions(project: Path) -> None:
    done = satchel(
        project,
        "createsuperuser",
        "--noinput",
        SATCHEL_SUPERUSER_USERNAME="Boss",
        SATCHEL_SUPERUSER_EMAIL="Boss@Example.com",
        SATCHEL_SUPERUSER_PASSWORD=GOOD,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Superuser 'Boss' created."
    [(username, email, stored, staff, superuser, active)] = rows(
        project,
        "SELECT username, email, password, is_staff, is_superuser, is_active FROM auth_user",
    )
    assert (username, email, staff, superuser, active) == ("Boss", "Boss@example.com", 1, 1, 1)
    assert PasswordHasher().verify(GOOD, str(stored))
    again = satchel(
        project, "createsuperuser", "--noinput", "--username", "BOSS",
        SATCHEL_SUPERUSER_PASSWORD=GOOD,
    )  # fmt: skip
    assert again.returncode == 1
    assert "username: A user with that username already exists." in again.stderr


def test_createsuperuser_refusals(project: Path) -> None:
    weak = satchel(
        project,
        "createsuperuser",
        "--noinput",
        "--username",
        "x",
        SATCHEL_SUPERUSER_PASSWORD="short",
    )
    assert weak.returncode == 1 and "too short" in weak.stderr
    nameless = satchel(project, "createsuperuser", "--noinput")
    assert nameless.returncode == 1 and "SATCHEL_SUPERUSER_USERNAME" in nameless.stderr
    lookalike = satchel(
        project, "createsuperuser", "--noinput", "--username", "adm\u0131n",
        SATCHEL_SUPERUSER_PASSWORD=GOOD,
    )  # fmt: skip
    assert lookalike.returncode == 1 and "English letters" in lookalike.stderr
    no_terminal = satchel(project, "createsuperuser")
    assert no_terminal.returncode == 1 and "--noinput" in no_terminal.stderr
    assert rows(project, "SELECT count(*) FROM auth_user") == [(0,)]


def test_a_superuser_without_a_password_can_only_reset_one(project: Path) -> None:
    done = satchel(project, "createsuperuser", "--noinput", "--username", "ops")
    assert done.returncode == 0, done.stderr
    [(stored,)] = rows(project, "SELECT password FROM auth_user")
    assert str(stored).startswith("!")


def test_changepassword_asks_twice_and_checks_the_rules(project: Path) -> None:
    satchel(project, "createsuperuser", "--noinput", "--username", "ann",
            SATCHEL_SUPERUSER_PASSWORD=GOOD)  # fmt: skip
    new = "quiet harbour lanterns glow"
    answers = f"mismatch one here\nmismatch two here\nshort\nshort\n{new}\n{new}\n"
    done = satchel(project, "changepassword", "ANN", stdin=answers)
    assert done.returncode == 0, done.stderr
    assert "didn't match" in done.stderr and "too short" in done.stderr
    assert "Password changed for 'ann'." in done.stdout
    [(stored,)] = rows(project, "SELECT password FROM auth_user")
    assert PasswordHasher().verify(new, str(stored))
    missing = satchel(project, "changepassword", "nobody")
    assert missing.returncode == 1 and "no user 'nobody'" in missing.stderr


def test_sync_permissions_and_create_token(project: Path) -> None:
    (project / "app.py").write_text(
        textwrap.dedent(APP)
        + textwrap.dedent(
            """
            from sqlalchemy.orm import Mapped, mapped_column
            from satchel.db import Model

            class Recipe(Model):
                __tablename__ = "recipe"
                __permissions__ = [("publish_recipe", "Can publish recipes")]
                id: Mapped[int] = mapped_column(primary_key=True)
            """
        )
    )
    synced = satchel(project, "auth", "sync-permissions")
    assert synced.returncode == 0, synced.stderr
    assert (
        "Created app.add_recipe" in synced.stdout and "Created app.publish_recipe" in synced.stdout
    )
    assert synced.stdout.strip().endswith("5 permissions created.")
    assert "0 permissions created." in satchel(project, "auth", "sync-permissions").stdout
    satchel(project, "createsuperuser", "--noinput", "--username", "ci")
    made = satchel(project, "auth", "create-token", "ci", "deploy bot", "--days", "30")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    lookup = parse_api_token(token)
    assert lookup is not None
    [(name, stored_hash, expires)] = rows(
        project,
        f"SELECT name, token_hash, expires_at FROM auth_api_token WHERE lookup_id = '{lookup}'",
    )
    assert name == "deploy bot" and stored_hash == hash_api_token(token) and expires is not None
    assert satchel(project, "auth", "create-token", "nobody", "x").returncode == 1


def test_commands_need_auth_on_the_app(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("from satchel import App\napp = App()\n")
    done = satchel(tmp_path, "createsuperuser", "--noinput", "--username", "x")
    assert done.returncode == 1 and "create Auth(app)" in done.stderr
