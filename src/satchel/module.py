"""Modules: a reusable group of routes, hooks, error handlers, middleware,
providers, templates and static files (Flask's blueprint, Django's app).

A module does nothing until an app includes it; then its routes get the
module's prefix and their names the module's name::

    blog = Module("blog", prefix="/blog")

    @blog.get("/{slug:slug}")
    async def post(slug: str) -> str: ...

    app.include(blog)
    app.url_for("blog.post", slug="hello")  # "/blog/hello"
"""

from __future__ import annotations

import os
import re

from satchel.exceptions import ImproperlyConfigured
from satchel.scaffold import Scaffold

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Module(Scaffold):
    """A named group of routes and hooks, included into an app or another module.

    ``templates/`` and ``static/`` folders beside the file that creates the module
    are picked up automatically (``static_folder=None`` turns static files off).
    """

    def __init__(
        self,
        name: str,
        *,
        prefix: str = "",
        root_path: str | os.PathLike[str] | None = None,
        static_folder: str | None = "static",
        templates_folder: str | None = "templates",
    ) -> None:
        if not _NAME.match(name):
            raise ImproperlyConfigured(f"module name {name!r} must be a Python identifier")
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ImproperlyConfigured(
                f"module prefix {prefix!r} must start with '/' and not end with '/'"
            )
        super().__init__(root_path)
        self.name = name
        self.prefix = prefix
        self.static_folder = static_folder
        self.templates_folder = templates_folder

    @property
    def static_path(self) -> str | None:
        """The module's static directory, if it exists."""
        if self.static_folder is None:
            return None
        path = os.path.join(self.root_path, self.static_folder)
        return path if os.path.isdir(path) else None

    @property
    def templates_path(self) -> str | None:
        """The module's templates directory, if it exists."""
        if self.templates_folder is None:
            return None
        path = os.path.join(self.root_path, self.templates_folder)
        return path if os.path.isdir(path) else None

    def __repr__(self) -> str:
        return f"<Module {self.name!r} prefix={self.prefix!r}>"


__all__ = ["Module"]
