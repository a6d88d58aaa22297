"""The "page" benchmark: a server-rendered page with a session, a CSRF token and security headers.

    .venv/bin/python bench/run_pages.py [--quick] [--only satchel,django] [--duration 10]
                                        [--connections 64] [--slice 2] [--write-results]

Each app (bench/pages/) reads the session, renders a Jinja2 template of 20 table rows with a
CSRF token in a form, and sends the security headers: Satchel with its defaults, Django with
SessionMiddleware (signed cookies, no database), CsrfViewMiddleware, SecurityMiddleware and
XFrameOptionsMiddleware and its Jinja2 backend, Flask with Flask-WTF's CSRFProtect. granian,
one worker each; wrk sends no cookies, so every request is a new visitor. Before the load
every page is checked (20 rows, a token in the form, the headers, a POST without the token
refused and one with it accepted); after it, checked again. Prints requests/s and the ratios
Satchel/Django and Satchel/Flask (targets: >= 6x and >= 4x). See bench/pages/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

# The wrk runner, free ports, the event loop choice and the machine description are
# bench/run.py's, so both benchmarks measure the same way.
import run as core  # noqa: E402

PAGES_DIR = BENCH_DIR / "pages"
RESULTS_FILE = BENCH_DIR / "RESULTS.md"
HEADING = "## Page"
PATH = "/page"
TARGETS = {"django": 6.0, "flask": 4.0}


@dataclass(frozen=True)
class PageApp:
    name: str
    module: str
    interface: str
    note: str


APPS = [
    PageApp("satchel", "satchel_page", "rsgi", "defaults: cookie session, CSRF, headers"),
    PageApp("django", "django_page", "wsgi", "Security, Session (signed cookies), Csrf, XFrame"),
    PageApp("flask", "flask_page", "wsgi", "Flask-WTF CSRFProtect, headers in after_request"),
]
APPS_BY_NAME = {app.name: app for app in APPS}


@dataclass
class Result:
    app: PageApp
    runs: list[core.WrkResult] = field(default_factory=list)
    #: Server CPU seconds per request, one per slice (None where /proc is not readable).
    cpu: list[float] = field(default_factory=list)
    failed: str | None = None
    skipped: str | None = None

    @property
    def cpu_us(self) -> float | None:
        return statistics.median(self.cpu) * 1e6 if self.cpu else None

    @property
    def rps(self) -> float | None:
        return statistics.median(r.rps for r in self.runs) if self.runs else None

    @property
    def errors(self) -> list[str]:
        return [e for r in self.runs for e in r.errors]


# --------------------------------------------------------------------------- servers


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    paths = [str(PAGES_DIR), str(core.REPO_DIR / "src"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class Server:
    """One app under ``granian --workers 1``, in a process group of its own."""

    def __init__(self, app: PageApp, loop: str, env: dict[str, str]) -> None:
        self.port = core.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop())
        cmd = [
            sys.executable, "-m", "granian",
            "--interface", app.interface,
            "--workers", "1",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--loop", loop,
            "--no-ws",
            "--log-level", "warning",
            "--working-dir", str(PAGES_DIR),
            f"{app.module}:app",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            cwd=PAGES_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tail(self, lines: int = 15) -> str:
        self.log.seek(0)
        return "\n".join("    " + line for line in self.log.read().strip().splitlines()[-lines:])

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise core.AppFailed(
                    f"granian exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                http_request(self.base, "GET", "/")
                return
            except OSError:
                time.sleep(0.1)
        raise core.AppFailed(f"no answer within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # Workers are in granian's process group; make sure none outlives its parent.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def group_cpu_seconds(pgid: int) -> float | None:
    """CPU time (user + system) used so far by every process in group ``pgid`` (Linux).

    On a shared machine requests/s moves with everything else that runs; the server's own
    CPU time per request does much less, so the table shows both.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                stat = file.read()
        except OSError:
            continue  # gone meanwhile, or not ours to read
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


# --------------------------------------------------------------------------- checks

_ROW = re.compile(r'<tr class="row">')
_TOKEN = re.compile(
    r'<form method="post" action="/page">\s*'
    r'<input type="hidden" name="(csrf_token|csrfmiddlewaretoken)" value="([^"]{20,})">'
)
HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def http_request(
    base: str, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, http.client.HTTPMessage, bytes]:
    parsed = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def cookie_header(headers: http.client.HTTPMessage) -> str:
    """The ``Cookie`` header a browser would send back after these ``Set-Cookie`` lines."""
    return "; ".join(line.split(";", 1)[0] for line in headers.get_all("set-cookie") or [])


def check_page(base: str) -> None:
    """Raise AppFailed unless the page is what every app must serve (see the module docs)."""
    problems = []
    status, headers, body = http_request(base, "GET", PATH)
    text = body.decode("utf-8", "replace")
    if status != 200:
        problems.append(f"GET {PATH}: status {status}")
    if not headers.get("content-type", "").startswith("text/html"):
        problems.append(f"GET {PATH}: content-type {headers.get('content-type')!r}")
    if (rows := len(_ROW.findall(text))) != 20:
        problems.append(f"GET {PATH}: {rows} rows, want 20")
    if "Visits: 0" not in text:
        problems.append(f"GET {PATH}: the session value is not on the page")
    for name, value in HEADERS.items():
        if headers.get(name, "").lower() != value.lower():
            problems.append(f"GET {PATH}: {name}: {headers.get(name)!r}, want {value!r}")
    token = _TOKEN.search(text)
    cookies = cookie_header(headers)
    if token is None:
        problems.append(f"GET {PATH}: no CSRF token in the form")
    if not cookies:
        problems.append(f"GET {PATH}: no cookie carries the CSRF secret")
    if token is not None and cookies:
        form = {"content-type": "application/x-www-form-urlencoded", "cookie": cookies}
        without, _, _ = http_request(base, "POST", PATH, form, b"note=hi")
        if not 400 <= without < 500:
            problems.append(f"POST {PATH} without a token: status {without}, want 4xx")
        data = urllib.parse.urlencode({token.group(1): token.group(2), "note": "hi"}).encode()
        with_token, _, saved = http_request(base, "POST", PATH, form, data)
        if (with_token, saved) != (200, b"saved"):
            problems.append(f"POST {PATH} with the token: {with_token} {saved[:60]!r}")
    if problems:
        raise core.AppFailed("wrong page:\n" + "\n".join("    " + p for p in problems))


# --------------------------------------------------------------------------- the run


def measure(results: list[Result], args: argparse.Namespace) -> None:
    env = child_env()
    servers: dict[str, Server] = {}

    def fail(result: Result, error: Exception) -> None:
        result.failed = str(error)
        print(f"  {result.app.name:<8} FAILED: {error}", flush=True)
        server = servers.pop(result.app.name, None)
        if server is not None:
            server.stop()

    try:
        for r in results:
            servers[r.app.name] = Server(r.app, args.loop, env)
        for r in results:
            try:
                servers[r.app.name].wait_ready()
                check_page(servers[r.app.name].base)
                print(f"  {r.app.name:<8} page ok", flush=True)
            except (core.AppFailed, OSError) as error:
                fail(r, error)
        if args.no_wrk:
            return

        def load(r: Result, seconds: int, record: bool = True) -> core.WrkResult | None:
            server = servers[r.app.name]
            before = group_cpu_seconds(server.proc.pid)
            try:
                run = core.run_wrk(server.base + PATH, args, seconds, None, None)
            except (core.AppFailed, subprocess.TimeoutExpired) as error:
                fail(r, error)
                return None
            after = group_cpu_seconds(server.proc.pid)
            if record and before is not None and after is not None and run.rps > 0:
                r.cpu.append((after - before) / (run.rps * seconds))
            return run

        if args.warmup:
            for r in results:
                if r.app.name in servers:
                    load(r, args.warmup, record=False)
        plan = core.slices(args.duration, args.slice)
        for k, seconds in enumerate(plan):
            live = [r for r in results if r.app.name in servers]
            shift = k % len(live) if live else 0
            done = []
            for r in live[shift:] + live[:shift]:
                run = load(r, seconds)
                if run is not None:
                    r.runs.append(run)
                    done.append(f"{r.app.name} {run.rps:,.0f}{' !' if run.errors else ''}")
            print(f"  [{k + 1}/{len(plan)}] " + " · ".join(done), flush=True)
        for r in results:
            if r.app.name in servers:
                try:
                    check_page(servers[r.app.name].base)
                except (core.AppFailed, OSError) as error:
                    fail(r, core.AppFailed(f"after the load: {error}"))
    finally:
        for server in servers.values():
            server.stop()


def header_line(args: argparse.Namespace) -> str:
    n = len(core.slices(args.duration, args.slice))
    rounds = f" in {n} interleaved slices (median)" if n > 1 else ""
    return (
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · granian {core.version('granian')} "
        f"(1 worker, --loop {args.loop}) · {platform.python_implementation()} "
        f"{platform.python_version()} · Django {core.version('django')} · Flask "
        f"{core.version('flask')} + Flask-WTF {core.version('flask-wtf')} · {os.cpu_count()} "
        f"CPUs ({core.cpu_model()}) · wrk -t{max(1, min(args.threads, args.connections))} "
        f"-c{args.connections} -d{args.duration}s"
        f"{f', {args.warmup}s warm-up' if args.warmup else ''}{rounds}, no cookies · "
        f"load avg {args.load_before} before, {core.load_average()} after"
    )


def render_table(results: list[Result], args: argparse.Namespace) -> tuple[str, bool]:
    """Return the markdown table and whether every target was met."""
    satchel = next((r for r in results if r.app.name == "satchel" and r.rps), None)
    lines = [
        header_line(args),
        "",
        "| app | interface | page req/s | Satchel is | server CPU / request | Satchel is (CPU) | what runs |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    met = True
    ratio_lines = []
    for r in results:
        if r.skipped:
            lines.append(
                f"| {r.app.name} | {r.app.interface} | skipped: {r.skipped} | | | | {r.app.note} |"
            )
            met = False
            continue
        if r.failed or r.rps is None:
            what = "FAILED" if r.failed else "page ok, not loaded"
            lines.append(f"| {r.app.name} | {r.app.interface} | {what} | | | | {r.app.note} |")
            met = False
            continue
        ratio = cpu_ratio = ""
        cpu = f"{r.cpu_us:,.0f} µs" if r.cpu_us else "?"
        if satchel is not None and r is not satchel and r.cpu_us and satchel.cpu_us:
            cpu_ratio = f"{r.cpu_us / satchel.cpu_us:.2f}x"
        if satchel is not None and r is not satchel:
            value = satchel.rps / r.rps  # type: ignore[operator]
            ratio = f"{value:.2f}x"
            target = TARGETS.get(r.app.name)
            if target is not None:
                ok = value >= target
                met = met and ok
                verdict = "met" if ok else "MISSED"
                by_cpu = f"; by server CPU per request {cpu_ratio}" if cpu_ratio else ""
                ratio_lines.append(
                    f"Satchel/{r.app.name.capitalize()}: **{value:.2f}x** (target >= {target:g}x: "
                    f"{verdict}){by_cpu}"
                )
        mark = " !" if r.errors else ""
        lines.append(
            f"| {r.app.name} | {r.app.interface} | {r.rps:,.0f}{mark} | {ratio} | {cpu} "
            f"| {cpu_ratio} | {r.app.note} |"
        )
    lines.append("")
    lines += [f"{line}  " for line in ratio_lines]
    spreads = [
        ((max(rs) - min(rs)) / statistics.median(rs) * 100, r.app.name)
        for r in results
        if len(rs := [run.rps for run in r.runs]) > 1
    ]
    if spreads:
        spread, where = max(spreads)
        lines.append(f"Largest spread between slices: {spread:.0f}% ({where}).")
    for r in results:
        if r.errors:
            lines.append(f"- ! {r.app.name}: {', '.join(sorted(set(r.errors)))}")
    return "\n".join(lines), met and satchel is not None


SECTION_INTRO = """\
Latest table from `bench/run_pages.py --write-results` (method: [pages/README.md](pages/README.md)).
`GET /page` reads the session, renders a Jinja2 template of 20 table rows with a CSRF token in
a form, and sends the security headers; wrk keeps no cookies, so every request is a new
visitor (a new CSRF secret, a `Set-Cookie`). Each app's page is checked before and after the
load. Compare ratios from one run, not absolute numbers across machines.
"""


def write_results(table: str) -> None:
    """Put the table under the ``## Page`` heading of RESULTS.md, keeping everything else."""
    text = RESULTS_FILE.read_text() if RESULTS_FILE.exists() else "# Benchmark results\n"
    section = f"{HEADING}\n\n{SECTION_INTRO}\n{table}\n"
    start = text.find(f"\n{HEADING}\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        following = text.find("\n## ", start + 1)
        rest = text[following:] if following != -1 else ""
        text = text[: start + 1] + section + rest
    RESULTS_FILE.write_text(text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CI smoke run: 1s, 8 connections")
    p.add_argument("--only", help="comma-separated apps: " + ",".join(APPS_BY_NAME))
    p.add_argument("--duration", type=int, default=10, help="seconds per app (default 10)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up seconds per app (default 1)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--slice", type=int, default=2, help="seconds per interleaved wrk run")
    p.add_argument("--loop", default=core.default_loop(), help="granian --loop for every app")
    p.add_argument("--no-wrk", action="store_true", help="only start and check every app")
    p.add_argument("--strict", action="store_true", help="an app that cannot be imported fails")
    p.add_argument("--write-results", action="store_true", help="write the table into RESULTS.md")
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.connections, args.warmup, args.slice = 1, 8, 0, 1
    names = [n.strip() for n in args.only.split(",")] if args.only else list(APPS_BY_NAME)
    if unknown := [n for n in names if n not in APPS_BY_NAME]:
        p.error(f"unknown app(s) {unknown}; known: {', '.join(APPS_BY_NAME)}")
    args.apps = [APPS_BY_NAME[n] for n in names]
    if args.write_results and (args.quick or len(args.apps) != len(APPS)):
        p.error("--write-results keeps full runs only; drop --quick and --only")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.no_wrk and shutil.which("wrk") is None:
        if not args.quick:
            print("wrk not found on PATH (apt-get install wrk)", file=sys.stderr)
            return 2
        print("wrk not found: --quick only starts and checks every app", file=sys.stderr)
        args.no_wrk = True
    args.load_before = core.load_average()
    started = time.monotonic()
    print(header_line(args), flush=True)
    results = [Result(app) for app in args.apps]
    for r in results:
        # Django, Flask and Flask-WTF come with the `bench` extra; without them their rows
        # say so instead of failing the run (--strict makes it a failure).
        try:
            core.import_check(
                core.AppSpec(r.app.name, r.app.module, r.app.interface, ""), child_env()
            )
        except core.AppSkipped as error:
            r.skipped = str(error)
            print(f"  {r.app.name:<8} SKIPPED: {error}", flush=True)
    measure([r for r in results if not r.skipped], args)
    table, met = render_table(results, args)
    if args.quick:
        table += "\n(--quick: a smoke run of 1 s at 8 connections; not a measurement)"
    print(f"\n{table}\n\n({time.monotonic() - started:.0f}s)")
    if args.write_results:
        write_results(table)
        print(f"wrote the {HEADING!r} section of {RESULTS_FILE.relative_to(core.REPO_DIR)}")
    failed = [r.app.name for r in results if r.failed]
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    if args.strict and (skipped := [r.app.name for r in results if r.skipped]):
        print(f"skipped under --strict: {', '.join(skipped)}", file=sys.stderr)
        return 1
    if not met and not args.quick and not args.no_wrk and len(results) == len(APPS):
        print("targets missed (see the ratios above)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
