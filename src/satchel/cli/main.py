"""The ``satchel`` command: a click group whose commands load on first use.

Each command lives in a module under :mod:`satchel.cli.commands` and is listed in
:data:`COMMANDS` with its one-line help, so ``satchel --help`` imports nothing but
click. A battery adds its commands by adding an entry here (``satchel db`` ->
``CommandSpec("db", "satchel.cli.commands.db:db", "...")``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click

from satchel.cli import APP_ENV_VAR


@dataclass(frozen=True)
class CommandSpec:
    """Where a command lives (``"module:attr"``) and the help line ``--help`` shows."""

    name: str
    target: str
    short_help: str


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("run", "satchel.cli.commands.server:run", "Run the development server."),
    CommandSpec("serve", "satchel.cli.commands.server:serve", "Run the production server."),
    CommandSpec("routes", "satchel.cli.commands.routes:routes", "List the app's routes."),
    CommandSpec("db", "satchel.cli.commands.db:db", "Manage the database and migrations."),
    CommandSpec("check", "satchel.cli.commands.check:check", "Run startup and deploy checks."),
    CommandSpec(
        "collectstatic", "satchel.cli.commands.static:collectstatic", "Collect static files."
    ),
    CommandSpec("sessions", "satchel.cli.commands.sessions:sessions", "Manage stored sessions."),
    CommandSpec("openapi", "satchel.cli.commands.openapi:openapi", "Write the OpenAPI schema."),
    CommandSpec(
        "createsuperuser", "satchel.cli.commands.auth:createsuperuser", "Create a superuser."
    ),
    CommandSpec(
        "changepassword", "satchel.cli.commands.auth:changepassword", "Change a user's password."
    ),
    CommandSpec("auth", "satchel.cli.commands.auth:auth", "Manage users and permissions."),
)
"""Every built-in command; a battery's command joins by adding an entry."""


class LazyGroup(click.Group):
    """A click group that imports a command's module only when the command runs."""

    def __init__(self, *args: Any, lazy_commands: Sequence[CommandSpec] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy_commands = {spec.name: spec for spec in lazy_commands}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return every command name, lazy and eagerly added, sorted."""
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the command, importing its module the first time it is asked for."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        spec = self.lazy_commands.get(cmd_name)
        if spec is None:
            return None
        command = _import_command(spec)
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the command list from the registry, without importing any command."""
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            spec = self.lazy_commands.get(name)
            if name in self.commands or spec is None:
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(formatter.width)))
            else:
                rows.append((name, spec.short_help))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _import_command(spec: CommandSpec) -> click.Command:
    module_name, _, attr = spec.target.partition(":")
    command = getattr(importlib.import_module(module_name), attr)
    if not isinstance(command, click.Command):
        raise TypeError(f"{spec.target} is not a click command (got {type(command).__name__})")
    return command


def _remember_app(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    # Stored in the environment rather than on the context so that it also reaches
    # server worker processes and every command's app discovery.
    if value:
        os.environ[APP_ENV_VAR] = value
    return value


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    # Read from the installed metadata; a source checkout that is not installed
    # has none, which is not an error worth a traceback.
    try:
        version = importlib.metadata.version("satchel")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown (not installed)"
    click.echo(f"satchel {version}")
    ctx.exit()


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--app",
    metavar="SPEC",
    expose_value=False,
    is_eager=True,
    callback=_remember_app,
    help=f"The app to use: module:attr or path/to/file.py[:attr] (default: ${APP_ENV_VAR}, "
    "else app.py or main.py).",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
def cli() -> None:
    """Satchel: run, serve and manage a Satchel project."""


def main() -> None:
    """Run the ``satchel`` command line (the console script entry point)."""
    cli(prog_name="satchel")


__all__ = ["COMMANDS", "CommandSpec", "LazyGroup", "cli", "main"]


if __name__ == "__main__":
    main()
