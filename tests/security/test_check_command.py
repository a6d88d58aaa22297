"""``satchel check [--deploy]`` output and exit codes; ``satchel serve`` refusing to start."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from satchel.cli.commands.check import check

STRONG = "command-" + "Rt5%" * 12

APP = textwrap.dedent(
    """
    from satchel import App

    app = App()

    @app.get("/")
    async def index() -> str:
        return "hi"
    """
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory with app.py as the cwd, and no SATCHEL_* settings from outside."""
    (tmp_path / "app.py").write_text(APP)
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("SATCHEL_") and not name.startswith("SATCHEL_TEST_"):
            monkeypatch.delenv(name)
    saved_path = list(sys.path)
    yield tmp_path
    sys.path[:] = saved_path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]  # the next test's app.py is another module


def _run(*args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(check, [*args], env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_development_key_is_critical_and_fails(project: Path) -> None:
    code, output = _run("app.py")
    assert code == 1
    assert "CRITICAL:\n  security.E002: The secret key is the built-in development key" in output
    assert "HINT: Set SATCHEL_SECRET_KEY" in output
    assert output.rstrip().endswith("System check found 1 issue.")


def test_clean_app_passes_and_points_at_deploy(project: Path) -> None:
    code, output = _run("app.py", SATCHEL_SECRET_KEY=STRONG)
    assert code == 0
    assert "System check found no issues." in output
    assert "satchel check --deploy" in output


def test_deploy_lists_errors_and_warnings_by_id(project: Path) -> None:
    code, output = _run("app.py", "--deploy", SATCHEL_SECRET_KEY=STRONG)
    assert code == 1  # security.E005: allowed_hosts empty
    assert output.index("ERRORS:") < output.index("WARNINGS:")
    for id in ("security.E005", "security.W002", "security.W005"):
        assert f"  {id}: " in output
    assert "System check found 3 issues." in output


def test_warnings_alone_exit_zero_unless_fail_level_says(project: Path) -> None:
    env = {"SATCHEL_SECRET_KEY": STRONG, "SATCHEL_ALLOWED_HOSTS": "example.com"}
    code, output = _run("app.py", "--deploy", **env)
    assert code == 0
    assert "security.W002" in output and "ERRORS:" not in output
    code, _ = _run("app.py", "--deploy", "--fail-level", "WARNING", **env)
    assert code == 1


def test_hardened_settings_pass_the_deploy_check(project: Path) -> None:
    code, output = _run(
        "app.py",
        "--deploy",
        SATCHEL_SECRET_KEY=STRONG,
        SATCHEL_ALLOWED_HOSTS="example.com",
        SATCHEL_HSTS_SECONDS="31536000",
        SATCHEL_HSTS_INCLUDE_SUBDOMAINS="1",
        SATCHEL_HTTPS_REDIRECT="1",
    )
    assert (code, output.strip()) == (0, "System check found no issues.")


def test_silenced_ids_from_the_environment(project: Path) -> None:
    code, output = _run(
        "app.py",
        "--deploy",
        SATCHEL_SECRET_KEY=STRONG,
        SATCHEL_ALLOWED_HOSTS="example.com",
        SATCHEL_SILENCED_CHECKS="security.W002,security.W005",
    )
    assert (code, output.strip()) == (0, "System check found no issues.")


def test_broken_configuration_is_reported(project: Path) -> None:
    code, output = _run("app.py", SATCHEL_SECRET_KEY=STRONG, SATCHEL_CORS_ALLOW_ORIGINS="null")
    assert code == 1
    assert "core.E001: The app cannot start" in output


def _satchel() -> list[str]:
    script = Path(sys.executable).with_name("satchel")
    return [str(script)] if script.exists() else [sys.executable, "-m", "satchel.cli.main"]


def _child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@pytest.mark.server
def test_serve_refuses_debug_off_with_the_development_key(project: Path) -> None:
    result = subprocess.run(
        [*_satchel(), "serve", "app:app", "--port", "1"],
        cwd=project,
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "refusing to start" in result.stderr
    assert "security.E002" in result.stderr
    assert "SATCHEL_SECRET_KEY" in result.stderr
    assert "Satchel serving" not in result.stdout  # it never got as far as binding


def test_check_command_as_a_process(project: Path) -> None:
    result = subprocess.run(
        [*_satchel(), "check", "app:app", "--deploy"],
        cwd=project,
        env=_child_env(SATCHEL_SECRET_KEY="short"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "security.E003" in result.stdout
