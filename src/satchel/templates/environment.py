"""The app's Jinja2 environment and ``render``.

One :class:`Templates` per app, kept in ``app.extensions["templates"]``. It is
made by the first :func:`render` with the defaults, or earlier by
``Templates(app, ...)`` to configure it and reach ``templates.env``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from jinja2 import Environment, Template, select_autoescape

from satchel.exceptions import ImproperlyConfigured
from satchel.http.headers import HeaderItems
from satchel.http.request import Request
from satchel.http.response import HTMLResponse
from satchel.templates.assets import StaticURLs
from satchel.templates.context import (
    LazyContext,
    csp_nonce,
    csrf_input,
    csrf_token,
    current_user,
    flashed_messages,
    make_url_for,
)
from satchel.templates.loader import AppLoader, scaffold_template_dirs

if TYPE_CHECKING:
    from satchel.app import App

#: File name endings whose templates are autoescaped (``.txt`` and friends are not).
AUTOESCAPE_EXTENSIONS = ("html", "htm", "xml", "jinja")

ContextProcessor = Callable[[Request], Mapping[str, Any]]
P = TypeVar("P", bound=ContextProcessor)

_DICT_ATTRIBUTES = frozenset(dir(dict))


class PageEnvironment(Environment):
    """A Jinja2 environment with a faster ``row.name`` for plain dicts.

    Jinja tries ``getattr(row, "name")`` first and falls back to ``row["name"]``
    on the ``AttributeError``; for a dict that exception doubled the cost of a
    20-row table (measured). A dict attribute that is not a ``dict`` method is
    looked up as a key directly: the same result, without the exception.
    Contexts are :class:`LazyContext`, so ``messages`` and ``current_user`` are
    produced only for templates that use them.
    """

    context_class = LazyContext

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Return ``obj.attribute``, or ``obj[attribute]``, or an undefined value."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class Templates:
    """The Jinja2 templates of one app.

    Templates are looked up in ``directory`` (default: ``templates/`` beside the
    app; a list for several, first wins), then in every module's ``templates/``
    folder in include order (``modules=False`` to skip them), so a project
    overrides a module's template by putting one of the same name in its own
    folder. ``auto_reload`` (default: ``settings.templates_auto_reload``, which
    follows ``debug``) recompiles a template whose file changed; otherwise each
    is compiled once. Other keyword arguments go to :class:`jinja2.Environment`
    (``trim_blocks=True``, ``undefined=StrictUndefined``, ``extensions=[...]``).
    """

    def __init__(
        self,
        app: App,
        *,
        directory: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        modules: bool = True,
        auto_reload: bool | None = None,
        autoescape_extensions: Sequence[str] = AUTOESCAPE_EXTENSIONS,
        **options: Any,
    ) -> None:
        if app.extensions.get("templates") is not None:
            raise ImproperlyConfigured(
                "this app already has templates (a render() before Templates(app), or "
                "Templates(app) twice): create Templates(app) once, at import time, and "
                "reach it later with get_templates(app)"
            )
        if options.get("enable_async"):
            raise ImproperlyConfigured(
                "render() is synchronous: load data in the handler (await there) and pass "
                "it to the template instead of enabling async templates"
            )
        self.app = app
        if directory is None:
            folders: Sequence[str | os.PathLike[str]] = ["templates"]
        elif isinstance(directory, str | os.PathLike):
            folders = [directory]
        else:
            folders = list(directory)
        self.directories = [os.path.join(app.root_path, os.fspath(path)) for path in folders]
        self.include_modules = modules
        if auto_reload is None:
            auto_reload = app.settings.templates_auto_reload
        self.auto_reload: bool = app.debug if auto_reload is None else auto_reload
        self._loader = AppLoader(self._search_dirs)
        settings: dict[str, Any] = {
            "loader": self._loader,
            "autoescape": select_autoescape(
                enabled_extensions=tuple(autoescape_extensions), default_for_string=True
            ),
            "auto_reload": self.auto_reload,
        }
        settings.update(options)
        #: The :class:`jinja2.Environment`: add filters, tests and globals here.
        self.env = PageEnvironment(**settings)
        #: Builds static file URLs (the ``static()`` template global).
        self.static = StaticURLs(app)
        self.env.globals.update(
            url_for=make_url_for(app),
            static=self.static,
            csrf_token=csrf_token,
            csrf_input=csrf_input,
            csp_nonce=csp_nonce,
        )
        self.context_processors: list[ContextProcessor] = []
        # Without auto reload a compiled template never changes: a plain dict
        # lookup is ~10x cheaper than Jinja's locked LRU cache (1 us a render).
        self._compiled: dict[str, Template] | None = None if self.auto_reload else {}
        app.extensions["templates"] = self

    def _search_dirs(self) -> list[str]:
        found = list(self.directories)
        if self.include_modules:
            found.extend(scaffold_template_dirs(self.app))
        return found

    @property
    def search_path(self) -> list[str]:
        """Return the existing template folders, in lookup order."""
        return self._loader.search_path()

    def context_processor(self, func: P) -> P:
        """Register ``func(request) -> dict`` whose items every render gets (sync only).

        A value passed to ``render`` wins over a processor's of the same name.
        """
        if inspect.iscoroutinefunction(func):
            raise ImproperlyConfigured(
                f"context processor {func.__qualname__} must be a plain function: "
                "rendering is synchronous"
            )
        self.context_processors.append(func)
        return func

    def get_template(self, name: str) -> Template:
        """Return the compiled template ``name`` (compiled once, then cached)."""
        compiled = self._compiled
        if compiled is None:
            return self.env.get_template(name)
        template = compiled.get(name)
        if template is None:
            template = compiled[name] = self.env.get_template(name)
        return template

    def context(self, request: Request, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return what a template rendered for ``request`` sees: the defaults, then ``values``."""
        merged: dict[str, Any] = {
            "request": request,
            "messages": flashed_messages(request),
            "current_user": current_user(request),
        }
        for processor in self.context_processors:
            merged.update(processor(request))
        merged.update(values)
        return merged

    def render_to_string(self, name: str, /, request: Request | None = None, **values: Any) -> str:
        """Render template ``name`` to a string (``request`` is optional here, e.g. for email)."""
        template = self.get_template(name)
        if request is None:
            return template.render(values)
        return template.render(self.context(request, values))

    def response(
        self,
        request: Request,
        name: str,
        values: Mapping[str, Any],
        *,
        status_code: int = 200,
        headers: HeaderItems | None = None,
        media_type: str | None = None,
    ) -> HTMLResponse:
        """Render ``name`` for ``request`` into an :class:`HTMLResponse`."""
        text = self.get_template(name).render(self.context(request, values))
        return HTMLResponse(text, status_code, headers, media_type)


def get_templates(app: App) -> Templates:
    """Return ``app``'s :class:`Templates`, creating the default one on first use."""
    templates: Templates | None = app.extensions.get("templates")
    if templates is None:
        templates = Templates(app)
    return templates


def render(
    request: Request,
    name: str,
    /,
    *,
    status_code: int = 200,
    headers: HeaderItems | None = None,
    media_type: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render template ``name`` with ``context`` and return it as an HTML response.

    The template also sees ``request``, ``messages``, ``current_user``, what the
    app's context processors add, and the globals ``url_for``, ``static``,
    ``csrf_token``, ``csrf_input`` and ``csp_nonce``. ``media_type`` overrides ``text/html``.
    """
    app = request.app
    if app is None:
        raise ImproperlyConfigured(
            "render() needs request.app: pass the request Satchel gave the handler"
        )
    templates: Templates | None = app.extensions.get("templates")
    if templates is None:
        templates = Templates(app)
    text = templates.get_template(name).render(templates.context(request, context))
    return HTMLResponse(text, status_code, headers, media_type)


__all__ = ["AUTOESCAPE_EXTENSIONS", "ContextProcessor", "Templates", "get_templates", "render"]
