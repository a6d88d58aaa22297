"""Security headers added to every response.

Each header is on by default and set by one setting (``None``/``False`` turns it
off); a header the handler set itself is left alone:

=============================  ==================================  ==============================
header                         default                             setting
=============================  ==================================  ==============================
X-Content-Type-Options         ``nosniff``                         ``content_type_nosniff``
X-Frame-Options                ``DENY``                            ``frame_options``
Content-Security-Policy        ``frame-ancestors 'none'``          ``content_security_policy``
Referrer-Policy                ``same-origin``                     ``referrer_policy``
Cross-Origin-Opener-Policy     ``same-origin``                     ``cross_origin_opener_policy``
Strict-Transport-Security      off (https responses only)          ``hsts_seconds`` (+ ``hsts_*``)
=============================  ==================================  ==============================

The header tuples are built once; per response the work is one scan of the
response's few headers for a name clash and one ``list.extend``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from satchel.exceptions import ImproperlyConfigured
from satchel.http.headers import check_header
from satchel.security.csp import ContentSecurityPolicy, request_nonce

CSP = "content-security-policy"
CSP_REPORT_ONLY = "content-security-policy-report-only"
XFO = "x-frame-options"
HSTS = "strict-transport-security"

_FRAME_ANCESTORS = {"DENY": "'none'", "SAMEORIGIN": "'self'"}

AddHeaders = Callable[[Any, Any], None]


class HeaderPolicy:
    """The security headers one app sends, computed from its settings."""

    def __init__(self, settings: Any) -> None:
        self.static: list[tuple[str, str]] = []
        frame_options = settings.frame_options
        if settings.content_type_nosniff:
            self.static.append(("x-content-type-options", "nosniff"))
        if frame_options is not None:
            self.static.append((XFO, frame_options))
        self.policy = _enforced_policy(settings.content_security_policy, frame_options)
        #: The policy without ``frame-ancestors``, for a response that set its own
        #: X-Frame-Options (browsers let frame-ancestors win over it).
        self.policy_unframed = self.policy.without("frame-ancestors") if self.policy else None
        if self.policy is not None:
            self.static.append((CSP, str(self.policy)))
        report_only = settings.content_security_policy_report_only
        self.report_only = ContentSecurityPolicy.parse(report_only) if report_only else None
        if self.report_only is not None:
            self.static.append((CSP_REPORT_ONLY, str(self.report_only)))
        if settings.referrer_policy:
            self.static.append(("referrer-policy", settings.referrer_policy))
        if settings.cross_origin_opener_policy:
            self.static.append(("cross-origin-opener-policy", settings.cross_origin_opener_policy))
        for name, value in self.static:
            try:
                check_header(name, value)
            except ValueError as exc:
                raise ImproperlyConfigured(f"security header setting: {exc}") from None
        self.names = frozenset(name for name, _ in self.static)
        self.hsts: tuple[str, str] | None = None
        if settings.hsts_seconds > 0:
            value = f"max-age={settings.hsts_seconds}"
            if settings.hsts_include_subdomains:
                value += "; includeSubDomains"
            if settings.hsts_preload:
                value += "; preload"
            self.hsts = (HSTS, value)
            self.names |= {HSTS}
        #: Whether a nonce changes anything (a policy that restricts scripts or styles).
        self.uses_nonce = any(
            p is not None and p.restricts_scripts for p in (self.policy, self.report_only)
        )

    def adder(self) -> AddHeaders:
        """Return ``add(request, response)`` that puts the headers on ``response``."""
        static = self.static
        names = self.names
        hsts = self.hsts
        uses_nonce = self.uses_nonce
        careful = self._add_carefully

        def add(request: Any, response: Any) -> None:
            # Response._headers is the live list behind response.headers; using it
            # skips building a MutableHeaders view on every response.
            items: list[tuple[str, str]] = response._headers
            for name, _ in items:
                if name in names:
                    careful(request, items)
                    return
            if uses_nonce and request._state is not None and request_nonce(request):
                careful(request, items)
                return
            items.extend(static)
            if hsts is not None and request.scheme == "https":
                items.append(hsts)

        return add

    def _add_carefully(self, request: Any, items: list[tuple[str, str]]) -> None:
        """Add what the handler did not set, with this request's nonce if it made one."""
        present = {name for name, _ in items}
        nonce = request_nonce(request) if self.uses_nonce else None
        for name, value in self.static:
            if name in present:
                continue
            if name == CSP:
                policy = self.policy_unframed if XFO in present else self.policy
                if policy is None or not policy.directives:
                    continue
                value = policy.with_nonce(nonce) if nonce else str(policy)
            elif name == CSP_REPORT_ONLY and nonce and self.report_only is not None:
                value = self.report_only.with_nonce(nonce)
            items.append((name, value))
        if self.hsts is not None and HSTS not in present and request.scheme == "https":
            items.append(self.hsts)


def _enforced_policy(text: str | None, frame_options: str | None) -> ContentSecurityPolicy | None:
    policy = ContentSecurityPolicy.parse(text) if text else None
    ancestors = _FRAME_ANCESTORS.get(frame_options or "")
    if ancestors is None:
        return policy
    if policy is None:
        return ContentSecurityPolicy({"frame-ancestors": [ancestors]})
    if policy.has("frame-ancestors"):
        return policy
    return policy.with_directive("frame-ancestors", [ancestors])


__all__ = ["CSP", "CSP_REPORT_ONLY", "HSTS", "XFO", "AddHeaders", "HeaderPolicy"]
