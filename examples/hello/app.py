"""The Satchel example site: ``python3 dev.py run`` serves it on http://127.0.0.1:8000.

A home page with a visit counter kept in the session, a guestbook on SQLite (a model,
a checked-in migration, a typed form with CSRF, flash messages, POST/redirect/GET),
and a few JSON and WebSocket routes. docs/tutorial.md builds it step by step.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from satchel import App, HTMLResponse, Request, Response, WebSocket, flash, redirect, render
from satchel.db import AsyncSession, Database, Model, TimestampMixin
from satchel.forms import Form, LongText
from satchel.migrations import Migrations
from satchel.templates import collect_static, serve_static
from satchel.templates.assets import MANIFEST_NAME, static_root

logger = logging.getLogger("hello")

# The URL comes from the database_url setting: SATCHEL_DATABASE_URL, else
# sqlite:///app.db, a file beside this one.
db = Database()
app = App(title="Satchel example", database=db)


# -- the guestbook: model and form -----------------------------------------------------


class Entry(TimestampMixin, Model):
    """One signature in the guestbook."""

    __tablename__ = "guestbook_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(254))
    message: Mapped[str] = mapped_column(Text)


class SignForm(Form):
    """What a visitor writes in the guestbook."""

    # "  " is not a name: spaces around a value are dropped before the checks.
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=50)
    email: EmailStr = Field(description="Never shown to anyone.")
    message: Annotated[str, LongText] = Field(min_length=5, max_length=500)


@app.route("/guestbook", methods=["GET", "POST"])
async def guestbook(request: Request, session: AsyncSession) -> Response:
    """Show the guestbook and its form; on a valid POST, save the entry and redirect."""
    remembered = {"name": request.session.get("name", "")}
    form = await SignForm.from_request(request, initial=remembered)
    if form.is_valid():
        entry = Entry(**form.data.model_dump())
        session.add(entry)
        # The visitor's name is remembered for the next visit.
        request.session["name"] = entry.name
        flash(request, f"Thanks for signing, {entry.name}!", "success")
        return redirect(app.url_for("guestbook"))
    entries = await session.scalars(select(Entry).order_by(Entry.id.desc()).limit(50))
    return render(
        request,
        "guestbook.html",
        form=form,
        entries=entries.all(),
        status_code=422 if form.is_bound else 200,
    )


# -- pages and JSON routes -------------------------------------------------------------


@app.get("/")
def index(request: Request) -> HTMLResponse:
    """Say hello and count this visitor's visits in the session."""
    visits = request.session.get("visits", 0) + 1
    request.session["visits"] = visits
    return render(request, "index.html", visits=visits)


class ItemIn(BaseModel):
    """An item sent by a client."""

    name: str
    price: float


@app.get("/users/{id:int}")
async def user(id: int) -> dict[str, int]:
    """Return a user id as JSON."""
    return {"id": id}


@app.post("/items", status_code=201)
async def create(item: ItemIn) -> ItemIn:
    """Validate a JSON body and echo it back (JSON without cookies needs no CSRF token)."""
    return item


@app.get("/search")
async def search(request: Request, q: str = "", page: int = 1) -> dict[str, object]:
    """Read typed query parameters."""
    return {"q": q, "page": page, "client": request.client.host if request.client else None}


@app.websocket("/ws/echo")
async def echo(ws: WebSocket) -> None:
    """Echo text messages back."""
    await ws.accept()
    async for text in ws.iter_text():
        await ws.send_text(text)


# -- getting ready to serve --------------------------------------------------------------


@app.on_startup
def prepare() -> None:
    """Apply pending migrations and, with debug off, collect static files if never collected.

    An example has to run from a fresh clone with one command. A real project runs
    ``satchel db migrate`` and ``satchel collectstatic`` in its deploy script
    instead (several workers starting at once should not all migrate).
    """
    migrations = Migrations.for_app(app)
    pending = migrations.pending()
    if pending:
        logger.warning("applying %d migration(s): %s", len(pending), ", ".join(pending))
        migrations.upgrade()
    root = Path(static_root(app))
    if not app.debug and not (root / MANIFEST_NAME).is_file():
        logger.warning("collecting static files into %s", root)
        collect_static(app)


# Registered after prepare(): with debug off it serves what prepare() collected.
serve_static(app)
