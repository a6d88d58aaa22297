"""What accounts cost per request: queries and time, anonymous vs logged in, and logins/s.

    .venv/bin/python bench/auth_cost.py [--requests 3000] [--logins 40] [--quick]
                                        [--database-url postgresql://...]

The app is called in-process through ASGI on one event loop (no server, no network), so
the numbers are the framework's own work plus the database round trips. Rows:

- ``anonymous, no cookie``: a page that reads ``request.user``; nothing to look up.
- ``anonymous, session cookie``: a visitor whose session holds only a CSRF secret.
- ``logged in (cookie)``: the session names a user: one SELECT by primary key.
- ``logged in (bearer token)``: one SELECT joining the token and its user.
- ``plain page, logged in``: a page that never uses the user (it is loaded anyway).
- ``for scale``: an anonymous page whose handler runs one query through the request's
  ``AsyncSession``: what the user's one query should be compared with.

Then the login POST rate with the default argon2id parameters (t=2, m=64 MiB, p=1), one
at a time and with 8 in flight (argon2 releases the GIL, so the thread pool spreads
them over the cores).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from satchel import App, Request  # noqa: E402
from satchel.auth import Auth, LoginLimits, User  # noqa: E402
from satchel.auth.migrate import migrate  # noqa: E402
from satchel.db import Database  # noqa: E402

PASSWORD = "violet kettle drums at noon"


def build(url: str) -> tuple[App, Auth, Database]:
    db = Database(url)
    migrate(db)
    app = App(database=db, csrf_enabled=False, secret_key="bench-secret-key-0123456789abcdef0123")
    auth = Auth(app, limits=LoginLimits(per_user=10**9, per_address=10**9))

    @app.get("/page")
    async def page(request: Request) -> str:
        return f"hello {request.user.username or 'stranger'}"

    @app.get("/plain")
    async def plain() -> str:
        return "plain"

    @app.get("/query")
    async def one_query(session: AsyncSession) -> str:
        # A page with one query of its own: what any database-backed page costs.
        return str(await session.scalar(select(User.id).limit(1)))

    return app, auth, db


Call = Callable[..., Awaitable[tuple[int, list[tuple[bytes, bytes]]]]]


def caller(app: App) -> Call:
    async def call(
        method: str, path: str, headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b""
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1"), *(headers or [])],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        sent = False
        result: dict[str, Any] = {}

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                result["status"] = message["status"]
                result["headers"] = message["headers"]

        await app(scope, receive, send)
        return result["status"], result["headers"]

    return call


def cookie_from(headers: list[tuple[bytes, bytes]]) -> bytes:
    for name, value in headers:
        if name.lower() == b"set-cookie" and value.startswith(b"session="):
            return value.split(b";", 1)[0]
    raise RuntimeError("no session cookie set")


async def measure(
    call: Call, count: int, counter: list[int], *args: Any, **kwargs: Any
) -> tuple[float, float, float]:
    """Return median wall and CPU microseconds per request (5 batches), and queries/request.

    CPU time (every thread of this process: the event loop, aiosqlite's) is the steadier
    number on a busy machine, where wall time also measures everyone else.
    """
    for _ in range(min(200, count)):
        await call(*args, **kwargs)  # warm up: compiled statements, pools, caches
    walls, cpus = [], []
    counter[0] = 0
    per_batch = max(1, count // 5)
    for _ in range(5):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(per_batch):
            status, _ = await call(*args, **kwargs)
            assert status == 200, status
        walls.append((time.perf_counter() - wall) / per_batch * 1e6)
        cpus.append((time.process_time() - cpu) / per_batch * 1e6)
    return statistics.median(walls), statistics.median(cpus), counter[0] / (5 * per_batch)


async def main_async(args: argparse.Namespace) -> None:
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'auth_cost.db'}"
    app, auth, db = build(url)
    call = caller(app)
    counter = [0]
    async with app.running():
        engine = db.async_engine.sync_engine

        def count(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            if statement.lstrip()[:5].upper() in ("BEGIN", "COMMI", "ROLLB", "SAVEP", "RELEA"):
                return  # transaction control (SQLite's BEGIN IMMEDIATE), not a query
            counter[0] += 1
            if os.environ.get("AUTH_COST_SHOW_SQL"):
                print("   SQL:", " ".join(statement.split())[:120])

        event.listen(engine, "before_cursor_execute", count)
        user = await auth.create_user(f"bench{os.getpid()}", PASSWORD)
        token = await auth.create_token(user, "bench")
        form = f"username={user.username}&password={PASSWORD.replace(' ', '+')}".encode()
        form_headers = [(b"content-type", b"application/x-www-form-urlencoded")]
        status, headers = await call("POST", "/login", form_headers, form)
        assert status == 303, status
        logged_in = [(b"cookie", cookie_from(headers))]
        status, headers = await call("GET", "/plain", [(b"x", b"y")])
        anon_cookie = (
            b"session=" + app.extensions["sessions"].sign_data({"_csrf_secret": "x" * 43}).encode()
        )
        rows = [
            ("anonymous, no cookie", ("GET", "/page")),
            ("anonymous, session cookie", ("GET", "/page", [(b"cookie", anon_cookie)])),
            ("logged in (cookie)", ("GET", "/page", logged_in)),
            (
                "logged in (bearer token)",
                ("GET", "/page", [(b"authorization", f"Bearer {token}".encode())]),
            ),
            ("plain page, anonymous", ("GET", "/plain")),
            ("plain page, logged in", ("GET", "/plain", logged_in)),
            ("for scale: anonymous page running one query", ("GET", "/query")),
        ]
        print(
            f"\ndatabase: {db.url.get_backend_name()}, {args.requests} requests a row, in-process ASGI\n"
        )
        print(f"load average before: {os.getloadavg()[0]:.1f}\n")
        print("| request | wall µs | CPU µs | queries |")
        print("|---|---:|---:|---:|")
        for label, request in rows:
            wall, cpu, queries = await measure(call, args.requests, counter, *request)
            print(f"| {label} | {wall:.0f} | {cpu:.0f} | {queries:.2f} |")

        async def one_login() -> None:
            status, _ = await call("POST", "/login", form_headers, form)
            assert status == 303, status

        started = time.perf_counter()
        for _ in range(args.logins):
            await one_login()
        sequential = args.logins / (time.perf_counter() - started)
        started = time.perf_counter()
        pending = [one_login() for _ in range(args.logins)]
        for chunk in range(0, len(pending), 8):
            await asyncio.gather(*pending[chunk : chunk + 8])
        parallel = args.logins / (time.perf_counter() - started)
        hasher = auth.hasher
        print(
            f"\nlogin POST (argon2id t={hasher.time_cost}, m={hasher.memory_cost // 1024} MiB, "
            f"p={hasher.parallelism}; {os.cpu_count()} CPUs): {sequential:.1f}/s one at a time, "
            f"{parallel:.1f}/s with 8 in flight"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--quick", action="store_true", help="checks the script works")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.logins = 50, 4
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
