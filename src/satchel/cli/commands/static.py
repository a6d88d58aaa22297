"""``satchel collectstatic``: gather static files into ``static_root`` with hashed names."""

from __future__ import annotations

import os

import click

from satchel.cli.discovery import load_app
from satchel.exceptions import ImproperlyConfigured
from satchel.templates.assets import static_root
from satchel.templates.collect import collect_static


@click.command("collectstatic")
@click.argument("app", required=False, metavar="[APP]")
@click.option(
    "--clear", is_flag=True, help="Empty static_root first (drops hashed copies of old versions)."
)
@click.option("--no-input", is_flag=True, help="Do not ask before --clear deletes files.")
@click.option("-v", "--verbose", is_flag=True, help="List overridden and ignored files.")
def collectstatic(app: str | None, clear: bool, no_input: bool, verbose: bool) -> None:
    """Copy APP's static files into settings.static_root, with hashed copies and a manifest.

    With debug off, static("site.css") in a template then gives "site.<hash>.css",
    which serve_static(app) serves with a one-year immutable Cache-Control.
    """
    application = load_app(app)
    root = static_root(application)
    if clear and os.path.isdir(root) and not no_input:
        click.confirm(f"Delete everything in {root}?", abort=True)
    try:
        result = collect_static(application, clear=clear)
    except ImproperlyConfigured as exc:
        raise click.ClickException(str(exc)) from exc
    if verbose:
        for path in result.overridden:
            click.echo(f"overridden (an earlier folder has it): {path}")
        for path in result.ignored:
            click.echo(f"ignored: {path}")
    count = len(result.paths)
    click.echo(f"Collected {count} file{'s' if count != 1 else ''} into {result.root}")


__all__ = ["collectstatic"]
