"""Redirects that stay on the site.

A ``?next=`` parameter is attacker-controlled. Browsers forgive a lot when they
parse a ``Location``: they drop tabs and newlines anywhere, strip leading control
characters and spaces, read ``\\`` as ``/``, take ``//host``, ``///host`` and
``https:host`` as other sites, and run ``javascript:``. Rather than imitate every
quirk, :func:`is_safe_url` accepts only URLs that no browser reads as off-site:
a plain relative URL, or an http(s) URL whose host is explicitly allowed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from satchel.exceptions import BadRequest
from satchel.http.response import RedirectResponse

# Control characters (C0, DEL, C1) and backslashes are never needed in a redirect
# target and are what most disguises are made of.
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
_DEFAULT_PORTS = {"": None, "http": 80, "https": 443}


class UnsafeRedirect(BadRequest):
    """400: a redirect target leads off-site and its host is not allowed."""


def is_safe_url(
    url: str | None,
    allowed_hosts: Iterable[str] | None = None,
    require_https: bool = False,
) -> bool:
    """Return whether redirecting to ``url`` keeps the visitor on an allowed site.

    Relative URLs (``/account``, ``page2``, ``?q=1``) are safe. Absolute and
    scheme-relative URLs are safe only with an http(s) scheme and a host listed in
    ``allowed_hosts`` (``example.com`` or ``example.com:8443``; ports must match
    when listed). ``require_https`` refuses ``http://`` and ``//host`` targets.
    Anything ambiguous is refused.
    """
    if not url or not isinstance(url, str):
        return False
    hosts = list(allowed_hosts or ())
    if url != url.strip() or _FORBIDDEN.search(url):
        return False
    if not url.isascii():
        # Compatibility forms (fullwidth solidus, letters) must be safe read either way.
        folded = unicodedata.normalize("NFKC", url)
        if folded != url and not is_safe_url(folded, hosts, require_https):
            return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if not parts.netloc:
        if scheme:
            return False  # javascript:, data:, mailto:, and https:host
        # '///evil.example' has no netloc for Python, but is a host for browsers.
        return not url.startswith("//")
    if scheme not in ("", "http", "https") or (require_https and scheme != "https"):
        return False
    netloc = parts.netloc
    if "@" in netloc or not netloc.isascii():
        return False  # user:pass@ hides the real host; IDNA tricks hide it too
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return False
    allowed = {h.strip().lower().rstrip(".") for h in hosts if h.strip()}
    shown = f"[{host}]" if ":" in host else host
    if (shown if port is None else f"{shown}:{port}") in allowed:
        return True
    # An explicit default port is the same site as none.
    return port is not None and port == _DEFAULT_PORTS.get(scheme) and shown in allowed


def redirect(
    url: str,
    status_code: int = 303,
    *,
    allowed_hosts: Iterable[str] | None = None,
) -> RedirectResponse:
    """Return a redirect to ``url`` (``303 See Other``: the browser follows with ``GET``).

    Off-site targets are refused with :class:`UnsafeRedirect` (400) unless their
    host is in ``allowed_hosts``, so passing user input (``next``) is safe::

        return redirect(request.query.get("next") or "/")
    """
    hosts = list(allowed_hosts or ())
    if not is_safe_url(url, hosts):
        allowed = f" (allowed hosts: {', '.join(hosts)})" if hosts else ""
        raise UnsafeRedirect(
            f"Refusing to redirect to {url!r}: it leaves the site{allowed}. Pass "
            "allowed_hosts=[...] to redirect to another site on purpose."
        )
    return RedirectResponse(url, status_code)


__all__ = ["UnsafeRedirect", "is_safe_url", "redirect"]
