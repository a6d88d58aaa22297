"""Create and fill the database benchmark's tables (TechEmpower's ``World`` and ``Fortune``).

    .venv/bin/python bench/db/setup.py [--url postgresql://postgres@127.0.0.1:5432/test]

Idempotent: tables that already hold the right rows are left alone, anything else is
created or filled again. ``world`` has 10,000 rows with ``randomnumber`` in 1..10000
(the /updates benchmark keeps them in that range); ``fortune`` the 12 standard rows,
one with a ``<script>`` and one in Japanese. The URL defaults to BENCH_DATABASE_URL,
then SATCHEL_TEST_POSTGRES_URL, then the local development server.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _db_common import DATABASE_URL, WORLD_ROWS  # noqa: E402

FORTUNES = [
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. — Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "フレームワークのベンチマーク"),
]

_COLUMNS = {
    "world": [("id", "integer"), ("randomnumber", "integer")],
    "fortune": [("id", "integer"), ("message", "character varying")],
}
_CREATE = {
    "world": "CREATE TABLE world (id integer PRIMARY KEY, randomnumber integer NOT NULL DEFAULT 0)",
    "fortune": "CREATE TABLE fortune (id integer PRIMARY KEY, message varchar(2048) NOT NULL)",
}


def _libpq_url(url: str) -> str:
    """psycopg takes ``postgresql://`` only (no SQLAlchemy driver suffix)."""
    scheme, sep, rest = url.partition("://")
    return "postgresql" + sep + rest if scheme.startswith("postgres") else url


def _columns(cur: psycopg.Cursor, table: str) -> list[tuple[str, str]]:
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        (table,),
    )
    return [(name, kind) for name, kind in cur.fetchall()]


def _ensure_table(cur: psycopg.Cursor, table: str) -> bool:
    """Create ``table`` (again, if its columns are wrong); return whether it is new."""
    columns = _columns(cur, table)
    if columns == _COLUMNS[table]:
        return False
    if columns:
        cur.execute(f"DROP TABLE {table}")
    cur.execute(_CREATE[table])
    return True


def ensure(url: str = DATABASE_URL, *, verbose: bool = True) -> None:
    """Make the benchmark tables exist and hold the benchmark's rows."""
    with psycopg.connect(_libpq_url(url), autocommit=False) as conn, conn.cursor() as cur:
        # One setup at a time (two benchmark runs starting together, or CI beside a dev).
        cur.execute("SELECT pg_advisory_xact_lock(7319001)")
        changed = []
        _ensure_table(cur, "world")
        cur.execute(
            "SELECT count(*), count(DISTINCT id), min(id), max(id),"
            " coalesce(min(randomnumber), 0), coalesce(max(randomnumber), 0) FROM world"
        )
        count, distinct, low, high, low_n, high_n = cur.fetchone()  # type: ignore[misc]
        if (count, distinct, low, high) != (WORLD_ROWS, WORLD_ROWS, 1, WORLD_ROWS) or not (
            low_n >= 1 and high_n <= WORLD_ROWS
        ):
            cur.execute("TRUNCATE world")
            with cur.copy("COPY world (id, randomnumber) FROM STDIN") as copy:
                for i in range(1, WORLD_ROWS + 1):
                    copy.write_row((i, random.randint(1, WORLD_ROWS)))
            changed.append("world")
        _ensure_table(cur, "fortune")
        cur.execute("SELECT id, message FROM fortune ORDER BY id")
        if cur.fetchall() != FORTUNES:
            cur.execute("TRUNCATE fortune")
            cur.executemany("INSERT INTO fortune (id, message) VALUES (%s, %s)", FORTUNES)
            changed.append("fortune")
        conn.commit()
        if changed:
            conn.autocommit = True
            for table in changed:
                cur.execute(f"VACUUM ANALYZE {table}")
    if verbose:
        print(f"benchmark tables ready ({', '.join(changed) or 'nothing'} (re)filled)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DATABASE_URL, help="PostgreSQL URL")
    args = parser.parse_args(argv)
    ensure(args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
