"""``satchel check [--deploy]``: report what would go wrong when the app runs."""

from __future__ import annotations

import click

from satchel.cli.discovery import load_app
from satchel.security.checks import LEVEL_NAMES, CheckMessage, run_checks

_LEVELS = {name: level for level, name in LEVEL_NAMES.items()}
_SECTION = {
    "CRITICAL": "CRITICAL",
    "ERROR": "ERRORS",
    "WARNING": "WARNINGS",
    "INFO": "INFO",
    "DEBUG": "DEBUG",
}


def format_report(messages: list[CheckMessage]) -> str:
    """Return the messages grouped by level, most serious first, with a summary line."""
    if not messages:
        return "System check found no issues."
    lines: list[str] = []
    for level in sorted({m.level for m in messages}, reverse=True):
        name = LEVEL_NAMES.get(level, str(level))
        lines.append(f"{_SECTION.get(name, name)}:")
        for message in sorted((m for m in messages if m.level == level), key=lambda m: m.id):
            lines.append(f"  {message.id}: {message.msg}")
            if message.hint:
                lines.append(f"      HINT: {message.hint}")
        lines.append("")
    count = len(messages)
    lines.append(f"System check found {count} issue{'s' if count != 1 else ''}.")
    return "\n".join(lines)


@click.command("check")
@click.argument("app", required=False, metavar="[APP]")
@click.option("--deploy", is_flag=True, help="Also run the checks for a production deployment.")
@click.option(
    "--fail-level",
    type=click.Choice(["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"], case_sensitive=False),
    default="ERROR",
    show_default=True,
    help="Exit with status 1 on a message at this level or above.",
)
def check(app: str | None, deploy: bool, fail_level: str) -> None:
    """Run the startup checks of APP (and the deploy checks with --deploy).

    Settings are read as the server would read them: run it with the production
    environment (SATCHEL_* variables or .env) to check a deployment.
    """
    application = load_app(app)
    messages = run_checks(application, deploy=deploy)
    click.echo(format_report(messages))
    if not deploy and not messages:
        click.echo("Run `satchel check --deploy` with production settings before deploying.")
    threshold = _LEVELS[fail_level.upper()]
    if any(m.level >= threshold for m in messages):
        raise SystemExit(1)


__all__ = ["check", "format_report"]
