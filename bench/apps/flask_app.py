"""Flask (WSGI, served with granian --interface wsgi): decorators, `<int:id>` converter,
dict return values turned into JSON by Flask's default JSON provider."""

from _common import EXTRA_ROUTES, JSON_BODY, PLAINTEXT
from flask import Flask

app = Flask(__name__)

TEXT = {"Content-Type": "text/plain; charset=utf-8"}


def _add_extra(i):
    def page():
        return f"page {i}", TEXT

    def item(item_id):
        return {"item_id": item_id}

    app.add_url_rule(f"/static{i}/page", f"page{i}", page)
    app.add_url_rule(f"/extra{i}/items/<int:item_id>", f"item{i}", item)


for i in range(EXTRA_ROUTES):
    _add_extra(i)


@app.get("/plaintext")
def plaintext():
    return PLAINTEXT, TEXT


@app.get("/json")
def json_():
    return JSON_BODY


@app.get("/users/<int:id>")
def user(id):
    return {"id": id}
