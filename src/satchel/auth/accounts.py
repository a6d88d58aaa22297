"""What ``Auth`` does with accounts: check passwords, log in and out, create users, tokens.

:class:`Accounts` is the half of :class:`~satchel.auth.Auth` that works on users and
their sessions; ``core.py`` holds the other half (wiring into the app, the request's
user). Every method that writes takes an optional ``session=`` (an ``AsyncSession``):
given, the work joins it and the caller commits; omitted, a session of the app's
database is opened and committed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from satchel.auth import apitokens
from satchel.auth.anonymous import ANONYMOUS
from satchel.auth.backend import sessions as login_session
from satchel.auth.backend import users as queries
from satchel.auth.models import User
from satchel.auth.normalize import UsernameValidator, normalize_username, validate_email_address
from satchel.auth.passwords import PasswordHasher
from satchel.auth.validators import PasswordInvalid, PasswordValidator, validate_password
from satchel.exceptions import ImproperlyConfigured
from satchel.security.csrf import rotate_csrf_token

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from satchel.app import App
    from satchel.http.request import Request


#: Execution options of reads that never write (other databases ignore the option).
READ_ONLY = {"sqlite_begin": "DEFERRED"}


def _begin_reading(session: Any) -> None:
    session.connection(execution_options=READ_ONLY)


class AccountInvalid(ValueError):
    """A user could not be created or changed; ``errors`` maps each field to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items()))
        self.errors = errors


class Accounts:
    """Users, passwords, logins and API tokens of one app (the base of ``Auth``)."""

    app: App
    user_model: type[User]
    hasher: PasswordHasher
    password_validators: Sequence[PasswordValidator] | None
    username_validator: UsernameValidator
    login_max_age: int
    token_prefix: str
    _secrets: list[str]

    @property
    def database(self) -> Any:
        """The app's :class:`satchel.db.Database` (accounts live in it)."""
        database = self.app.extensions.get("database")
        if database is None:
            raise ImproperlyConfigured(
                "accounts need the app's database: App(database=Database(...)) "
                "(or database.init_app(app))"
            )
        return database

    @contextlib.asynccontextmanager
    async def session(self, existing: AsyncSession | None = None) -> AsyncIterator[AsyncSession]:
        """Yield ``existing``, or a new ``AsyncSession`` committed at the end."""
        if existing is not None:
            yield existing
            return
        async with self.database.async_session() as created:
            yield created

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """Yield a session for reads only: not committed, and no write lock on SQLite.

        SQLite transactions of the app's engines begin ``IMMEDIATE`` (taking the write
        lock, so that a read-then-write can't fail half-way); a read that will never
        write asks for a deferred one, so logged-in requests don't queue for the lock.
        """
        database = self.database
        db = database.new_async_session()
        try:
            if database.url.get_backend_name() == "sqlite":
                # Through run_sync: AsyncSession.connection() would wrap the connection in
                # an AsyncConnection, which a test's shared sync connection can't be.
                # Elsewhere nothing is forced, so a read may skip BEGIN altogether.
                await db.run_sync(_begin_reading)
            yield db
        finally:
            await db.close()

    @property
    def run_sync(self) -> Callable[..., Any]:
        """The app's thread pool runner (hashing runs there)."""
        return self.app.run_sync

    # -- logging in and out ------------------------------------------------------------

    async def authenticate(
        self, login: str, password: str, *, session: AsyncSession | None = None
    ) -> Any:
        """Return the active user ``login`` (username or email) and ``password`` name, or ``None``.

        Takes the same time when the user doesn't exist (a dummy argon2 check), and
        rehashes a password stored with old parameters (or Django's formats).
        """
        statement = queries.by_login(self.user_model, login)
        async with self.session(session) as db:
            user = (await db.execute(statement)).scalar() if statement is not None else None
            if user is None:
                await self.hasher.adummy_verify(password, run_sync=self.run_sync)
                return None
            if not await self.hasher.averify(password, user.password, run_sync=self.run_sync):
                return None
            if not user.is_active:
                return None
            if self.hasher.needs_rehash(user.password):
                await self._store_password(db, user, password)
        return user

    def session_hash(self, user: Any) -> str:
        """Return the session auth hash for ``user``'s current password."""
        return login_session.session_auth_hash(user.password, self._secrets[0])

    async def login(
        self,
        request: Request,
        user: Any,
        *,
        remember: bool = False,
        session: AsyncSession | None = None,
    ) -> None:
        """Log ``user`` in: new session key and CSRF secret, ``last_login`` now.

        Without ``remember`` the login ends after ``login_max_age`` seconds; with it, it
        lasts as long as the session (``session_max_age``, renewed with use).
        """
        now = dt.datetime.now(dt.UTC)
        async with self.session(session) as db:
            await db.execute(
                queries.set_columns(self.user_model, user.id, last_login=now).execution_options(
                    synchronize_session=False
                )
            )
        set_committed_value(user, "last_login", now)
        store = request.session
        store.cycle_key()
        rotate_csrf_token(request)
        max_age = None if remember else self.login_max_age
        login_session.remember(store, user.id, self.session_hash(user), max_age)
        request._user = user

    def logout(self, request: Request) -> None:
        """Log the request's user out: the whole session is deleted."""
        request.session.invalidate()
        request._user = ANONYMOUS

    def update_session_auth_hash(self, request: Request, user: Any) -> None:
        """Keep ``request``'s session logged in after ``user``'s password changed.

        Every other session of the user is logged out on its next request.
        """
        store = request.session
        store.cycle_key()
        store[login_session.HASH_KEY] = self.session_hash(user)

    # -- users -------------------------------------------------------------------------

    def check_password_rules(
        self, password: str, *, username: str | None, email: str | None
    ) -> None:
        """Raise ``PasswordInvalid`` if ``password`` breaks the app's password rules."""
        validate_password(
            password, username=username, email=email, validators=self.password_validators
        )

    async def create_user(
        self,
        username: str,
        password: str | None = None,
        *,
        email: str | None = None,
        is_staff: bool = False,
        is_superuser: bool = False,
        validate: bool = True,
        session: AsyncSession | None = None,
        **fields: Any,
    ) -> Any:
        """Create, flush and return a user (``AccountInvalid`` lists what is wrong).

        ``password=None`` gives an unusable password (set one by a reset). ``validate``
        applies the password rules; the username and email rules always apply.
        """
        errors: dict[str, list[str]] = {}
        name = normalize_username(username) if isinstance(username, str) else ""
        if problems := self.username_validator(name):
            errors["username"] = problems
        address = None
        if email:
            address, problems = validate_email_address(email)
            if problems:
                errors["email"] = problems
        if password is not None and validate:
            try:
                self.check_password_rules(password, username=name, email=address)
            except PasswordInvalid as exc:
                errors["password"] = exc.messages
        if errors:
            raise AccountInvalid(errors)
        user = self.user_model(
            username=name,
            email=address,
            is_active=True,
            is_staff=is_staff or is_superuser,
            is_superuser=is_superuser,
            date_joined=dt.datetime.now(dt.UTC),
            **fields,
        )
        if password is None:
            user.set_unusable_password()
        else:
            user.password = await self.hasher.ahash(password, run_sync=self.run_sync)
        async with self.session(session) as db:
            await self._check_unique(db, user)
            db.add(user)
            await db.flush()
        return user

    async def _check_unique(self, db: AsyncSession, user: Any) -> None:
        model = self.user_model
        errors: dict[str, list[str]] = {}
        if await db.scalar(select(model.id).where(model.username_key == user.username_key)):
            errors["username"] = ["A user with that username already exists."]
        if user.email_key is not None and await db.scalar(
            select(model.id).where(model.email_key == user.email_key)
        ):
            errors["email"] = ["A user with that email address already exists."]
        if errors:
            raise AccountInvalid(errors)

    async def set_password(
        self,
        user: Any,
        raw: str,
        *,
        validate: bool = True,
        session: AsyncSession | None = None,
    ) -> None:
        """Hash ``raw`` and store it as ``user``'s password (``PasswordInvalid`` breaks a rule).

        Every session of the user is logged out, except one passed to
        :meth:`update_session_auth_hash` afterwards.
        """
        if validate:
            self.check_password_rules(raw, username=user.username, email=user.email)
        async with self.session(session) as db:
            await self._store_password(db, user, raw)

    async def _store_password(self, db: AsyncSession, user: Any, raw: str) -> None:
        hashed = await self.hasher.ahash(raw, run_sync=self.run_sync)
        await db.execute(
            queries.set_columns(self.user_model, user.id, password=hashed).execution_options(
                synchronize_session=False
            )
        )
        set_committed_value(user, "password", hashed)

    # -- API tokens --------------------------------------------------------------------

    async def create_token(
        self,
        user: Any,
        name: str,
        *,
        expires: dt.datetime | dt.timedelta | None = None,
        session: AsyncSession | None = None,
    ) -> str:
        """Create an API token for ``user``; return its plaintext, to show exactly once."""
        return await apitokens.create_token(self, user, name, expires=expires, session=session)

    async def revoke_token(self, token: str | int, *, session: AsyncSession | None = None) -> bool:
        """Revoke a token (its plaintext or row id); return whether one was revoked."""
        return await apitokens.revoke_token(self, token, session=session)

    async def list_tokens(self, user: Any, *, session: AsyncSession | None = None) -> list[Any]:
        """Return ``user``'s tokens, newest first."""
        return await apitokens.list_tokens(self, user, session=session)


__all__ = ["AccountInvalid", "Accounts"]
