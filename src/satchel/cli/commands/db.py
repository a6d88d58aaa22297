"""``satchel db``: make, apply, revert, list and check migrations.

The app is found like ``satchel run`` finds it (``--app``, ``$SATCHEL_APP``, ``app.py``
or ``main.py``); its database and models come from ``App(database=...)``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from satchel.cli.discovery import load_app
from satchel.exceptions import ImproperlyConfigured
from satchel.migrations import MigrationError, Migrations, Rename, RenameDecider, Step


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (MigrationError, ImproperlyConfigured) as exc:
        raise click.ClickException(str(exc)) from exc
    except SQLAlchemyError as exc:
        # Connecting failed, or reading the version table did: say so in one line.
        detail = str(getattr(exc, "orig", None) or exc).strip().partition("\n")[0]
        raise click.ClickException(f"The database could not be used: {detail}") from exc


def _migrations() -> Migrations:
    return Migrations.for_app(load_app(None))


@click.group("db")
def db() -> None:
    """Manage the database and its migrations."""


@db.command("makemigrations")
@click.option("-m", "--message", required=True, help="What the migration does.")
@click.option(
    "--rename/--no-rename",
    default=None,
    help="Answer yes (or no) to every 'Did you rename X to Y?' question.",
)
@click.option("--empty", is_flag=True, help="Write a migration with no operations, to edit.")
def makemigrations(message: str, rename: bool | None, empty: bool) -> None:
    """Write a migration from the changes to the models."""
    if not message.strip():
        raise click.BadParameter("say what the migration does", param_hint="'-m'")
    migrations = _migrations()
    with _errors():
        path = migrations.make(message, empty=empty, rename=_decider(rename))
    if path is None:
        click.echo("No changes detected.")
        return
    click.echo(f"Wrote {_shown(path)}")


def _decider(answer: bool | None) -> RenameDecider:
    def decide(rename: Rename) -> bool:
        if answer is not None:
            choice = answer
        elif _interactive():
            choice = click.confirm(rename.question(), default=False)
        else:
            click.echo(
                f"{rename.question()} [y/N]: N (no terminal to ask; "
                "--rename answers yes, --no-rename no)"
            )
            choice = False
        if choice:
            click.echo(f"Renaming {rename}.")
        return choice

    return decide


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


@db.command("migrate")
@click.argument("revision", default="head", metavar="[REV]")
def migrate(revision: str) -> None:
    """Apply migrations up to REV (default: the latest)."""
    migrations = _migrations()
    with _errors():
        before = migrations.current()
        migrations.upgrade(revision, on_step=_report("Applied"))
        after = migrations.current()
    if before == after:
        click.echo(f"Nothing to migrate: the database is at {_at(after)}.")
    else:
        click.echo(f"The database is at {_at(after)}.")


@db.command("downgrade")
@click.argument("revision", default="-1", metavar="[REV]")
def downgrade(revision: str) -> None:
    """Revert migrations down to REV (default: -1, one step; 'base': all)."""
    migrations = _migrations()
    with _errors():
        if not migrations.current():
            click.echo("Nothing to downgrade: no migration is applied.")
            return
        migrations.downgrade(revision, on_step=_report("Reverted"))
        after = migrations.current()
    click.echo(f"The database is at {_at(after)}.")


def _report(verb: str) -> Callable[[Step], None]:
    def report(step: Step) -> None:
        click.echo(f"{verb} {step.revision}  {_first_line(step.message)}".rstrip())

    return report


def _first_line(text: str) -> str:
    return text.strip().partition("\n")[0]


def _at(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) if revisions else "base (no migration applied)"


@db.command("history")
def history() -> None:
    """List the migrations, oldest first; [X] marks the applied ones."""
    migrations = _migrations()
    with _errors():
        revisions = migrations.history()
    if not revisions:
        click.echo("No migrations yet: run `satchel db makemigrations -m MESSAGE`.")
        return
    width = max(len(info.revision) for info in revisions)
    for info in revisions:
        marks = [name for name, on in (("current", info.is_current), ("head", info.is_head)) if on]
        suffix = f"  ({', '.join(marks)})" if marks else ""
        box = "[X]" if info.is_applied else "[ ]"
        click.echo(f"{box} {info.revision.ljust(width)}  {_first_line(info.message)}{suffix}")


@db.command("current")
def current() -> None:
    """Show the revision the database is at."""
    migrations = _migrations()
    with _errors():
        revisions = migrations.history()
        at = migrations.current()
    if not at:
        click.echo("No migration applied (the database is at base).")
    for info in revisions:
        if info.is_current:
            head = "  (head)" if info.is_head else ""
            click.echo(f"{info.revision}  {_first_line(info.message)}{head}")
    pending = [info for info in revisions if not info.is_applied]
    if pending:
        noun = "migration" if len(pending) == 1 else "migrations"
        click.echo(f"{len(pending)} {noun} not applied: run `satchel db migrate`.")


@db.command("check")
def check() -> None:
    """Exit non-zero if the models and the migrations differ (for CI)."""
    migrations = _migrations()
    with _errors():
        pending = migrations.pending()
        problems = [] if pending else migrations.check()
    if pending:
        click.echo(f"The database is not at the latest migration ({', '.join(pending)} pending).")
        click.echo("Run `satchel db migrate` first: the check compares the models with it.")
        raise click.exceptions.Exit(1)
    if not problems:
        click.echo("The models and the migrations are in sync.")
        return
    click.echo("The models and the migrations differ:")
    for problem in problems:
        click.echo(f"  - {problem}")
    click.echo("Run `satchel db makemigrations -m MESSAGE` (and `satchel db migrate`).")
    raise click.exceptions.Exit(1)


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


__all__ = ["db"]
