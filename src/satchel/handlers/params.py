"""Markers that say where a handler parameter comes from.

Most parameters need no marker: path parameters match by name, simple types come
from the query string, pydantic models and dataclasses from the JSON body, and
registered providers by type or name. Use a marker inside ``Annotated`` when the
default guess is not what you want::

    async def search(
        q: Annotated[str, Query(alias="search", max_length=100)],
        token: Annotated[str, Header(alias="X-Token")],
        session_id: Annotated[str | None, Cookie()] = None,
    ) -> dict: ...
"""

from __future__ import annotations

from typing import Any


class Param:
    """Base marker. ``alias`` is the name on the wire; ``constraints`` go to pydantic's ``Field``.

    ``description``, ``deprecated`` and ``examples`` are kept for the OpenAPI schema.
    """

    source = "query"

    def __init__(
        self,
        alias: str | None = None,
        *,
        description: str | None = None,
        deprecated: bool = False,
        examples: list[Any] | None = None,
        embed: bool = False,
        **constraints: Any,
    ) -> None:
        self.alias = alias
        self.description = description
        self.deprecated = deprecated
        self.examples = examples
        #: For :class:`Body`: read the parameter's own key from a JSON object body.
        self.embed = embed
        self.constraints = constraints

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alias={self.alias!r})"


class Path(Param):
    """The value comes from the path template (the default for names in the template)."""

    source = "path"


class Query(Param):
    """The value comes from the query string (the default for simple types)."""

    source = "query"


class Header(Param):
    """The value comes from a request header.

    Without an alias, ``user_agent`` reads the ``User-Agent`` header (underscores
    become hyphens).
    """

    source = "header"


class Cookie(Param):
    """The value comes from a cookie of the same name (or ``alias``)."""

    source = "cookie"


class Body(Param):
    """The value is the JSON body (the default for models and dataclasses).

    ``embed=True`` reads the key of the parameter's name from a JSON object body
    instead of the whole body.
    """

    source = "body"


class Form(Param):
    """The value comes from a urlencoded or multipart form (a field, or a model of fields)."""

    source = "form"


class File(Param):
    """The value is an uploaded file from a multipart form (``UploadFile``)."""

    source = "file"


class Provide:
    """Use the provider registered under ``name`` (or the given function) for this parameter."""

    def __init__(self, dependency: Any = None, *, name: str | None = None) -> None:
        self.dependency = dependency
        self.name = name

    def __repr__(self) -> str:
        target = self.name or getattr(self.dependency, "__name__", self.dependency)
        return f"Provide({target!r})"


__all__ = ["Body", "Cookie", "File", "Form", "Header", "Param", "Path", "Provide", "Query"]
