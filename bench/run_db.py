"""The database benchmark: TechEmpower's /db, /queries, /updates and /fortunes on PostgreSQL.

    .venv/bin/python bench/run_db.py [--quick] [--only satchel_orm,raw_asyncpg]
                                     [--suites db,fortunes] [--duration 10] [--connections 64]
                                     [--slice 2] [--write-results]

Each app (bench/db/) is served by granian with one worker and a pool of 4 connections to
the PostgreSQL at BENCH_DATABASE_URL (else SATCHEL_TEST_POSTGRES_URL, else
postgresql://postgres@127.0.0.1:5432/test). bench/db/setup.py creates and fills the
tables first. Every app's answers are checked against the database before the load and
after it (bench/db/checks.py); a wrong answer fails the run. Prints one table: requests/s,
and each cell's ratio to raw asyncpg and to Django from the same run, then the targets.
With the database unreachable the run is skipped (exit 0), unless CI is set (exit 1).
See bench/db/README.md for the method.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DB_DIR = BENCH_DIR / "db"
sys.path[:0] = [str(BENCH_DIR), str(DB_DIR)]

# The wrk runner, free ports, the event loop choice and the machine description are
# bench/run.py's, so every benchmark measures the same way.
import run as core  # noqa: E402
from _db_common import DATABASE_URL  # noqa: E402

RESULTS_FILE = BENCH_DIR / "RESULTS.md"
HEADING = "## Database"
BASELINE, DJANGO = "raw_asyncpg", "django"
SUITES = {
    "db": "/db",
    "queries": "/queries?queries=20",
    "updates": "/updates?queries=20",
    "fortunes": "/fortunes",
}
# (app, suite, least ratio, to which app) -- the targets, checked on every full run.
TARGETS = [
    ("satchel_orm", "db", 0.6, BASELINE),
    ("satchel_orm", "fortunes", 0.6, BASELINE),
    ("satchel_orm", "db", 3.0, DJANGO),
    ("satchel_orm", "fortunes", 3.0, DJANGO),
    ("satchel_core", "db", 0.85, BASELINE),
    ("satchel_core", "fortunes", 0.85, BASELINE),
]


@dataclass(frozen=True)
class DbApp:
    name: str
    module: str
    interface: str
    note: str


APPS = [
    DbApp("raw_asyncpg", "raw_asyncpg_app", "asgi", "bare ASGI, asyncpg pool, fetchrow"),
    DbApp("satchel_orm", "satchel_orm_app", "rsgi", "Model, AsyncSession provider, session.get"),
    DbApp("satchel_core", "satchel_core_app", "rsgi", "select() on Tables, db.async_engine"),
    DbApp("fastapi", "fastapi_app", "asgi", "SQLAlchemy async ORM (asyncpg), Depends"),
    DbApp("flask", "flask_app", "wsgi", "Flask-SQLAlchemy (psycopg)"),
    DbApp("django", "django_app", "wsgi", "Django ORM (psycopg, pool), Jinja2 backend"),
]
APPS_BY_NAME = {app.name: app for app in APPS}


@dataclass
class Result:
    app: DbApp
    runs: dict[str, list[core.WrkResult]] = field(default_factory=dict)
    failed: str | None = None

    def rps(self, suite: str) -> float | None:
        runs = self.runs.get(suite)
        return statistics.median(r.rps for r in runs) if runs else None

    def errors(self, suite: str) -> list[str]:
        return [e for r in self.runs.get(suite, []) for e in r.errors]


class Server:
    """One app under granian (one worker), in its own process group."""

    def __init__(self, app: DbApp, loop: str, env: dict[str, str]) -> None:
        self.app = app
        self.port = core.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop())
        cmd = [
            sys.executable, "-m", "granian", "--interface", app.interface, "--workers", "1",
            "--host", "127.0.0.1", "--port", str(self.port), "--loop", loop, "--no-ws",
            "--log-level", "warning", "--working-dir", str(DB_DIR), f"{app.module}:app",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=DB_DIR, env=env, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def log_tail(self, lines: int = 15) -> str:
        self.log.seek(0)
        return "\n".join("    " + line for line in self.log.read().strip().splitlines()[-lines:])

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise core.AppFailed(f"granian exited ({self.proc.returncode}):\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                core.fetch(self.base + "/no-such-page", timeout=1.0)  # any answer will do
                return
            time.sleep(0.1)
        raise core.AppFailed(f"no answer within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # granian's workers share its group
        self.log.close()


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(DB_DIR), str(core.REPO_DIR / "src")]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["BENCH_DATABASE_URL"] = DATABASE_URL
    return env


def database_reachable() -> str | None:
    """Return why the database cannot be used, or None when it can."""
    import psycopg  # here: the error message for a missing driver is below
    from setup import _libpq_url

    try:
        psycopg.connect(_libpq_url(DATABASE_URL), connect_timeout=3).close()
    except psycopg.Error as error:
        return f"{DATABASE_URL}: {str(error).strip().splitlines()[0]}"
    return None


def measure(results: list[Result], args: argparse.Namespace, env: dict[str, str]) -> None:
    """Start every app, check its answers, load them in interleaved slices, check again."""
    from checks import Checker

    checker = Checker(DATABASE_URL)
    servers: dict[str, Server] = {}

    def fail(r: Result, error: Exception) -> None:
        r.failed = str(error)
        print(f"  {r.app.name:<13} FAILED: {error}", flush=True)
        server = servers.pop(r.app.name, None)
        if server is not None:
            server.stop()

    def check(r: Result, when: str) -> None:
        server = servers[r.app.name]
        problems = checker.check(server.base)
        if problems:
            fail(r, core.AppFailed(f"{when}:\n" + "\n".join("    " + p for p in problems)))
            return
        print(f"  {r.app.name:<13} answers ok ({when})", flush=True)

    try:
        for r in results:
            servers[r.app.name] = Server(r.app, args.loop, env)
        for r in results:
            try:
                servers[r.app.name].wait_ready()
            except core.AppFailed as error:
                fail(r, error)
                continue
            check(r, "before the load")
        if args.no_wrk:
            return

        def load(r: Result, suite: str, seconds: int) -> core.WrkResult | None:
            url = servers[r.app.name].base + SUITES[suite]
            try:
                return core.run_wrk(url, args, seconds, None, None)
            except (core.AppFailed, subprocess.TimeoutExpired) as error:
                fail(r, error)
                return None

        if args.warmup:
            for suite in args.suites:
                for r in results:
                    if r.app.name in servers:
                        load(r, suite, args.warmup)
        plan = core.slices(args.duration, args.slice)
        for k, seconds in enumerate(plan):
            for suite in args.suites:
                live = [r for r in results if r.app.name in servers]
                shift = k % len(live) if live else 0
                done = []
                for r in live[shift:] + live[:shift]:
                    run = load(r, suite, seconds)
                    if run is not None:
                        r.runs.setdefault(suite, []).append(run)
                        done.append(f"{r.app.name} {run.rps:,.0f}{' !' if run.errors else ''}")
                print(f"  [{k + 1}/{len(plan)}] {suite:<8} " + " · ".join(done), flush=True)
        for r in results:
            if r.app.name in servers:
                check(r, "after the load")
    finally:
        for server in servers.values():
            server.stop()
        checker.close()


def cell(r: Result, suite: str, by_name: dict[str, Result]) -> str:
    rps = r.rps(suite)
    if rps is None:
        return "FAILED" if r.failed else "—"
    ratios = []
    for other in (BASELINE, DJANGO):
        other_rps = by_name[other].rps(suite) if other in by_name else None
        ratios.append(f"{rps / other_rps:.2f}x" if other_rps else "—")
    return f"{rps:,.0f} ({' / '.join(ratios)}){' !' if r.errors(suite) else ''}"


def target_lines(by_name: dict[str, Result]) -> list[str]:
    lines = []
    for app, suite, least, other in TARGETS:
        if app not in by_name or other not in by_name:
            continue
        mine, theirs = by_name[app].rps(suite), by_name[other].rps(suite)
        if not mine or not theirs:
            continue
        ratio = mine / theirs
        verdict = "met" if ratio >= least else "**missed**"
        lines.append(f"- {app} {suite}: {ratio:.2f}x {other} (target >= {least}x): {verdict}")
    return lines


def render_table(results: list[Result], args: argparse.Namespace) -> str:
    by_name = {r.app.name: r for r in results}
    header = core.header_line(args).replace("granian", "PostgreSQL, pool of 4 · granian", 1)
    lines = [
        header,
        "",
        "| app | interface | " + " | ".join(f"`{SUITES[s]}` req/s" for s in args.suites) + " |",
        "|---|---|" + "---:|" * len(args.suites),
    ]
    notes = []
    for r in results:
        cells = [cell(r, s, by_name) for s in args.suites]
        lines.append(f"| {r.app.name} | {r.app.interface} | " + " | ".join(cells) + " |")
        notes += [f"{r.app.name} {s}: {', '.join(sorted(set(r.errors(s))))}"
                  for s in args.suites if r.errors(s)]  # fmt: skip
    lines += [
        "",
        f"Cells: requests/s (ratio to {BASELINE} / ratio to {DJANGO}, same run);"
        " `!` marks a run with errors.",
    ]
    spreads = [
        ((max(rs) - min(rs)) / statistics.median(rs) * 100, f"{r.app.name} {s}")
        for r in results
        for s, runs in r.runs.items()
        if len(rs := [run.rps for run in runs]) > 1
    ]
    if spreads:
        spread, where = max(spreads)
        lines.append(f"Largest spread between slices: {spread:.0f}% ({where}).")
    lines += [f"- ! {n}" for n in notes]
    if targets := target_lines(by_name):
        lines += ["", "Targets:", *targets]
    return "\n".join(lines)


def write_results(table: str) -> None:
    """Put the table under the ``## Database`` heading of RESULTS.md, keeping the rest."""
    text = RESULTS_FILE.read_text() if RESULTS_FILE.exists() else "# Benchmark results\n"
    section = (
        f"{HEADING}\n\nFrom `bench/run_db.py --write-results`; method in "
        f"[db/README.md](db/README.md).\n\n{table}\n"
    )
    start = text.find(f"\n{HEADING}\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        rest = text[end:] if end >= 0 else ""
        text = text[: start + 1] + section + rest
    RESULTS_FILE.write_text(text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CI smoke run: 1s slices, 8 connections")
    p.add_argument("--only", help="comma-separated apps: " + ",".join(APPS_BY_NAME))
    p.add_argument("--suites", default=",".join(SUITES), help=",".join(SUITES))
    p.add_argument("--duration", type=int, default=10, help="seconds per suite (default 10)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up seconds per suite (default 1)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--slice", type=int, default=2, help="seconds per interleaved wrk run")
    p.add_argument("--loop", default=core.default_loop(), help="granian --loop for every app")
    p.add_argument("--no-wrk", action="store_true", help="only start and check every app")
    p.add_argument("--write-results", action="store_true", help="write the table into RESULTS.md")
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.connections, args.warmup, args.slice = 1, 8, 0, 1
    args.suites = [s.strip() for s in args.suites.split(",") if s.strip()]
    if unknown := [s for s in args.suites if s not in SUITES]:
        p.error(f"unknown suite(s) {unknown}; known: {', '.join(SUITES)}")
    names = [n.strip() for n in args.only.split(",")] if args.only else list(APPS_BY_NAME)
    if unknown := [n for n in names if n not in APPS_BY_NAME]:
        p.error(f"unknown app(s) {unknown}; known: {', '.join(APPS_BY_NAME)}")
    args.apps = [APPS_BY_NAME[n] for n in names]
    args.pin = False  # core.header_line reads it; see bench/README.md on pinning
    if args.write_results and args.quick:
        p.error("--write-results keeps real numbers only; drop --quick")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    if (why := database_reachable()) is not None:
        print(f"database benchmark skipped: PostgreSQL unreachable ({why})", file=sys.stderr)
        return 1 if in_ci else 0
    if not args.no_wrk and shutil.which("wrk") is None:
        if not args.quick:
            print("wrk not found on PATH (apt-get install wrk)", file=sys.stderr)
            return 2
        print("wrk not found: --quick only starts and checks every app", file=sys.stderr)
        args.no_wrk = True
    from setup import ensure

    ensure(DATABASE_URL)
    args.load_before = core.load_average()
    print(core.header_line(args), flush=True)
    results = [Result(app) for app in args.apps]
    measure(results, args, child_env())
    table = render_table(results, args)
    print(f"\n{table}\n\n({time.monotonic() - started:.0f}s)")
    if args.write_results:
        write_results(table)
        print(f"wrote the {HEADING!r} section of {RESULTS_FILE.relative_to(core.REPO_DIR)}")
    failed = [r.app.name for r in results if r.failed]
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
