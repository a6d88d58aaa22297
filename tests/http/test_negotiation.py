"""Accept parsing with q-values and picking the best offer (RFC 9110, section 12)."""

from __future__ import annotations

import time

import pytest

from satchel.exceptions import NotAcceptable
from satchel.http.negotiation import (
    MAX_ITEMS,
    MediaRange,
    best_match,
    negotiate,
    not_acceptable,
    parse_accept,
    parse_header_items,
    parse_qvalue,
    quality,
)


def test_parse_orders_by_quality_then_specificity_then_position() -> None:
    ranges = parse_accept("text/*;q=0.5, text/html, */*;q=0.1, application/json, text/html;level=1")
    assert [str(r) for r in ranges] == [
        "text/html;level=1",
        "text/html",
        "application/json",
        "text/*;q=0.5",
        "*/*;q=0.1",
    ]


def test_parse_lowercases_and_drops_malformed_items() -> None:
    ranges = parse_accept("TEXT/HTML, nonsense, /json, */json, text/, ;q=1, application/JSON;Q=0.7")
    assert ranges == (MediaRange("text", "html"), MediaRange("application", "json", 0.7))


@pytest.mark.parametrize(
    ("text", "q"),
    [("1", 1.0), ("0.5", 0.5), ("0", 0.0), ("0.001", 0.001), ("2", 0.0), ("-1", 0.0),
     ("abc", 0.0), ("", 0.0), ("nan", 0.0), ("1e-1", 0.1), ("0.000001", 0.0)],
)  # fmt: skip
def test_qvalues(text: str, q: float) -> None:
    assert parse_qvalue(text) == q


def test_params_after_q_are_extensions_not_media_params() -> None:
    (item,) = parse_accept("text/html;level=1;q=0.4;foo=bar")
    assert item.params == (("level", "1"),)
    assert item.q == 0.4


def test_most_specific_range_decides_the_quality() -> None:
    ranges = parse_accept("text/*;q=0.3, text/html;q=0.7, text/html;level=1, */*;q=0.5")
    assert quality(ranges, "text/html;level=1") == 1.0
    assert quality(ranges, "text/html") == 0.7
    assert quality(ranges, "text/plain") == 0.3
    assert quality(ranges, "image/jpeg") == 0.5
    assert quality(ranges, "text/html;level=2") == 0.7


@pytest.mark.parametrize(
    ("accept", "offers", "expected"),
    [
        (None, ["application/json", "text/csv"], "application/json"),
        ("", ["application/json", "text/csv"], "application/json"),
        ("text/csv", ["application/json", "text/csv"], "text/csv"),
        ("*/*", ["application/json", "text/csv"], "application/json"),
        ("text/csv, application/json", ["application/json", "text/csv"], "application/json"),
        ("application/json;q=0.1, text/*", ["application/json", "text/csv"], "text/csv"),
        ("image/png", ["application/json", "text/csv"], None),
        ("application/json;q=0", ["application/json"], None),
        ("*/*, application/json;q=0", ["application/json", "text/csv"], "text/csv"),
        ("Application/Json", ["application/json"], "application/json"),
        ("application/*", ["text/html", "application/problem+json"], "application/problem+json"),
        ("x/y", [], None),
    ],
)
def test_best_match(accept: str | None, offers: list[str], expected: str | None) -> None:
    assert best_match(accept, offers) == expected


def test_hostile_headers_are_bounded() -> None:
    many = ", ".join(f"type{i}/sub{i}" for i in range(10_000)) + ", application/json"
    start = time.perf_counter()
    assert len(parse_accept(many)) == MAX_ITEMS
    # The acceptable type is past the items looked at: nothing fits.
    assert best_match(many, ["application/json"]) is None
    long_item = "text/html;q=0.9;" + "a=b;" * 50_000
    assert best_match(long_item, ["text/html"]) == "text/html"
    assert best_match("text/html;level=1", ["text/html"]) is None  # params must match
    assert best_match("\x00\r\n" * 1000, ["text/html"]) == "text/html"
    assert time.perf_counter() - start < 0.5


def test_header_items_for_other_headers() -> None:
    assert parse_header_items("gzip;q=0.5, br, identity;q=0") == [
        ("gzip", 0.5, ()),
        ("br", 1.0, ()),
        ("identity", 0.0, ()),
    ]
    assert parse_header_items(None) == []


class _Req:
    def __init__(self, accept: str | None) -> None:
        self.headers = {"accept": accept} if accept is not None else {}


def test_negotiate_raises_406_with_the_offers() -> None:
    assert negotiate(_Req("text/csv"), ["application/json", "text/csv"]) == "text/csv"
    with pytest.raises(NotAcceptable) as caught:
        negotiate(_Req("image/*"), ["application/json", "text/csv"])
    assert caught.value.status_code == 406
    assert "application/json, text/csv" in caught.value.detail
    assert not_acceptable(["a/b"]).status_code == 406
