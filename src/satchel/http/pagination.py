"""Pagination links: the ``Link`` header (RFC 8288) that points to other pages.

::

    @app.get("/items")
    async def items(request: Request, page: int = 1, per_page: int = 20) -> Response:
        rows, total = await load(page, per_page)
        headers = pagination_headers(request, page=page, per_page=per_page, total=total)
        return JSONResponse(rows, headers=headers)

The response then carries ``Link: <https://host/items?page=3&per_page=20>;
rel="next", ...`` and ``X-Total-Count``; the other query parameters of the
request are kept in every link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from satchel.http.url import URL

# Characters that would end the URI reference or split the header.
_UNSAFE = str.maketrans({">": "%3E", "<": "%3C", '"': "%22", " ": "%20", "\r": "", "\n": ""})


def link_header(links: Mapping[str, str]) -> str:
    """Return a ``Link`` header value from ``{rel: url}`` (``'<url>; rel="next", ...'``)."""
    parts = []
    for rel, url in links.items():
        if not rel.replace("-", "").replace(".", "").isalnum():
            raise ValueError(f"invalid link relation {rel!r}")
        parts.append(f'<{url.translate(_UNSAFE)}>; rel="{rel}"')
    return ", ".join(parts)


def page_count(total: int, per_page: int) -> int:
    """Return how many pages ``total`` items fill (at least one)."""
    return max(1, -(-total // per_page))


def page_links(
    url: str,
    *,
    page: int,
    per_page: int,
    total: int | None = None,
    page_param: str = "page",
    per_page_param: str = "per_page",
) -> dict[str, str]:
    """Return ``first``/``prev``/``next``/``last`` URLs around ``page`` (numbered from 1).

    Without ``total`` there is no ``last`` and ``next`` is always given (the caller
    knows when a page came back short and can drop it).
    """
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    base = URL(url)

    def at(number: int) -> str:
        params: dict[str, Any] = {page_param: number, per_page_param: per_page}
        return str(base.include_query_params(**params))

    links = {"first": at(1)}
    last = page_count(total, per_page) if total is not None else None
    page = max(1, page)
    if page > 1:
        links["prev"] = at(min(page - 1, last) if last is not None else page - 1)
    if last is None or page < last:
        links["next"] = at(page + 1)
    if last is not None:
        links["last"] = at(last)
    return links


def pagination_headers(
    request: Any,
    *,
    page: int,
    per_page: int,
    total: int | None = None,
    page_param: str = "page",
    per_page_param: str = "per_page",
) -> dict[str, str]:
    """Return ``Link`` (and ``X-Total-Count`` when ``total`` is known) for ``request``'s URL."""
    links = page_links(
        str(request.url),
        page=page,
        per_page=per_page,
        total=total,
        page_param=page_param,
        per_page_param=per_page_param,
    )
    headers = {"link": link_header(links)}
    if total is not None:
        headers["x-total-count"] = str(total)
    return headers


__all__ = ["link_header", "page_count", "page_links", "pagination_headers"]
