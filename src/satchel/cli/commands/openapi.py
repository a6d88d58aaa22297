"""``satchel openapi``: write an app's OpenAPI document to stdout or a file."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from satchel.cli.discovery import load_app
from satchel.openapi import generate_openapi


@click.command("openapi")
@click.argument("app", required=False, metavar="[APP]")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the document to this file instead of stdout.",
)
@click.option("--compact", is_flag=True, help="One line of JSON instead of indented.")
def openapi(app: str | None, output: Path | None, compact: bool) -> None:
    """Write the OpenAPI document of APP (module:attr; default: $SATCHEL_APP, app.py or main.py).

    Works whether or not the app serves /openapi.json (it need not run in debug).
    """
    application = load_app(app)
    document = generate_openapi(application)
    option = orjson.OPT_APPEND_NEWLINE | (0 if compact else orjson.OPT_INDENT_2)
    data = orjson.dumps(document, option=option)
    if output is None:
        click.echo(data.decode(), nl=False)
        return
    output.write_bytes(data)
    click.echo(f"Wrote {output} ({len(document.get('paths', {}))} paths).", err=True)


__all__ = ["openapi"]
