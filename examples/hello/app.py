"""The Satchel example app: ``python3 dev.py run`` serves it on http://127.0.0.1:8000."""

from __future__ import annotations

from pydantic import BaseModel

from satchel import App, Request, WebSocket

app = App(title="Satchel example")


class ItemIn(BaseModel):
    """An item sent by a client."""

    name: str
    price: float


@app.get("/")
def index() -> str:
    """Say hello in HTML."""
    return (
        "<h1>Hello from Satchel</h1>"
        f'<p>Try <a href="{app.url_for("user", id=3)}">a JSON route</a>.</p>'
    )


@app.get("/users/{id:int}")
async def user(id: int) -> dict[str, int]:
    """Return a user id as JSON."""
    return {"id": id}


@app.post("/items", status_code=201)
async def create(item: ItemIn) -> ItemIn:
    """Validate a JSON body and echo it back."""
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
