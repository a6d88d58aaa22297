"""The account pages: log in, log out, change the password (reset lives in ``reset.py``).

They form a module named ``auth`` (route names ``auth.login``, ``auth.logout``,
``auth.password_change``, ``auth.password_change_done``, ``auth.password_reset``,
``auth.password_reset_confirm``) whose templates are in this package's
``templates/auth/``; a template of the same name in the project's ``templates/auth/``
replaces one. Every answer to a wrong login is the same, whether the account exists,
is inactive or the password is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from satchel.auth.forms import LoginForm, PasswordChangeForm
from satchel.auth.guards import login_required
from satchel.auth.limits import client_address
from satchel.auth.normalize import username_key
from satchel.auth.validators import PasswordInvalid, password_help_texts
from satchel.http.request import Request
from satchel.http.response import RedirectResponse, Response
from satchel.module import Module
from satchel.security.redirects import is_safe_url
from satchel.sessions import flash
from satchel.templates import render

if TYPE_CHECKING:
    from satchel.auth.core import Auth

PACKAGE_DIR = Path(__file__).parent
WRONG_LOGIN = "Please enter a correct username (or email) and password."
#: Pages with secrets in their URL or form must not be cached or leak through Referer.
#: ``same-origin``, not ``no-referrer``: under ``no-referrer`` browsers send
#: ``Origin: null`` with the page's own form, which the CSRF check rightly refuses.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin"}


def too_many(wait: int) -> str:
    """Return the message shown when attempts are throttled."""
    return f"Too many attempts. Please try again in {wait} seconds."


class AccountViews:
    """The handlers of the account pages, bound to one :class:`Auth`."""

    def __init__(self, auth: Auth) -> None:
        self.auth = auth

    def page(
        self,
        request: Request,
        name: str,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> Response:
        """Render an account page (``site_name`` is the app's title)."""
        context.setdefault("site_name", self.auth.app.settings.title)
        return render(
            request,
            name,
            status_code=status_code,
            headers={**PRIVATE_HEADERS, **(headers or {})},
            **context,
        )

    def login_url(self, request: Request) -> str:
        """Return the login page's URL path."""
        return request.root_path + str(self.auth.login_path)

    def rules(self) -> list[str]:
        """Return the password rules, described for people."""
        return password_help_texts(self.auth.password_validators)

    # -- log in and out ----------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        """Show the login form; log in on a correct POST (throttled, no enumeration)."""
        auth = self.auth
        form = await LoginForm.from_request(request)
        raw_next = form.raw.get("next") if form.is_bound else request.query.get("next")
        next_url = raw_next if isinstance(raw_next, str) and _on_site(raw_next, request) else ""
        if not form.is_bound:
            return self.page(request, "auth/login.html", form=form, next=next_url)
        if not form.is_valid():
            return self.page(
                request, "auth/login.html", status_code=400, form=form, next=next_url,
                error=WRONG_LOGIN,
            )  # fmt: skip
        data = form.data
        key = username_key(data.username)
        wait = await auth.throttle.login_attempt(key, client_address(request))
        if wait is not None:
            return self.page(
                request, "auth/login.html", status_code=429, headers={"Retry-After": str(wait)},
                form=form, next=next_url, error=too_many(wait),
            )  # fmt: skip
        user = await auth.authenticate(data.username, data.password)
        if user is None:
            return self.page(
                request, "auth/login.html", status_code=400, form=form, next=next_url,
                error=WRONG_LOGIN,
            )  # fmt: skip
        await auth.throttle.login_succeeded(key)
        await auth.login(request, user, remember=data.remember)
        return RedirectResponse(next_url or auth.login_redirect, 303)

    async def logout(self, request: Request) -> Response:
        """Log out (POST only, so a link or an image on another site can't do it)."""
        self.auth.logout(request)
        flash(request, "You have been logged out.", "info")
        return RedirectResponse(self.login_url(request), 303)

    # -- change the password -------------------------------------------------------------

    async def password_change(self, request: Request) -> Response:
        """Change the logged-in user's password; their other sessions are logged out."""
        auth = self.auth
        user = request.user
        form = await PasswordChangeForm.from_request(request)
        context: dict[str, Any] = {"form": form, "rules": self.rules()}
        if not form.is_bound:
            return self.page(request, "auth/password_change.html", **context)
        error = None if form.is_valid() else "Please correct the errors below."
        if error is None:
            data = form.data
            wait = await auth.throttle.login_attempt(user.username_key, client_address(request))
            if wait is not None:
                return self.page(
                    request, "auth/password_change.html", status_code=429,
                    headers={"Retry-After": str(wait)}, error=too_many(wait), **context,
                )  # fmt: skip
            ok = await auth.hasher.averify(data.old_password, user.password, run_sync=auth.run_sync)
            if not ok:
                error = "Your current password was entered incorrectly."
            elif data.new_password1 != data.new_password2:
                error = "The two new passwords didn't match."
            else:
                try:
                    await auth.set_password(user, data.new_password1)
                except PasswordInvalid as exc:
                    error = " ".join(exc.messages)
        if error is not None:
            return self.page(
                request, "auth/password_change.html", status_code=400, error=error, **context
            )
        await auth.throttle.login_succeeded(user.username_key)
        auth.update_session_auth_hash(request, user)
        path = request.app.url_for("auth.password_change_done")
        return RedirectResponse(request.root_path + path, 303)

    async def password_change_done(self, request: Request) -> Response:
        """Say the password was changed."""
        return self.page(request, "auth/password_change_done.html")


def _on_site(target: str, request: Request) -> bool:
    return is_safe_url(target, [request.host]) if request.host else is_safe_url(target)


def build_module(auth: Auth) -> Module:
    """Return the ``auth`` module with every account page, for ``app.include``."""
    # Imported here: reset.py imports this module (for the shared page helpers).
    from satchel.auth.reset import ResetViews

    module = Module("auth", prefix=auth.prefix, root_path=PACKAGE_DIR, static_folder=None)
    views = AccountViews(auth)
    resets = ResetViews(auth, views)
    pages: list[tuple[str, Any, list[str], str]] = [
        ("/login", views.login, ["GET", "POST"], "login"),
        ("/logout", views.logout, ["POST"], "logout"),
        ("/password/change", login_required(views.password_change), ["GET", "POST"],
         "password_change"),
        ("/password/change/done", login_required(views.password_change_done), ["GET"],
         "password_change_done"),
        ("/password/reset", resets.request, ["GET", "POST"], "password_reset"),
        ("/password/reset/{token}", resets.confirm, ["GET", "POST"], "password_reset_confirm"),
    ]  # fmt: skip
    for path, handler, methods, name in pages:
        # Pages for people, not API operations: kept out of the OpenAPI schema.
        module.add_route(path, handler, methods, name=name, include_in_schema=False)
    return module


__all__ = ["PRIVATE_HEADERS", "WRONG_LOGIN", "AccountViews", "build_module", "too_many"]
