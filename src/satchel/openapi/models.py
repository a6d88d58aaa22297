"""The error shapes every Satchel API answers with, as pydantic models.

They describe what :mod:`satchel.handlers.errors` sends (RFC 9457 problem
details) and become the ``Problem`` and ``ValidationProblem`` components of the
schema. Use them in a route's ``responses``::

    @app.get("/items/{id:int}", responses={404: Problem})
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    """An error as RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"description": "An error, as RFC 9457 problem details."},
    )

    type: str = Field(
        "about:blank", description="A URI reference that identifies the problem type."
    )
    title: str = Field(description="A short summary of the problem type.")
    status: int = Field(ge=100, le=599, description="The HTTP status code.")
    detail: str | None = Field(None, description="What went wrong in this occurrence.")
    instance: str | None = Field(None, description="A URI reference for this occurrence.")


class ValidationErrorItem(BaseModel):
    """One value that failed validation."""

    loc: list[str | int] = Field(
        description="Where the value came from: path, query, header, cookie, body or form, "
        "then the name and any nested keys or indexes."
    )
    msg: str = Field(description="What is wrong with the value.")
    type: str = Field(description="A stable error code such as 'missing' or 'int_parsing'.")


class ValidationProblem(Problem):
    """A ``422``: the request's values failed validation, one entry per value."""

    errors: list[ValidationErrorItem]


__all__ = ["Problem", "ValidationErrorItem", "ValidationProblem"]
