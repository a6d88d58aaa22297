"""Account commands: ``createsuperuser``, ``changepassword`` and ``satchel auth ...``.

The app is found like ``satchel run`` finds it and must have ``Auth(app)``; its
database, user model, password hasher and rules are the ones the app uses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from satchel.cli.discovery import load_app

if TYPE_CHECKING:
    from satchel.app import App
    from satchel.auth.core import Auth

T = TypeVar("T")

USERNAME_ENV = "SATCHEL_SUPERUSER_USERNAME"
EMAIL_ENV = "SATCHEL_SUPERUSER_EMAIL"
PASSWORD_ENV = "SATCHEL_SUPERUSER_PASSWORD"  # noqa: S105 - the variable's name


def _auth(app: App) -> Auth:
    auth: Auth | None = app.extensions.get("auth")
    if auth is None:
        raise click.ClickException(
            "this app has no accounts: create Auth(app) (from satchel.auth) in the app module"
        )
    return auth


def _run(app: App, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work()`` inside the app's lifespan (its database is opened and closed there)."""

    async def main() -> T:
        async with app.running():
            return await work()

    return asyncio.run(main())


@contextmanager
def _account_errors() -> Iterator[None]:
    # Imported here: the account errors live in the auth battery, loaded only by these commands.
    from satchel.auth.core import AccountInvalid
    from satchel.auth.validators import PasswordInvalid

    try:
        yield
    except AccountInvalid as exc:
        lines = [f"{field}: {message}" for field, msgs in exc.errors.items() for message in msgs]
        raise click.ClickException("\n".join(lines)) from exc
    except PasswordInvalid as exc:
        raise click.ClickException("password: " + " ".join(exc.messages)) from exc


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _prompt_password(auth: Auth, username: str, email: str | None) -> str:
    # Imported here: see _account_errors.
    from satchel.auth.validators import PasswordInvalid

    while True:
        password = str(click.prompt("Password", hide_input=True))
        again = str(click.prompt("Password (again)", hide_input=True))
        if password != again:
            click.echo("Error: the two passwords didn't match.", err=True)
            continue
        try:
            auth.check_password_rules(password, username=username, email=email)
        except PasswordInvalid as exc:
            for message in exc.messages:
                click.echo(f"Error: {message}", err=True)
            continue
        return password


@click.command("createsuperuser")
@click.option("--username", help=f"The username (default: ${USERNAME_ENV} with --noinput).")
@click.option("--email", help=f"The email address (default: ${EMAIL_ENV} with --noinput).")
@click.option(
    "--noinput",
    "--no-input",
    "noinput",
    is_flag=True,
    help=f"Ask nothing: take the password from ${PASSWORD_ENV} (none: an unusable one).",
)
def createsuperuser(username: str | None, email: str | None, noinput: bool) -> None:
    """Create a superuser (staff, every permission)."""
    app = load_app(None)
    auth = _auth(app)
    password: str | None
    if noinput:
        username = username or os.environ.get(USERNAME_ENV)
        email = email or os.environ.get(EMAIL_ENV) or None
        password = os.environ.get(PASSWORD_ENV) or None
        if not username:
            raise click.ClickException(f"--noinput needs --username or ${USERNAME_ENV}")
    else:
        if not _interactive():
            raise click.ClickException(
                "no terminal to ask on: use --noinput with "
                f"${USERNAME_ENV}, ${EMAIL_ENV} and ${PASSWORD_ENV}"
            )
        username = username or str(click.prompt("Username"))
        if email is None:
            email = str(click.prompt("Email address", default="", show_default=False)) or None
        password = _prompt_password(auth, username, email)
    name = username

    async def create() -> Any:
        return await auth.create_user(name, password, email=email, is_superuser=True)

    with _account_errors():
        user = _run(app, create)
    click.echo(f"Superuser {user.username!r} created.")


@click.command("changepassword")
@click.argument("username")
def changepassword(username: str) -> None:
    """Set a new password for USERNAME (asked twice; its sessions are logged out)."""
    # Imported here: the account queries load SQLAlchemy, which `satchel --help` must not.
    from satchel.auth.backend import users as queries

    app = load_app(None)
    auth = _auth(app)

    async def find() -> Any:
        statement = queries.by_login(auth.user_model, username)
        if statement is None:
            return None
        async with auth.session() as db:
            return (await db.execute(statement)).scalar()

    user = _run(app, find)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    click.echo(f"Changing the password of {user.username!r}.")
    password = _prompt_password(auth, user.username, user.email)

    async def change() -> None:
        await auth.set_password(user, password, validate=False)

    with _account_errors():
        _run(app, change)
    click.echo(f"Password changed for {user.username!r}.")


@click.group("auth")
def auth() -> None:
    """Manage accounts: migrations, permissions, API tokens."""


@auth.command("migrate")
@click.argument("revision", default="head", metavar="[REV]")
def migrate(revision: str) -> None:
    """Create or update the account tables (run before `satchel db migrate`)."""
    # Imported here: migrations load Alembic, which only this command needs.
    from satchel.auth.migrate import migrate as run_migrations
    from satchel.migrations import MigrationError, Step

    app = load_app(None)
    database = _auth(app).database

    def report(step: Step) -> None:
        click.echo(f"Applied {step.revision}  {step.message.strip().splitlines()[0]}")

    try:
        at = run_migrations(database, revision, on_step=report)
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()
    click.echo(f"The account tables are at {', '.join(at) or 'base'}.")


@auth.command("sync-permissions")
def sync_permissions() -> None:
    """Create the add/change/delete/view (and declared) permissions every model lacks."""
    # Imported here: see changepassword.
    from satchel.auth.permissions import async_sync_permissions

    app = load_app(None)
    accounts = _auth(app)

    async def sync() -> list[str]:
        async with accounts.session() as db:
            return await async_sync_permissions(db)

    created = _run(app, sync)
    for codename in created:
        click.echo(f"Created {codename}")
    click.echo(f"{len(created)} permission{'s' if len(created) != 1 else ''} created.")


@auth.command("create-token")
@click.argument("username")
@click.argument("name")
@click.option("--days", type=click.IntRange(min=1), help="Expire after this many days.")
def create_token(username: str, name: str, days: int | None) -> None:
    """Create an API token called NAME for USERNAME and print it (this once only)."""
    # Imported here: see changepassword.
    from satchel.auth.backend import users as queries

    app = load_app(None)
    accounts = _auth(app)
    expires = dt.timedelta(days=days) if days else None

    async def create() -> str | None:
        statement = queries.by_login(accounts.user_model, username)
        if statement is None:
            return None
        async with accounts.session() as db:
            user = (await db.execute(statement)).scalar()
            if user is None:
                return None
            return await accounts.create_token(user, name, expires=expires, session=db)

    try:
        token = _run(app, create)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if token is None:
        raise click.ClickException(f"no user {username!r}")
    click.echo(token)


__all__ = ["auth", "changepassword", "createsuperuser"]
