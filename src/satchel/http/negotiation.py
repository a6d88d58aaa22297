"""Content negotiation: read ``Accept``-style headers and pick what to send.

``Accept: text/html, application/json;q=0.9, */*;q=0.1`` lists media ranges, each
with an optional quality ``q`` between 0 and 1 (RFC 9110, section 12). For every
media type the server can offer, the most specific range that matches it gives
its quality; the offer with the highest quality wins, ties going to the server's
order, and a quality of 0 means "never". Parsing is bounded: overlong headers and
items past :data:`MAX_ITEMS` are ignored, never an error.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from satchel.exceptions import NotAcceptable

#: Items of one header that are looked at; the rest are ignored (bounded work).
MAX_ITEMS = 32
#: Characters of one header that are looked at.
MAX_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class MediaRange:
    """One item of an ``Accept`` header: ``type/subtype;param=value;q=0.5``."""

    type: str
    subtype: str
    q: float = 1.0
    params: tuple[tuple[str, str], ...] = ()

    @property
    def specificity(self) -> int:
        """Rank the range's precision: ``*/*`` 0, ``text/*`` 1, ``text/html`` 2, 3 with params."""
        if self.type == "*":
            return 0
        if self.subtype == "*":
            return 1
        return 3 if self.params else 2

    def matches(self, media_type: str) -> bool:
        """Return whether ``media_type`` (``type/subtype[;params]``) falls in this range."""
        kind, _, rest = media_type.partition(";")
        main, _, sub = kind.strip().lower().partition("/")
        if self.type != "*" and self.type != main:
            return False
        if self.subtype != "*" and self.subtype != sub:
            return False
        if self.params:
            offered = dict(_params(rest))
            return all(offered.get(key) == value for key, value in self.params)
        return True

    def __str__(self) -> str:
        text = f"{self.type}/{self.subtype}"
        for key, value in self.params:
            text += f";{key}={value}"
        return text if self.q == 1.0 else f"{text};q={self.q:g}"


def parse_qvalue(text: str) -> float:
    """Return the quality in ``text`` (``"0.8"``); malformed or out-of-range values are 0."""
    text = text.strip()
    if not text or len(text) > 5:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        return 0.0
    return value if 0.0 <= value <= 1.0 else 0.0


def _params(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split(";")[:8]:
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if key and sep:
            out.append((key, value.strip().strip('"').lower()))
    return out


def parse_header_items(header: str | None) -> list[tuple[str, float, tuple[tuple[str, str], ...]]]:
    """Split a ``token;q=x`` list (``Accept``, ``Accept-Encoding``...) into items.

    Returns ``(token lower-cased, q, other params)`` per item, in header order.
    """
    if not header:
        return []
    items = []
    for raw in header[:MAX_LENGTH].split(",", MAX_ITEMS)[:MAX_ITEMS]:
        token, _, rest = raw.partition(";")
        token = token.strip().lower()
        if not token:
            continue
        q = 1.0
        params = []
        for key, value in _params(rest):
            if key == "q":
                q = parse_qvalue(value)
                break  # what follows q are accept-extensions, not media type params
            params.append((key, value))
        items.append((token, q, tuple(params)))
    return items


def parse_accept(header: str | None) -> tuple[MediaRange, ...]:
    """Return the media ranges of an ``Accept`` header, most preferred first.

    Order: quality, then specificity, then header order. Malformed items are skipped.
    """
    return _parse_accept(header[:MAX_LENGTH]) if header else ()


# Cached: clients send the same few Accept headers over and over.
@functools.lru_cache(maxsize=512)
def _parse_accept(header: str) -> tuple[MediaRange, ...]:
    ranges = []
    for token, q, params in parse_header_items(header):
        main, slash, sub = token.partition("/")
        if not slash or not main or not sub or (main == "*" and sub != "*"):
            continue
        ranges.append(MediaRange(main, sub, q, params))
    # sorted() is stable, so equal ranges keep the client's order.
    return tuple(sorted(ranges, key=lambda r: (-r.q, -r.specificity)))


def quality(ranges: Sequence[MediaRange], media_type: str) -> float:
    """Return the quality the client gives ``media_type``: its most specific matching range's."""
    best: MediaRange | None = None
    for candidate in ranges:
        if candidate.matches(media_type) and (
            best is None or candidate.specificity > best.specificity
        ):
            best = candidate
    return best.q if best is not None else 0.0


@functools.lru_cache(maxsize=512)
def _best(header: str, offers: tuple[str, ...]) -> str | None:
    ranges = parse_accept(header)
    if not ranges:
        return offers[0] if offers else None
    chosen: str | None = None
    chosen_q = 0.0
    for offer in offers:
        q = quality(ranges, offer)
        if q > chosen_q:
            chosen, chosen_q = offer, q
    return chosen


def best_match(accept: str | None, offers: Sequence[str]) -> str | None:
    """Return the offer the client prefers, or ``None`` when it accepts none of them.

    A missing or empty ``Accept`` (or one with no valid item) accepts anything: the
    first offer is returned.
    """
    if not offers:
        return None
    if not accept:
        return offers[0]
    return _best(accept[:MAX_LENGTH], tuple(offers))


def not_acceptable(offers: Sequence[str]) -> NotAcceptable:
    """Return the 406 error to raise when nothing in ``offers`` fits the ``Accept`` header."""
    listed = ", ".join(offers)
    return NotAcceptable(f"This resource is available as: {listed}. Adjust the Accept header.")


def negotiate(request: Any, offers: Sequence[str]) -> str:
    """Return the media type to answer ``request`` with; raise 406 when none fits."""
    chosen = best_match(request.headers.get("accept"), offers)
    if chosen is None:
        raise not_acceptable(offers)
    return chosen


def accepted_media_type(request: Any, default: str | None = None) -> str | None:
    """Return the type chosen for a route declared with ``produces=[...]`` (else ``default``)."""
    state = request._state  # not request.state: that would create an empty namespace
    if state is None:
        return default
    value = state.get("media_type", default)
    return value if isinstance(value, str) else default


__all__ = [
    "MAX_ITEMS",
    "MAX_LENGTH",
    "MediaRange",
    "accepted_media_type",
    "best_match",
    "negotiate",
    "not_acceptable",
    "parse_accept",
    "parse_header_items",
    "parse_qvalue",
    "quality",
]
