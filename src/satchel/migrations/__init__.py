"""Migrations: Alembic underneath, configured in code, with renames and enum changes.

The app's project folder holds ``migrations/versions/`` and nothing else; Satchel's own
environment (``env.py``, the revision template) lives in this package. ``satchel db``
is the command line; :class:`Migrations` is the same from Python::

    from satchel.migrations import Migrations

    migrations = Migrations.for_app(app)
    migrations.make("add posts")
    migrations.upgrade()
"""

from satchel.migrations.core import Migrations, RevisionInfo
from satchel.migrations.environment import Step
from satchel.migrations.failures import MigrationError, MigrationFailed
from satchel.migrations.renames import Rename, RenameDecider, decide_all

__all__ = [
    "MigrationError",
    "MigrationFailed",
    "Migrations",
    "Rename",
    "RenameDecider",
    "RevisionInfo",
    "Step",
    "decide_all",
]
