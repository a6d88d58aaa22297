"""Jinja2 templates and static files for server-rendered pages.

::

    from satchel import App, Request, render

    app = App()

    @app.get("/")
    def index(request: Request):
        return render(request, "index.html", title="Hello")

Templates live in ``templates/`` beside the app and in each module's
``templates/``; ``.html``, ``.htm``, ``.xml`` and ``.jinja`` templates are
autoescaped. ``Templates(app, ...)`` configures the environment explicitly;
``serve_static(app)`` and ``satchel collectstatic`` handle static files.
"""

from __future__ import annotations

from satchel.templates.assets import StaticURLs, serve_static
from satchel.templates.collect import CollectResult, collect_static
from satchel.templates.environment import (
    AUTOESCAPE_EXTENSIONS,
    Templates,
    get_templates,
    render,
)

__all__ = [
    "AUTOESCAPE_EXTENSIONS",
    "CollectResult",
    "StaticURLs",
    "Templates",
    "collect_static",
    "get_templates",
    "render",
    "serve_static",
]
