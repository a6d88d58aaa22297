"""The benchmark's two tables as Satchel models (ORM path) and as their Table objects (Core)."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from satchel.db import Model


class World(Model):
    __tablename__ = "world"
    id: Mapped[int] = mapped_column(primary_key=True)
    randomnumber: Mapped[int]


class Fortune(Model):
    __tablename__ = "fortune"
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(2048))


world_table = World.__table__
fortune_table = Fortune.__table__
