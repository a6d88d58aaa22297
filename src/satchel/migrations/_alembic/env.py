"""Alembic's entry point: Alembic executes this file; the work is in ``environment.py``."""

from satchel.migrations.environment import run_environment

run_environment()
