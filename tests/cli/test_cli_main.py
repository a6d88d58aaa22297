"""The ``satchel`` group: lazy command loading, help, ``--app`` and ``--version``."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from satchel.cli.main import COMMANDS, CommandSpec, LazyGroup, cli


def test_help_lists_every_registered_command():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for spec in COMMANDS:
        assert spec.name in result.output
        assert spec.short_help in result.output


def test_help_does_not_import_commands_or_the_server(child_env):
    code = (
        "import sys\n"
        "from satchel.cli.main import cli\n"
        "try:\n"
        "    cli(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [m for m in ('granian', 'satchel.cli.commands.server',"
        " 'satchel.cli.commands.routes', 'satchel.cli.discovery') if m in sys.modules]\n"
        "print('LOADED', loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=child_env
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout


def test_unknown_command():
    result = CliRunner().invoke(cli, ["nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("satchel ")


def test_app_option_reaches_commands(project):
    project.write(
        "web.py",
        """
        from satchel.app import App

        site = App()

        @site.get("/from-option")
        async def from_option() -> str:
            return "ok"
        """,
    )
    result = CliRunner().invoke(cli, ["--app", "web:site", "routes"])
    assert result.exit_code == 0, result.output
    assert "/from-option" in result.output
    assert os.environ["SATCHEL_APP"] == "web:site"


def _plugin_group(spec: CommandSpec) -> click.Group:
    @click.group(cls=LazyGroup, lazy_commands=[spec])
    def group() -> None:
        """Test group."""

    return group


def test_command_registered_by_a_battery_loads_on_use(project, monkeypatch):
    monkeypatch.syspath_prepend(str(project.root))
    project.write(
        "battery_cmds.py",
        """
        import click

        @click.command()
        @click.argument("name")
        def hello(name):
            click.echo(f"hello {name}")
        """,
    )
    group = _plugin_group(CommandSpec("hello", "battery_cmds:hello", "Say hello."))
    runner = CliRunner()
    help_result = runner.invoke(group, ["--help"])
    assert "hello  Say hello." in help_result.output
    assert "battery_cmds" not in sys.modules
    result = runner.invoke(group, ["hello", "world"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello world\n"


def test_registry_entry_that_is_not_a_command(project, monkeypatch):
    monkeypatch.syspath_prepend(str(project.root))
    project.write("battery_cmds2.py", "hello = 42\n")
    group = _plugin_group(CommandSpec("hello", "battery_cmds2:hello", "Say hello."))
    with pytest.raises(TypeError, match="battery_cmds2:hello is not a click command"):
        CliRunner().invoke(group, ["hello"], catch_exceptions=False)
