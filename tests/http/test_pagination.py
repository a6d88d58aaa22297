"""Link headers for paginated responses (RFC 8288)."""

from __future__ import annotations

from typing import Any

import pytest

from satchel import App, JSONResponse, Request
from satchel.http.pagination import link_header, page_count, page_links, pagination_headers
from satchel.testing import TestClient


def test_links_in_the_middle_of_a_known_total() -> None:
    links = page_links("https://x.test/items?q=tea&page=9", page=2, per_page=10, total=35)
    assert links == {
        "first": "https://x.test/items?q=tea&page=1&per_page=10",
        "prev": "https://x.test/items?q=tea&page=1&per_page=10",
        "next": "https://x.test/items?q=tea&page=3&per_page=10",
        "last": "https://x.test/items?q=tea&page=4&per_page=10",
    }


def test_first_and_last_pages() -> None:
    first = page_links("/items", page=1, per_page=10, total=35)
    assert set(first) == {"first", "next", "last"}
    last = page_links("/items", page=4, per_page=10, total=35)
    assert set(last) == {"first", "prev", "last"}
    beyond = page_links("/items", page=99, per_page=10, total=35)
    assert beyond["prev"].endswith("page=4&per_page=10")
    assert "next" not in beyond
    empty = page_links("/items", page=1, per_page=10, total=0)
    assert set(empty) == {"first", "last"}
    unknown = page_links("/items", page=3, per_page=10)
    assert set(unknown) == {"first", "prev", "next"}


def test_page_count() -> None:
    assert [page_count(n, 10) for n in (0, 1, 10, 11, 100)] == [1, 1, 1, 2, 10]
    with pytest.raises(ValueError, match="per_page"):
        page_links("/", page=1, per_page=0)


def test_link_header_format_and_injection() -> None:
    value = link_header({"next": "/a?x=1", "prev": "/b"})
    assert value == '</a?x=1>; rel="next", </b>; rel="prev"'
    hostile = link_header({"next": '/a?x=>; rel="evil"\r\nSet-Cookie: a=b'})
    assert "\r" not in hostile and "\n" not in hostile
    assert hostile.count(">") == 1 and hostile.count("<") == 1
    with pytest.raises(ValueError, match="relation"):
        link_header({'next"; evil="': "/a"})


def test_pagination_headers_from_a_request() -> None:
    app = App()

    @app.get("/items")
    async def items(request: Request, page: int = 1, per_page: int = 2) -> Any:
        rows = list(range(5))[(page - 1) * per_page : page * per_page]
        headers = pagination_headers(request, page=page, per_page=per_page, total=5)
        return JSONResponse(rows, headers=headers)

    got = TestClient(app).get("/items", params={"page": 2, "q": "a b\r\n"})
    assert got.json() == [2, 3]
    assert got.headers["x-total-count"] == "5"
    link = got.headers["link"]
    assert '<http://testserver/items?q=a%20b%0D%0A&page=3&per_page=2>; rel="next"' in link
    assert 'rel="last"' in link and "page=3" in link
