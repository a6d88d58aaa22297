"""Default error responses: problem details for APIs, small pages for browsers.

API clients get RFC 9457 ``application/problem+json``; a browser (whose
``Accept`` prefers ``text/html``) gets an HTML page. Unhandled exceptions are
logged with their traceback and answered with a generic 500 that reveals
nothing, unless the app runs in debug mode, where the traceback is shown.
"""

from __future__ import annotations

import html
import logging
import traceback
from typing import Any

from satchel.exceptions import HTTPException
from satchel.http.response import Response, dump_json
from satchel.status import phrase

logger = logging.getLogger("satchel.error")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{status} {title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;margin:4rem auto;max-width:40rem;color:#222}}
h1{{font-size:1.6rem}}pre{{background:#f5f5f5;padding:1rem;overflow:auto;font-size:13px}}</style>
</head><body><h1>{status} {title}</h1><p>{detail}</p>{extra}</body></html>"""


def prefers_html(accept: str) -> bool:
    """Return whether an ``Accept`` header prefers HTML over JSON (browsers do)."""
    if not accept or "text/html" not in accept:
        return False
    best_html = best_json = -1.0
    for item in accept.split(",")[:50]:
        media, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.strip().lower()
        if media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, q)
        elif media in ("application/json", "application/problem+json") or media.endswith("+json"):
            best_json = max(best_json, q)
    return best_html > 0 and best_html >= best_json


def problem_response(
    status: int,
    detail: str,
    accept: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    debug_text: str | None = None,
) -> Response:
    """Return an error response negotiated between problem+json and HTML."""
    title = phrase(status) or "Error"
    if prefers_html(accept):
        block = ""
        if extra and "errors" in extra:
            items = "".join(
                f"<li><code>{html.escape('.'.join(map(str, e.get('loc', []))))}</code>: "
                f"{html.escape(str(e.get('msg', '')))}</li>"
                for e in extra["errors"]
            )
            block += f"<ul>{items}</ul>"
        if debug_text:
            block += f"<pre>{html.escape(debug_text)}</pre>"
        page = _PAGE.format(
            status=status, title=html.escape(title), detail=html.escape(detail), extra=block
        )
        response = Response(page, status, headers, media_type="text/html")
    else:
        body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
        body["detail"] = detail
        if extra:
            body.update(extra)
        if debug_text:
            body["traceback"] = debug_text.splitlines()
        response = Response(dump_json(body), status, headers, media_type="application/problem+json")
    return response


def http_exception_response(exc: HTTPException, accept: str) -> Response:
    """Return the default response for an :class:`HTTPException`."""
    data = exc.to_dict()
    extra = {k: v for k, v in data.items() if k not in ("status", "detail")}
    return problem_response(
        exc.status_code, exc.detail, accept, headers=exc.headers or None, extra=extra or None
    )


def server_error_response(exc: BaseException, accept: str, debug: bool, where: str) -> Response:
    """Log ``exc`` with its traceback and return a 500 (with the traceback only in debug)."""
    logger.error("Unhandled exception in %s", where, exc_info=exc)
    if not debug:
        return problem_response(500, "The server hit an error and could not answer.", accept)
    text = "".join(traceback.format_exception(exc))
    # A response-model mismatch lists each field that did not fit.
    errors = getattr(exc, "errors", None)
    extra = {"errors": errors} if isinstance(errors, list) else None
    return problem_response(
        500, f"{type(exc).__name__}: {exc}", accept, extra=extra, debug_text=text
    )


__all__ = [
    "http_exception_response",
    "logger",
    "prefers_html",
    "problem_response",
    "server_error_response",
]
