"""``satchel check`` findings about accounts (ids ``auth.*``), registered by ``Auth(app)``.

| id | level | when |
|---|---|---|
| ``auth.E001`` | error | the app has accounts but no database |
| ``auth.E002`` | error | the login pages are on but sessions are off |
| ``auth.W001`` | warning, deploy | the password hasher is weaker than OWASP's minimum |
| ``auth.W002`` | warning, deploy | sessions are shared through Redis, login counts are not |
| ``auth.W003`` | warning, deploy | reset mails go to the console or to memory |
| ``auth.W004`` | warning, deploy | the auth migrations are not applied to the database |
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from satchel.security import checks


def _auth(app: Any) -> Any:
    return app.extensions.get("auth")


@checks.register
def auth_configuration(app: Any) -> Iterator[checks.CheckMessage]:
    """Check what accounts need from the app."""
    auth = _auth(app)
    if auth is None:
        return
    if app.extensions.get("database") is None:
        yield checks.error(
            "auth.E001",
            "Accounts need the app's database, and the app has none.",
            hint="App(database=Database(...)), or database.init_app(app).",
        )
    if auth.login_path is not None and app.extensions.get("sessions") is None:
        yield checks.error(
            "auth.E002",
            "The login pages keep the login in the session, and sessions are turned off.",
            hint="Leave sessions_enabled on, or use Auth(app, views=False) for an API.",
        )


@checks.register(deploy=True)
def auth_deployment(app: Any) -> Iterator[checks.CheckMessage]:
    """Check the accounts settings that matter in production."""
    auth = _auth(app)
    if auth is None:
        return
    if auth.hasher.below_recommendation:
        yield checks.warning(
            "auth.W001",
            f"The password hasher ({auth.hasher!r}) is weaker than OWASP's argon2id minimum.",
            hint="Use the default PasswordHasher(); cheap ones are for tests.",
        )
    if app.settings.session_store == "redis" and auth.throttle.kind == "memory":
        yield checks.warning(
            "auth.W002",
            "Sessions are shared through Redis, but login attempts are counted per process: "
            "each worker and host allows its own share of guesses.",
            hint='Auth(app, throttle_store="redis").',
        )
    if not app.debug and app.settings.email_backend in ("console", "memory"):
        yield checks.warning(
            "auth.W003",
            f"email_backend is {app.settings.email_backend!r}: password reset mails never "
            "reach anyone.",
            hint="Set email_backend='smtp' and the email_host settings.",
        )
    pending = _pending_migrations(auth)
    if pending:
        yield checks.warning(
            "auth.W004",
            f"The account tables are not up to date: {', '.join(pending)} not applied.",
            hint="Run `satchel auth migrate`.",
        )


def _pending_migrations(auth: Any) -> list[str]:
    if auth.app.extensions.get("database") is None:
        return []
    # Imported here: Alembic loads only for the deploy checks.
    from satchel.auth.migrate import auth_migrations

    try:
        return auth_migrations(auth.database).pending()
    except Exception:  # an unreachable database has its own check and error
        return []


__all__ = ["auth_configuration", "auth_deployment"]
