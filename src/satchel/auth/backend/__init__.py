"""How accounts are stored and read: user lookups, permissions and the login session.

- ``satchel.auth.backend.users``: the queries (by login name, by id, permissions).
- ``satchel.auth.backend.sessions``: what a login keeps in ``request.session``.
"""
