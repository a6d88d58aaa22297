"""Find templates in the app's ``templates/`` folder, then in each module's.

The search path is worked out when a template is loaded, not when the loader is
made, so modules included after ``Templates(app)`` still count. Loading happens
only on a cache miss (or a debug-mode change check), so this costs nothing per
request once the templates are compiled.

A template name is a ``/``-separated path relative to a templates folder. Names
that could reach outside one (``..``, absolute paths, backslashes, drive letters,
control characters) are refused as "not found" before the file system is
touched: a name built from user input must never read an arbitrary file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

from jinja2 import BaseLoader, Environment, FileSystemLoader, TemplateNotFound

# Control characters, backslashes and colons (drive letters, NTFS streams).
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\:]")


def check_template_name(name: str) -> list[str]:
    """Return the path segments of ``name``, or raise ``TemplateNotFound`` if it could escape."""
    if not name or name.startswith("/") or _FORBIDDEN.search(name):
        raise TemplateNotFound(name)
    segments = name.split("/")
    for segment in segments:
        # "..", ".", "" and dot-and-space runs Windows trims to ".." are all refused.
        if not segment.strip(". "):
            raise TemplateNotFound(name)
    return segments


def scaffold_template_dirs(app: Any) -> Iterator[str]:
    """Yield the ``templates/`` folders of ``app``'s modules, depth first in include order."""
    for module, _ in app.modules:
        path = module.templates_path
        if path is not None:
            yield path
        yield from scaffold_template_dirs(module)


class AppLoader(BaseLoader):
    """Load templates from ``directories()`` in order: the first folder that has the name wins."""

    def __init__(self, directories: Callable[[], list[str]], encoding: str = "utf-8") -> None:
        self._directories = directories
        self._encoding = encoding
        self._cached: tuple[tuple[str, ...], FileSystemLoader] | None = None

    def search_path(self) -> list[str]:
        """Return the folders searched, in order (existing ones only)."""
        return [path for path in self._directories() if os.path.isdir(path)]

    def _loader(self) -> FileSystemLoader:
        paths = tuple(self.search_path())
        if self._cached is None or self._cached[0] != paths:
            self._cached = (paths, FileSystemLoader(list(paths), encoding=self._encoding))
        return self._cached[1]

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        """Return the source, file name and up-to-date check of ``template``."""
        check_template_name(template)
        loader = self._loader()
        if not loader.searchpath:
            raise TemplateNotFound(
                template,
                f"{template!r} not found: no templates folder exists (create 'templates/' "
                "beside the file that creates the App, or pass Templates(app, directory=...))",
            )
        return loader.get_source(environment, template)

    def list_templates(self) -> list[str]:
        """Return every template name the search path holds."""
        return self._loader().list_templates()


__all__ = ["AppLoader", "check_template_name", "scaffold_template_dirs"]
