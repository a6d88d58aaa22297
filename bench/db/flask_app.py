"""Flask + Flask-SQLAlchemy (psycopg): ``db.session`` per request, ``render_template``."""

from operator import attrgetter

from _db_common import (
    ADDITIONAL_FORTUNE,
    DATABASE_URL,
    POOL_SIZE,
    TEMPLATES,
    clamp_queries,
    random_id,
    random_number,
)
from flask import Flask, render_template, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

app = Flask(__name__, template_folder=str(TEMPLATES))
app.config["SQLALCHEMY_DATABASE_URI"] = DATABASE_URL.replace(
    "postgresql://", "postgresql+psycopg://"
)
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": POOL_SIZE, "max_overflow": 0}
db = SQLAlchemy(app)


class World(db.Model):
    __tablename__ = "world"
    id: Mapped[int] = mapped_column(primary_key=True)
    randomnumber: Mapped[int]


class Fortune(db.Model):
    __tablename__ = "fortune"
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(2048))


@app.get("/db")
def single():
    world = db.session.get(World, random_id())
    return {"id": world.id, "randomNumber": world.randomnumber}


@app.get("/queries")
def queries():
    worlds = []
    for _ in range(clamp_queries(request.args.get("queries"))):
        world = db.session.get(World, random_id())
        worlds.append({"id": world.id, "randomNumber": world.randomnumber})
    return worlds


@app.get("/updates")
def updates():
    worlds = []
    for _ in range(clamp_queries(request.args.get("queries"))):
        world = db.session.get(World, random_id())
        world.randomnumber = random_number()
        worlds.append({"id": world.id, "randomNumber": world.randomnumber})
    db.session.commit()
    return worlds


@app.get("/fortunes")
def fortunes():
    rows = list(db.session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return render_template("fortunes.html", fortunes=rows)
