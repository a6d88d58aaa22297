"""Measure what sessions cost per request, in process (not a test: run it by hand).

    .venv/bin/python tests/sessions/bench_sessions.py

Prints CPU microseconds per request (best of seven rounds of 5,000), calling the
ASGI app directly so that only Satchel's own work is counted. CPU time rather
than wall time, so other processes on the machine disturb it less.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from satchel import App, Request


def make(enabled: bool) -> App:
    app = App(secret_key="k" * 40, sessions_enabled=enabled)

    @app.get("/plain")
    async def plain() -> str:
        return "x"

    @app.get("/request")
    async def with_request(request: Request) -> str:
        return "x"

    @app.get("/read")
    async def read(request: Request) -> str:
        return str(request.session.get("user"))

    @app.get("/write")
    async def write(request: Request) -> str:
        request.session["user"] = "alice"
        return "ok"

    app.freeze()
    return app


def scope_for(path: str, cookie: str | None = None) -> dict[str, Any]:
    headers = [(b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: dict[str, Any]) -> None:
    pass


async def cpu_per_request(app: App, scope: dict[str, Any], n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        await app(dict(scope), receive, send)
    return (time.process_time() - start) / n * 1e6


async def main() -> None:
    on, off = make(True), make(False)
    cookie = "session=" + on.extensions["sessions"].sign_data({"user": "alice", "n": 1})
    cases = {
        "untouched, sessions off": (off, scope_for("/plain")),
        "untouched, sessions on": (on, scope_for("/plain")),
        "untouched, on, cookie sent": (on, scope_for("/plain", cookie)),
        "takes request, sessions off": (off, scope_for("/request")),
        "takes request, sessions on": (on, scope_for("/request")),
        "read, no cookie": (on, scope_for("/read")),
        "read, valid cookie": (on, scope_for("/read", cookie)),
        "write, new session": (on, scope_for("/write")),
    }
    for app, scope in cases.values():
        await cpu_per_request(app, scope, 2000)
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(7):
        for name, (app, scope) in cases.items():
            best[name] = min(best[name], await cpu_per_request(app, scope, 5000))
    for name, micros in best.items():
        print(f"{name:30s} {micros:7.2f} us CPU/request")


if __name__ == "__main__":
    asyncio.run(main())
