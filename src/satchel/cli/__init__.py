"""The ``satchel`` command line; the entry point is :func:`satchel.cli.main.main`.

This package stays import-light: ``satchel --help`` must not import the framework.
"""

APP_ENV_VAR = "SATCHEL_APP"
"""Environment variable holding the app spec when a command is given none."""

__all__ = ["APP_ENV_VAR"]
