"""``satchel sessions``: manage the sessions a server-side store keeps."""

from __future__ import annotations

import asyncio

import click

from satchel.cli.discovery import load_app


@click.group("sessions")
def sessions() -> None:
    """Manage stored sessions."""


@sessions.command("clear")
@click.argument("app", required=False, metavar="[APP]")
def clear(app: str | None) -> None:
    """Delete expired sessions from APP's store (run it daily, from cron or a timer).

    The cookie store keeps nothing on the server and Redis expires keys itself,
    so for them there is nothing to do.
    """
    application = load_app(app)
    application.freeze()
    store = application.extensions.get("sessions")
    if store is None:
        raise click.ClickException("sessions are turned off for this app (sessions_enabled)")
    kind = application.settings.session_store
    if kind != "database":
        click.echo(f"The {kind} store keeps no expired sessions on the server: nothing to delete.")
        return

    async def run() -> int:
        # The app's lifespan opens (and then closes) what the store needs, as in a request.
        async with application.running():
            return int(await store.clear_expired())

    count = asyncio.run(run())
    click.echo(f"Deleted {count} expired session{'s' if count != 1 else ''}.")


__all__ = ["clear", "sessions"]
