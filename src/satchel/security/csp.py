"""Content Security Policy: a builder, and a per-request nonce for inline scripts.

A policy is built once at startup. When a template asks for ``csp_nonce(request)``
a random nonce is made for that request only, and the response's policy gets
``'nonce-...'`` added to ``script-src`` and ``style-src``; requests that never ask
pay nothing::

    <script nonce="{{ csp_nonce() }}">...</script>
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from satchel.exceptions import ImproperlyConfigured

#: Directives a nonce is added to.
NONCE_DIRECTIVES = ("script-src", "style-src")

_STATE_KEY = "csp_nonce"
_DIRECTIVE = re.compile(r"[a-z][a-z0-9-]*")
_SOURCE_BAD = re.compile(r"[;,\x00-\x20\x7f]")


def csp_nonce(request: Any) -> str:
    """Return this request's CSP nonce, making it on first use.

    The same value comes back for the rest of the request; the response's
    ``Content-Security-Policy`` allows scripts and styles carrying it.
    """
    state = request.state
    nonce: str | None = getattr(state, _STATE_KEY, None)
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        setattr(state, _STATE_KEY, nonce)
    return nonce


def request_nonce(request: Any) -> str | None:
    """Return the nonce made for ``request``, or ``None`` when nothing asked for one."""
    state = request._state
    if state is None:
        return None
    return getattr(state, _STATE_KEY, None)


class ContentSecurityPolicy:
    """An immutable CSP, written as directives::

        ContentSecurityPolicy({"default-src": ["'self'"], "img-src": ["'self'", "data:"]})
        ContentSecurityPolicy.parse("default-src 'self'; img-src 'self' data:")

    ``str(policy)`` is the header value.
    """

    def __init__(self, directives: Mapping[str, Iterable[str]] | None = None) -> None:
        checked: dict[str, tuple[str, ...]] = {}
        for name, sources in (directives or {}).items():
            key = name.strip().lower().replace("_", "-")
            if not _DIRECTIVE.fullmatch(key):
                raise ImproperlyConfigured(f"CSP directive {name!r} is not a directive name")
            values = (sources,) if isinstance(sources, str) else tuple(sources)
            for value in values:
                if _SOURCE_BAD.search(value):
                    raise ImproperlyConfigured(
                        f"CSP source {value!r} of {key} may not contain ';', ',' or spaces"
                    )
            checked[key] = values
        self.directives: dict[str, tuple[str, ...]] = checked
        self._text = _render(checked)

    @classmethod
    def parse(cls, text: str) -> ContentSecurityPolicy:
        """Build a policy from a header value (``"default-src 'self'; img-src *"``)."""
        directives: dict[str, list[str]] = {}
        for part in text.split(";"):
            words = part.split()
            if words and words[0].lower() not in directives:
                directives[words[0].lower()] = words[1:]
        return cls(directives)

    def has(self, name: str) -> bool:
        """Return whether the policy sets directive ``name``."""
        return name in self.directives

    def with_directive(self, name: str, sources: Iterable[str]) -> ContentSecurityPolicy:
        """Return a copy with directive ``name`` set to ``sources``."""
        return ContentSecurityPolicy({**self.directives, name: list(sources)})

    def without(self, name: str) -> ContentSecurityPolicy:
        """Return a copy without directive ``name``."""
        return ContentSecurityPolicy({k: v for k, v in self.directives.items() if k != name})

    @property
    def restricts_scripts(self) -> bool:
        """Whether a nonce would mean anything: some directive limits scripts or styles."""
        return any(self.has(name) for name in (*NONCE_DIRECTIVES, "default-src"))

    def with_nonce(self, nonce: str) -> str:
        """Return the header value allowing ``nonce`` in scripts and styles.

        A directive that is absent falls back to ``default-src`` in browsers, so it
        is written out as ``default-src``'s sources plus the nonce.
        """
        token = f"'nonce-{nonce}'"
        directives = dict(self.directives)
        fallback = directives.get("default-src")
        for name in NONCE_DIRECTIVES:
            sources = directives.get(name, fallback)
            if sources is None:
                continue
            if "'none'" in sources:
                sources = ()
            directives[name] = (*sources, token)
        return _render(directives)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"ContentSecurityPolicy({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ContentSecurityPolicy):
            return self.directives == other.directives
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def _render(directives: Mapping[str, tuple[str, ...]]) -> str:
    return "; ".join(" ".join((name, *sources)) for name, sources in directives.items())


__all__ = ["NONCE_DIRECTIVES", "ContentSecurityPolicy", "csp_nonce", "request_nonce"]
