"""The forms of the account pages (``satchel.forms``), each field bounded in length.

Lengths are capped before anything else looks at a value: a megabyte "password" is a
field error, never an argon2 input, and a huge username never reaches a query.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from satchel.auth.normalize import LOOKUP_MAX_LENGTH
from satchel.auth.passwords import MAX_PASSWORD_LENGTH
from satchel.forms import Form, Widget

_NEW_PASSWORD = {"autocomplete": "new-password"}

Login = Annotated[
    str,
    Widget(label="Username or email", attrs={"autocomplete": "username", "autofocus": ""}),
    Field(max_length=LOOKUP_MAX_LENGTH),
]
CurrentPassword = Annotated[
    str,
    Widget("password", attrs={"autocomplete": "current-password"}),
    Field(max_length=MAX_PASSWORD_LENGTH),
]
NewPassword = Annotated[
    str,
    Widget("password", label="New password", attrs=_NEW_PASSWORD),
    Field(max_length=MAX_PASSWORD_LENGTH),
]
RepeatPassword = Annotated[
    str,
    Widget("password", label="New password again", attrs=_NEW_PASSWORD),
    Field(max_length=MAX_PASSWORD_LENGTH),
]


class LoginForm(Form):
    """Username (or email address) and password, and whether to stay logged in."""

    username: Login
    password: Annotated[CurrentPassword, Widget(label="Password")]
    remember: Annotated[bool, Widget(label="Remember me")] = False


class PasswordChangeForm(Form):
    """The current password and the new one, twice."""

    old_password: Annotated[CurrentPassword, Widget(label="Current password")]
    new_password1: NewPassword
    new_password2: RepeatPassword


class PasswordResetForm(Form):
    """The address to send a reset link to."""

    email: Annotated[
        str,
        Widget("email", label="Email address", attrs={"autocomplete": "email"}),
        Field(max_length=LOOKUP_MAX_LENGTH),
    ]


class SetPasswordForm(Form):
    """A new password, twice (from a reset link)."""

    new_password1: NewPassword
    new_password2: RepeatPassword


__all__ = ["LoginForm", "PasswordChangeForm", "PasswordResetForm", "SetPasswordForm"]
