"""A small typed API: ``satchel run --app examples/api/app.py`` and open http://127.0.0.1:8000/docs.

It shows what the APIs guide (docs/apis.md) describes: typed parameters,
response models that filter what is sent, declared error responses, content
negotiation, ETags, pagination links, uploads and a module with its own tag.
tests/openapi/test_schemathesis.py runs schemathesis against it.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from satchel import App, Header, Module, NotFound, Query, Request, Response, UploadFile
from satchel.http.conditional import check_if_match, etag_response, make_etag
from satchel.http.negotiation import accepted_media_type
from satchel.http.pagination import pagination_headers
from satchel.http.response import dump_json
from satchel.openapi import Problem, openapi_config
from satchel.security import csrf_exempt

app = App(title="Shop API", version="1.0.0", openapi_in_production=True)
# Clients of this API send no cookies (no session to ride on), so CSRF tokens do
# not apply; an API that also serves a browser session would keep the check.
csrf_exempt(app)
openapi_config(app).description = "A small shop: items, their images and a sales report."

#: Items kept in memory; the oldest go first past this many (the store stays bounded).
MAX_ITEMS = 500


class ItemIn(BaseModel):
    """What a client sends to create or replace an item."""

    name: str = Field(min_length=1, max_length=80)
    price: float = Field(gt=0, le=1_000_000)
    tags: list[Annotated[str, Field(max_length=30)]] = Field(default=[], max_length=10)


class ItemOut(BaseModel):
    """An item as clients see it (the purchase cost stays private)."""

    id: int
    name: str
    price: float
    tags: list[str]


class ImageInfo(BaseModel):
    """What was stored for an uploaded image."""

    item_id: int
    filename: str | None
    content_type: str | None
    size: int


class Health(BaseModel):
    """Whether the service is up."""

    status: Literal["ok"] = "ok"


@dataclass
class Item:
    """An item as stored: more fields than clients may see."""

    id: int
    name: str
    price: float
    tags: list[str] = field(default_factory=list)
    cost: float = 0.0  # private: ItemOut does not declare it, so it is never sent


class Store:
    """A bounded in-memory item store."""

    def __init__(self) -> None:
        self.items: dict[int, Item] = {}
        self._ids = itertools.count(1)

    def add(self, data: ItemIn) -> Item:
        item = Item(next(self._ids), data.name, data.price, list(data.tags), cost=data.price / 2)
        self.items[item.id] = item
        while len(self.items) > MAX_ITEMS:
            del self.items[next(iter(self.items))]
        return item

    def get(self, item_id: int) -> Item:
        item = self.items.get(item_id)
        if item is None:
            raise NotFound(f"No item {item_id}")
        return item


store = Store()
store.add(ItemIn(name="Teapot", price=25.0, tags=["kitchen"]))
store.add(ItemIn(name="Kettle", price=40.0, tags=["kitchen", "electric"]))


@app.get("/health", tags=["service"])
async def health() -> Health:
    """Report that the service is up."""
    return Health()


@app.get("/items", response_model=list[ItemOut], tags=["items"])
async def list_items(
    request: Request,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    tag: Annotated[str | None, Query(max_length=30, description="Only items with this tag")] = None,
) -> tuple[list[Item], int, dict[str, str]]:
    """List items, a page at a time.

    The `Link` header points to the first, previous, next and last pages.
    """
    items = [i for i in store.items.values() if tag is None or tag in i.tags]
    start = (page - 1) * per_page
    headers = pagination_headers(request, page=page, per_page=per_page, total=len(items))
    return items[start : start + per_page], 200, headers  # the body is shaped by list[ItemOut]


@app.post("/items", status_code=201, response_model=ItemOut, tags=["items"])
async def create_item(data: ItemIn) -> Item:
    """Create an item."""
    return store.add(data)  # ItemOut reads its attributes; `cost` is left out


@app.get("/items/{item_id:int}", response_model=ItemOut, responses={404: Problem}, tags=["items"])
async def get_item(request: Request, item_id: int) -> Response:
    """Return one item, with an ETag.

    Send the ETag back in `If-None-Match` to get `304 Not Modified` when it has not changed.
    """
    item = ItemOut.model_validate(store.get(item_id), from_attributes=True)
    return etag_response(request, item)


@app.put(
    "/items/{item_id:int}",
    response_model=ItemOut,
    responses={404: Problem, 412: "The item changed meanwhile"},
    tags=["items"],
)
async def replace_item(request: Request, item_id: int, data: ItemIn) -> Item:
    """Replace an item; with `If-Match`, only if it is still the version the client read."""
    item = store.get(item_id)
    current = ItemOut.model_validate(item, from_attributes=True)
    check_if_match(request, make_etag(dump_json(current)))
    item.name, item.price, item.tags = data.name, data.price, list(data.tags)
    return item


@app.delete("/items/{item_id:int}", responses={404: Problem}, tags=["items"])
async def delete_item(item_id: int) -> None:
    """Delete an item."""
    store.get(item_id)
    del store.items[item_id]


@app.get(
    "/items/{item_id:int}/export",
    produces=["application/json", "text/csv"],
    response_model=ItemOut,
    responses={404: Problem},
    tags=["items"],
)
async def export_item(request: Request, item_id: int) -> Item | Response:
    """Return one item as JSON or CSV, as the `Accept` header prefers."""
    item = store.get(item_id)
    if accepted_media_type(request) == "text/csv":
        out = io.StringIO()
        csv.writer(out).writerows([["id", "name", "price"], [item.id, item.name, item.price]])
        return Response(out.getvalue(), media_type="text/csv")
    return item


@app.post("/items/{item_id:int}/image", responses={404: Problem}, tags=["items"])
async def upload_image(item_id: int, image: UploadFile) -> ImageInfo:
    """Attach an image to an item (multipart upload)."""
    store.get(item_id)
    data = await image.read()
    return ImageInfo(
        item_id=item_id, filename=image.filename, content_type=image.content_type, size=len(data)
    )


reports = Module("reports", prefix="/reports")


class Summary(BaseModel):
    """Totals over the whole store."""

    count: int
    total_value: float
    currency: Literal["EUR", "USD"]


@reports.get("/summary")
async def summary(
    currency: Annotated[Literal["EUR", "USD"], Header(alias="x-currency")] = "EUR",
) -> Summary:
    """Count the items and add up their prices."""
    rate = 1.0 if currency == "EUR" else 1.1
    total = sum(i.price for i in store.items.values()) * rate
    return Summary(count=len(store.items), total_value=round(total, 2), currency=currency)


app.include(reports)
