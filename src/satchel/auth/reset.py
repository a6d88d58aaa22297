"""Password reset: ask for a link by email, then choose a new password through it.

The request page answers exactly the same whether or not an account uses the address:
the lookup, the token and the mail all happen in a background task after the answer
is made, so neither the page, nor its timing, nor a mail server that is down tells the
visitor anything. Mail goes to the address *stored* for the account (never the one
typed), and only for active users who have a usable password.

Links carry a signed token (see ``satchel.auth.tokens.ResetTokens``) that expires
(``reset_max_age``, one hour by default) and stops working once the password changes
or the user logs in; setting the new password logs out every session of the user.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from satchel.auth.backend import users as queries
from satchel.auth.forms import PasswordResetForm, SetPasswordForm
from satchel.auth.limits import client_address
from satchel.auth.normalize import email_key
from satchel.auth.validators import PasswordInvalid
from satchel.auth.views import AccountViews, too_many
from satchel.http.request import Request
from satchel.http.response import RedirectResponse, Response
from satchel.sessions import flash

if TYPE_CHECKING:
    from satchel.auth.core import Auth

logger = logging.getLogger("satchel.auth")


async def send_reset_mail(auth: Auth, address: str, confirm_url: str) -> None:
    """Mail a reset link to the account using ``address``, if there is one (never raises).

    ``confirm_url`` is the link without its token (``https://site/password/reset/``).
    """
    try:
        statement = queries.by_email(auth.user_model, address)
        if statement is None:
            return
        async with auth.session() as db:
            user = (await db.execute(statement)).scalar()
        if user is None or not user.has_usable_password() or not user.email:
            return
        token = auth.reset_tokens.make(user.id, user.password, user.last_login)
        context = {
            "user": user,
            "reset_url": confirm_url + token,
            "site_name": auth.app.settings.title,
            "valid_minutes": auth.reset_tokens.max_age // 60,
        }
        # Imported here: only apps that send reset mails load the mail machinery.
        from satchel.auth.mail import EmailMessage
        from satchel.templates import get_templates

        templates = get_templates(auth.app)
        subject = templates.render_to_string("auth/password_reset_subject.txt", **context)
        body = templates.render_to_string("auth/password_reset_email.txt", **context)
        message = EmailMessage(" ".join(subject.split()), body, [user.email])
        await auth.mail_backend.asend_messages([message], run_sync=auth.run_sync)
    except Exception:
        # Logged for the operator; the visitor already has the same answer as everyone.
        logger.exception("could not send a password reset mail")


async def user_for_token(auth: Auth, token: str) -> Any:
    """Return the active user a reset token is valid for right now, else ``None``."""
    user_id = auth.reset_tokens.user_id(token)
    if user_id is None:
        return None  # forged, mangled or expired: no query
    try:
        key: Any = int(user_id)
    except ValueError:
        key = user_id
    async with auth.session() as db:
        user = (await db.execute(queries.by_id(auth.user_model, key))).scalar()
    if user is None or not user.is_active:
        return None
    if not auth.reset_tokens.check(token, user.id, user.password, user.last_login):
        return None
    return user


class ResetViews:
    """The two reset pages, bound to one :class:`Auth`."""

    def __init__(self, auth: Auth, pages: AccountViews) -> None:
        self.auth = auth
        self.pages = pages

    async def request(self, request: Request) -> Response:
        """Ask for a reset link; the answer never depends on the address."""
        auth, pages = self.auth, self.pages
        form = await PasswordResetForm.from_request(request)
        if not form.is_bound:
            return pages.page(request, "auth/password_reset.html", form=form)
        if not form.is_valid():
            return pages.page(
                request, "auth/password_reset.html", status_code=400, form=form,
                error="Enter an email address.",
            )  # fmt: skip
        address = form.data.email
        wait = await auth.throttle.reset_attempt(email_key(address), client_address(request))
        if wait is not None:
            return pages.page(
                request, "auth/password_reset.html", status_code=429,
                headers={"Retry-After": str(wait)}, form=form, error=too_many(wait),
            )  # fmt: skip
        auth.spawn(send_reset_mail(auth, address, self._confirm_base(request)))
        return pages.page(
            request, "auth/password_reset_sent.html", valid_minutes=auth.reset_tokens.max_age // 60
        )

    def _confirm_base(self, request: Request) -> str:
        # The route's path with a one-letter placeholder for the token, cut off again.
        path: str = request.app.url_for("auth.password_reset_confirm", token="T")  # noqa: S106
        origin = self.auth.site_url or str(request.base_url).rstrip("/")
        return origin + path[:-1]

    async def confirm(self, request: Request, token: str) -> Response:
        """Choose a new password through a reset link (which then stops working)."""
        auth, pages = self.auth, self.pages
        user = await user_for_token(auth, token)
        form = await SetPasswordForm.from_request(request)
        context: dict[str, Any] = {"form": form, "rules": pages.rules(), "valid": True}
        if user is None:
            context["valid"] = False
            return pages.page(
                request, "auth/password_reset_confirm.html", status_code=400, **context
            )
        if not form.is_bound:
            return pages.page(request, "auth/password_reset_confirm.html", **context)
        error = None if form.is_valid() else "Please correct the errors below."
        if error is None:
            data = form.data
            if data.new_password1 != data.new_password2:
                error = "The two passwords didn't match."
            else:
                try:
                    await auth.set_password(user, data.new_password1)
                except PasswordInvalid as exc:
                    error = " ".join(exc.messages)
        if error is not None:
            return pages.page(
                request, "auth/password_reset_confirm.html", status_code=400, error=error,
                **context,
            )  # fmt: skip
        flash(request, "Your password has been set. You can log in now.", "success")
        return RedirectResponse(pages.login_url(request), 303)


__all__ = ["ResetViews", "send_reset_mail", "user_for_token"]
