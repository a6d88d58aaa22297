"""The Alembic script location Satchel runs from: ``env.py`` and the revision template.

Alembic loads ``env.py`` by path; the project's own ``migrations/`` folder holds only
revision files.
"""
