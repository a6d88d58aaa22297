"""What every database benchmark app shares: the URL, the pool size, the rules, the page.

The rules are TechEmpower's: ``World`` has 10,000 rows whose ``randomNumber`` is in
1..10000; ``queries`` is clamped to 1..500 and anything missing, zero or not a number
counts as 1; fortunes gets one more row at request time, is sorted by message and is
rendered, escaped, by Jinja2.
"""

import os
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"

#: Where the benchmark tables live (bench/db/setup.py creates and fills them).
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
    "SATCHEL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
#: Connections per app: the same for every framework.
POOL_SIZE = 4

WORLD_ROWS = 10_000
ADDITIONAL_FORTUNE = "Additional fortune added at request time."

# The statements of the raw apps (the frameworks build theirs from models and tables).
READ_ROW = "SELECT id, randomnumber FROM world WHERE id = $1"
WRITE_ROW = "UPDATE world SET randomnumber = $2 WHERE id = $1"
ALL_FORTUNES = "SELECT id, message FROM fortune"


def random_id() -> int:
    """Return a random World id."""
    return random.randint(1, WORLD_ROWS)


def random_number() -> int:
    """Return a new randomNumber value."""
    return random.randint(1, WORLD_ROWS)


def clamp_queries(value: str | bytes | None) -> int:
    """Return the ``queries`` parameter clamped to 1..500 (missing or not a number: 1)."""
    try:
        count = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1
    return 1 if count < 1 else 500 if count > 500 else count


def queries_from_query_string(query: bytes | str) -> int:
    """Return the clamped ``queries`` value of a raw query string (for the raw app)."""
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name == "queries":
            return clamp_queries(value)
    return 1
