"""``satchel run`` (development server) and ``satchel serve`` (production server).

Both run granian through its Python API. The app is passed to granian as a spec
string and imported in each worker by :func:`load_worker_app`, so the reloader
process of ``satchel run`` never imports the project and every reload starts
from fresh modules.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from granian import Granian
from granian.constants import Interfaces
from granian.http import HTTP1Settings

from satchel.cli import APP_ENV_VAR
from satchel.cli.discovery import check_findable, load_app, resolve_spec
from satchel.exceptions import ImproperlyConfigured

DEBUG_ENV_VAR = "SATCHEL_DEBUG"
"""The App reads its default ``debug`` from this variable; ``satchel run`` sets it."""

INTERFACES = ("rsgi", "asgi")

# Besides Python files, a change to configuration restarts the dev server; data
# files (a SQLite database in the project directory, logs, uploads) must not.
_RELOAD_EXTRA_EXTENSIONS = (".toml", ".env", ".ini", ".cfg")
_RELOAD_IGNORE_DIRS = ("venv", "env", ".ruff_cache", ".nox", "build", "dist")


def load_worker_app(spec: str) -> Any:
    """Import the app named by ``spec`` inside a server worker process.

    A spec that does not lead to an app prints the reason and ends the worker with
    status 1 (the reloader of ``satchel run`` then waits for the next change).
    """
    try:
        return load_app(spec)
    except click.ClickException as exc:
        exc.show()
        sys.exit(1)


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _reload_filter() -> type[Any]:
    # watchfiles is granian's optional ``reload`` extra: imported only when
    # autoreload is on so that ``satchel serve`` works without it.
    try:
        from watchfiles import PythonFilter
    except ImportError:
        raise click.ClickException(
            "Autoreload needs watchfiles: pip install 'granian[reload]' (or pass --no-reload)."
        ) from None

    class SatchelReloadFilter(PythonFilter):
        """Watch Python and configuration files; skip virtualenvs and caches."""

        ignore_dirs = (*PythonFilter.ignore_dirs, *_RELOAD_IGNORE_DIRS)

        def __init__(self) -> None:
            super().__init__(extra_extensions=_RELOAD_EXTRA_EXTENSIONS)

    return SatchelReloadFilter


def _check_startup(application: Any) -> None:
    # ``check_startup`` arrives with the deploy-checks battery; an app without it
    # has nothing to check.
    check = getattr(application, "check_startup", None)
    if not callable(check):
        return
    try:
        check()
    except ImproperlyConfigured as exc:
        raise click.ClickException(str(exc)) from exc


_host_option = click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind."
)
_port_option = click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to bind."
)
_interface_option = click.option(
    "--interface",
    type=click.Choice(INTERFACES),
    default="rsgi",
    show_default=True,
    help="Protocol between granian and the app; RSGI is the faster path.",
)


#: Bound what one request's head may hold: granian's default read buffer (408 KiB)
#: lets a client send megabyte-long header sections; 64 KiB is plenty for real ones.
HTTP1_SETTINGS = HTTP1Settings(max_buffer_size=64 * 1024)


@click.command("run")
@click.argument("app", required=False, metavar="[APP]")
@_host_option
@_port_option
@click.option(
    "--reload/--no-reload", default=True, show_default=True, help="Restart when code changes."
)
@_interface_option
def run(app: str | None, host: str, port: int, reload: bool, interface: str) -> None:
    """Run APP with the development server: debug on, autoreload, one worker.

    APP is module:attr or path/to/file.py[:attr]; default: $SATCHEL_APP, else
    app.py or main.py in the current directory.
    """
    spec = resolve_spec(app)
    # A typo in the module name is reported now rather than by a worker that the
    # reloader would keep restarting.
    check_findable(spec)
    # Set before any worker imports the app, so App() picks debug up by default.
    os.environ[DEBUG_ENV_VAR] = "1"
    reload_filter = _reload_filter() if reload else None
    click.echo(
        f"Satchel development server at {_url(host, port)} "
        f"(debug on, autoreload {'on' if reload else 'off'}). "
        "Don't use it in production: use `satchel serve`."
    )
    server = Granian(
        spec,
        address=host,
        port=port,
        interface=Interfaces(interface),
        workers=1,
        log_access=True,
        reload=reload,
        reload_paths=[Path.cwd()],
        reload_filter=reload_filter,
        # A syntax error while editing must not stop the server: the next save
        # that fixes it brings the worker back.
        reload_ignore_worker_failure=True,
        http1_settings=HTTP1_SETTINGS,
    )
    server.serve(target_loader=load_worker_app)


@click.command("serve")
@click.argument("app", envvar=APP_ENV_VAR, metavar="APP")
@_host_option
@_port_option
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes (each runs its own event loop).",
)
@_interface_option
@click.option(
    "--backlog",
    default=1024,
    show_default=True,
    type=click.IntRange(min=128),
    help="Connections the OS queues before accepting.",
)
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Granian I/O threads per worker; Python code still runs on one event loop per worker.",
)
@click.option(
    "--shutdown-timeout",
    default=30,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds a worker may spend finishing requests after SIGTERM before it is killed.",
)
@click.option("--access-log/--no-access-log", default=False, help="Log every request.")
def serve(
    app: str,
    host: str,
    port: int,
    workers: int,
    interface: str,
    backlog: int,
    threads: int,
    shutdown_timeout: int,
    access_log: bool,
) -> None:
    """Serve APP in production with granian: several workers, graceful shutdown.

    APP is module:attr or path/to/file.py[:attr] (or $SATCHEL_APP). The app is
    imported once here to validate it and run its startup checks; SIGTERM or
    SIGINT stops the server after in-flight requests finish.
    """
    application = load_app(app)
    _check_startup(application)
    if getattr(application, "debug", False):
        click.secho(
            f"Warning: the app has debug on (is {DEBUG_ENV_VAR} set?). Debug pages leak "
            "source code and settings; turn it off in production.",
            fg="yellow",
            err=True,
        )
    if interface == "rsgi" and not hasattr(application, "__rsgi__"):
        click.echo("The app has no RSGI entry point; serving it over ASGI.", err=True)
        interface = "asgi"
    click.echo(
        f"Satchel serving {app} at {_url(host, port)} "
        f"({workers} worker{'s' if workers != 1 else ''}, {interface})."
    )
    server = Granian(
        app,
        address=host,
        port=port,
        interface=Interfaces(interface),
        workers=workers,
        backlog=backlog,
        runtime_threads=threads,
        workers_kill_timeout=shutdown_timeout,
        log_access=access_log,
        http1_settings=HTTP1_SETTINGS,
    )
    server.serve(target_loader=load_worker_app)


__all__ = ["DEBUG_ENV_VAR", "INTERFACES", "load_worker_app", "run", "serve"]
