"""Typed forms: declare fields with type hints, bind a request, validate, render.

::

    from pydantic import EmailStr, Field
    from satchel.forms import Form

    class ContactForm(Form):
        email: EmailStr
        message: str = Field(min_length=10)

    form = await ContactForm.from_request(request)
    if form.is_valid():
        ...

``model_form`` (forms built from SQLAlchemy models) loads SQLAlchemy only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from satchel.forms.fields import BoundField
from satchel.forms.form import BoundForm, Form
from satchel.forms.spec import Choice
from satchel.forms.widgets import Choices, FileField, Hidden, LongText, Password, Widget

if TYPE_CHECKING:
    from satchel.forms.models import ModelChoices, model_form


def __getattr__(name: str) -> object:
    # SQLAlchemy loads only for forms built from models.
    if name in ("model_form", "ModelChoices"):
        from satchel.forms import models

        return getattr(models, name)
    raise AttributeError(f"module 'satchel.forms' has no attribute {name!r}")


__all__ = [
    "BoundField",
    "BoundForm",
    "Choice",
    "Choices",
    "FileField",
    "Form",
    "Hidden",
    "LongText",
    "ModelChoices",
    "Password",
    "Widget",
    "model_form",
]
