"""Satchel: the session, CSRF and security-header batteries are on by default."""

from _page_common import ALLOWED_HOST, HERE, ROWS, SECRET_KEY

from satchel import App, HTMLResponse, PlainTextResponse, Request, render

app = App(
    root_path=HERE,
    secret_key=SECRET_KEY,
    allowed_hosts=[ALLOWED_HOST],
    debug=False,
    openapi_url=None,
)


@app.get("/page")
async def page(request: Request) -> HTMLResponse:
    return render(request, "satchel_page.html", rows=ROWS, visits=request.session.get("visits", 0))


@app.post("/page")
async def save(request: Request) -> PlainTextResponse:
    return PlainTextResponse("saved")  # reached only with a valid CSRF token
