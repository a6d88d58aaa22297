"""Host header checking and trusted-proxy resolution.

A request's ``Host`` decides the links an app builds (password-reset mails,
redirects, absolute URLs); a forged one poisons caches and mails. Every request
is checked against ``allowed_hosts`` before it reaches a handler. ``X-Forwarded-*``
headers are honoured only when the peer is one of ``trusted_proxies``; from anyone
else they are ignored, since any client can send them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any

from satchel.exceptions import ImproperlyConfigured

#: Hosts accepted when ``allowed_hosts`` is empty and debug is off: only local ones,
#: so a fresh app behind a proxy fails loudly until it is configured.
PRODUCTION_DEFAULT_HOSTS = ("localhost", "127.0.0.1", "[::1]", "testserver")
#: Hosts accepted when ``allowed_hosts`` is empty in debug: any ``*.localhost`` too.
DEBUG_DEFAULT_HOSTS = (".localhost", "127.0.0.1", "[::1]", "testserver")

# A Host value, lower-cased: a DNS name or IPv4 address, or a bracketed IPv6 address,
# with an optional port. Anything else (spaces, '@', '/', '\\', non-ASCII) is refused.
_HOST = re.compile(r"(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?")
# How many distinct accepted Host values are remembered; a cache, not a limit.
_CACHE_SIZE = 512


def split_host(value: str) -> tuple[str, str] | None:
    """Return ``(domain, port)`` of a ``Host`` value, or ``None`` when it is malformed.

    The domain is lower-cased and loses a trailing dot (``Example.COM.`` is
    ``example.com``); the port is ``""`` when absent.
    """
    value = value.lower()
    if not _HOST.fullmatch(value):
        return None
    if value.startswith("["):
        end = value.index("]") + 1
        domain, port = value[:end], value[end + 1 :]
    else:
        domain, _, port = value.partition(":")
    domain = domain.removesuffix(".")
    return (domain, port) if domain else None


def request_host(request: Any) -> str:
    """Return ``request``'s host (kept for callers; :attr:`Request.host` does the work)."""
    return str(request.host)


def _check_pattern(pattern: str, setting: str) -> str:
    if pattern == "*":
        return pattern
    if pattern.startswith("*."):
        raise ImproperlyConfigured(
            f"{setting} entry {pattern!r}: write '{pattern[1:]}' to match a domain and its "
            "subdomains"
        )
    if "/" in pattern or "@" in pattern or " " in pattern:
        raise ImproperlyConfigured(
            f"{setting} entry {pattern!r} must be a host name such as 'example.com' or "
            "'.example.com', without a scheme, path or port"
        )
    bare = pattern.lower()
    if bare.startswith("."):
        parsed = split_host(bare[1:])
        if parsed is None or parsed[1]:
            raise ImproperlyConfigured(f"{setting} entry {pattern!r} is not a valid domain")
        return "." + parsed[0]
    parsed = split_host(bare)
    if parsed is None or parsed[1]:
        raise ImproperlyConfigured(
            f"{setting} entry {pattern!r} is not a valid host name (leave the port out: "
            "any port of an allowed host is allowed)"
        )
    return parsed[0]


class AllowedHosts:
    """Decide whether a ``Host`` value names this app.

    Patterns: ``example.com`` (exactly), ``.example.com`` (the domain and every
    subdomain), ``*`` (anything well-formed). Ports are ignored. Accepted values
    are remembered, so the common case is one set lookup.
    """

    def __init__(self, patterns: Iterable[str], setting: str = "allowed_hosts") -> None:
        checked = [_check_pattern(p.strip(), setting) for p in patterns if p.strip()]
        self.patterns = tuple(checked)
        self.allow_any = "*" in checked
        self.exact = frozenset(p for p in checked if p != "*" and not p.startswith("."))
        self.suffixes = tuple(p for p in checked if p.startswith("."))
        #: Host values already accepted (a cache; per instance, never shared).
        self.accepted: set[str] = set()

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        if value in self.accepted:
            return True
        parsed = split_host(value)
        if parsed is None:
            return False
        domain = parsed[0]
        ok = (
            self.allow_any
            or domain in self.exact
            or any(domain == s[1:] or domain.endswith(s) for s in self.suffixes)
        )
        if ok and len(self.accepted) < _CACHE_SIZE:
            self.accepted.add(value)
        return ok

    def __repr__(self) -> str:
        return f"AllowedHosts({list(self.patterns)!r})"


def effective_hosts(configured: Iterable[str], debug: bool) -> list[str]:
    """Return the host patterns in force: ``configured``, or the local defaults when empty."""
    hosts = [h for h in configured if h.strip()]
    if hosts:
        return hosts
    return list(DEBUG_DEFAULT_HOSTS if debug else PRODUCTION_DEFAULT_HOSTS)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[bool, tuple[Network, ...]]:
    """Return ``(trust_everyone, networks)`` for ``trusted_proxies`` entries.

    Each entry is an address (``10.0.0.5``) or a network (``10.0.0.0/8``); ``*``
    trusts every peer (only right when nothing but the proxy can reach the app).
    """
    everyone = False
    networks: list[Network] = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        if entry == "*":
            everyone = True
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"trusted_proxies entry {entry!r} is not an IP address or network "
                "(such as '10.0.0.5' or '10.0.0.0/8')"
            ) from None
    return everyone, tuple(networks)


def _parse_ip(text: str) -> str | None:
    """Return the address in an ``X-Forwarded-For`` item (ports and brackets dropped)."""
    text = text.strip()
    candidates = [text]
    if text.startswith("["):
        candidates.append(text[1:].partition("]")[0])
    elif text.count(":") == 1:
        candidates.append(text.partition(":")[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


class TrustedProxies:
    """Apply ``X-Forwarded-Proto/Host/For`` to a request whose peer is a trusted proxy.

    Of a comma-separated list, the last item is the one the nearest proxy wrote, so
    scheme and host come from the last item; the client is the right-most address
    that is not itself a trusted proxy.
    """

    def __init__(self, entries: Iterable[str]) -> None:
        self.everyone, self.networks = parse_networks(entries)
        self._verdicts: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return self.everyone or bool(self.networks)

    def is_trusted(self, address: str) -> bool:
        """Return whether ``address`` belongs to a trusted proxy."""
        if self.everyone:
            return True
        verdict = self._verdicts.get(address)
        if verdict is None:
            try:
                ip = ipaddress.ip_address(address.strip("[]"))
            except ValueError:
                verdict = False
            else:
                verdict = any(ip in net for net in self.networks)
            if len(self._verdicts) < _CACHE_SIZE:
                self._verdicts[address] = verdict
        return verdict

    def apply(self, request: Any) -> None:
        """Rewrite ``request``'s scheme, host and client from a trusted proxy's headers."""
        peer = request.client_addr
        if peer is None or not self.is_trusted(peer[0]):
            return
        headers = request.headers
        scheme = host = None
        client: tuple[str, int] | None = None
        proto = headers.get("x-forwarded-proto")
        if proto:
            last = proto.rpartition(",")[2].strip().lower()
            if last in ("http", "https"):
                scheme = last
        forwarded_host = headers.get("x-forwarded-host")
        if forwarded_host:
            host = forwarded_host.rpartition(",")[2].strip()
        forwarded_for = headers.get("x-forwarded-for")
        if forwarded_for:
            found: str | None = None
            for item in reversed(forwarded_for.split(",")):
                address = _parse_ip(item)
                if address is None:
                    break  # garbage from the far side: keep the last address we could trust
                found = address
                if not self.is_trusted(address):
                    break
            if found is not None:
                client = (found, 0)
        if scheme or host or client:
            set_forwarded(request, scheme=scheme, host=host, client=client)


def set_forwarded(
    request: Any,
    *,
    scheme: str | None = None,
    host: str | None = None,
    client: tuple[str, int] | None = None,
) -> None:
    """Make ``request.scheme``, ``request.host`` and ``request.client`` say what a proxy said."""
    request.set_forwarded(scheme=scheme, host=host, client=client)


__all__ = [
    "DEBUG_DEFAULT_HOSTS",
    "PRODUCTION_DEFAULT_HOSTS",
    "AllowedHosts",
    "TrustedProxies",
    "effective_hosts",
    "parse_networks",
    "request_host",
    "set_forwarded",
    "split_host",
]
