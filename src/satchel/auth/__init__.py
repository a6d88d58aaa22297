"""Accounts: passwords, validators, reset and API tokens, mail, login throttling.

The pieces live in their own modules and load only when imported (argon2, itsdangerous
and redis are not imported by ``import satchel.auth``):

- ``satchel.auth.passwords``: argon2id hashing, Django hash import, unusable passwords.
- ``satchel.auth.validators``: password rules and ``validate_password``.
- ``satchel.auth.tokens``: password-reset tokens and API tokens.
- ``satchel.auth.mail``: email messages and backends (console, file, SMTP, memory).
- ``satchel.auth.throttle``: login throttling with a memory or Redis store.
"""
