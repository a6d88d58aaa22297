"""Serve each benchmark app with granian (1 worker) and load it with wrk.

    .venv/bin/python bench/run.py [--quick] [--only a,b] [--suites plaintext,json,path]
                                  [--duration 10] [--connections 64] [--threads 2]
                                  [--slice 2] [--write-results]

Prints one markdown table: requests/s per suite and each one's ratio to raw ASGI measured in
the same run. Every app's answers are checked before it is loaded; an app that answers
wrongly fails the run (exit 1), an app whose module cannot be imported is skipped.
See bench/README.md for the method and the fairness notes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
APPS_DIR = BENCH_DIR / "apps"
REPO_DIR = BENCH_DIR.parent
RESULTS_FILE = BENCH_DIR / "RESULTS.md"
BASELINE = "raw_asgi"


@dataclass(frozen=True)
class AppSpec:
    name: str
    module: str
    interface: str  # granian --interface: asgi | rsgi | wsgi
    note: str


APPS = [
    AppSpec("raw_asgi", "raw_asgi_app", "asgi", "baseline: dict + prefix check, bare ASGI 3"),
    AppSpec("raw_rsgi", "raw_rsgi_app", "rsgi", "same router, bare RSGI"),
    AppSpec("satchel", "satchel_app", "rsgi", "App.__rsgi__"),
    AppSpec("satchel_asgi", "satchel_app", "asgi", "same app through ASGI"),
    AppSpec("satchel_models", "satchel_models_app", "rsgi", "JSON routes return response models"),
    AppSpec("starlette", "starlette_app", "asgi", ""),
    AppSpec("falcon", "falcon_app", "asgi", "falcon.asgi.App"),
    AppSpec("fastapi", "fastapi_app", "asgi", ""),
    AppSpec("flask", "flask_app", "wsgi", ""),
    AppSpec("django", "django_app", "wsgi", "no middleware, no DB"),
]
APPS_BY_NAME = {spec.name: spec for spec in APPS}

# suite -> path wrk requests. The path suite asks for a different id on every request (see
# PATH_LUA) so that no layer can answer it from a cache; /users/42 is only used for checks.
SUITES = {"plaintext": "/plaintext", "json": "/json", "path": "/users/42"}
PATH_LUA = """\
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/users/" .. (n % 100000))
end
"""

TEXT = "text/plain"
JSON = "application/json"
# (path, status, content-type prefix, expected body: bytes exact, dict as JSON, None = any)
CHECKS = [
    ("/plaintext", 200, TEXT, b"Hello, World!"),
    ("/json", 200, JSON, {"message": "Hello, World!"}),
    ("/users/42", 200, JSON, {"id": 42}),
    ("/users/0", 200, JSON, {"id": 0}),
    ("/static7/page", 200, TEXT, b"page 7"),
    ("/extra7/items/3", 200, JSON, {"item_id": 3}),
    ("/users/abc", "4xx", None, None),  # the router converts to int: no match or 422
    ("/no/such/path", 404, None, None),
]


class AppFailed(Exception):
    """The app started but did not answer as every app must: its numbers would be wrong."""


class AppSkipped(Exception):
    """The app's module cannot be imported (e.g. its framework is not installed yet)."""


@dataclass
class WrkResult:
    rps: float
    errors: list[str] = field(default_factory=list)


@dataclass
class AppResult:
    spec: AppSpec
    runs: dict[str, list[WrkResult]] = field(default_factory=dict)
    skipped: str | None = None
    failed: str | None = None

    def rps(self, suite: str) -> float | None:
        runs = self.runs.get(suite)
        return statistics.median(r.rps for r in runs) if runs else None

    def errors(self, suite: str) -> list[str]:
        return [e for r in self.runs.get(suite, []) for e in r.errors]


# --------------------------------------------------------------------------- environment


def default_loop() -> str:
    """uvloop when installed, else asyncio; named explicitly so every app gets the same one
    (granian's `auto` would prefer rloop, which is experimental, if it were installed)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(APPS_DIR), str(REPO_DIR / "src")]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


_ports_given: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now and that this run has not handed out before."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


def cpu_sets(pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """CPUs for (server, wrk). Pinned: the server gets the first CPU we may use, wrk the rest,
    so the two never fight over a core. Unpinned: the scheduler decides."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not pin or len(cpus) < 2:
        return None, None
    return {cpus[0]}, set(cpus[1:])


def pinned(cpus: set[int] | None):
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


# --------------------------------------------------------------------------- one server


def import_check(spec: AppSpec, env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", f"import {spec.module}"],
        cwd=APPS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        raise AppSkipped(f"import {spec.module} failed: {lines[-1] if lines else proc.returncode}")


class Server:
    def __init__(self, spec: AppSpec, loop: str, env: dict[str, str], cpus: set[int] | None):
        self.spec = spec
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop())
        cmd = [
            sys.executable, "-m", "granian",
            "--interface", spec.interface,
            "--workers", "1",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--loop", loop,
            "--no-ws",
            "--log-level", "warning",
            "--working-dir", str(APPS_DIR),
            f"{spec.module}:app",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            cwd=APPS_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=pinned(cpus),
        )

    def log_tail(self, lines: int = 15) -> str:
        self.log.seek(0)
        tail = self.log.read().strip().splitlines()[-lines:]
        return "\n".join("    " + line for line in tail)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AppFailed(f"granian exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                # Answered at all (any status) means the worker is serving.
                fetch(self.base + "/plaintext", timeout=1.0)
                return
            time.sleep(0.1)
        raise AppFailed(f"no answer within {timeout:.0f}s:\n{self.log_tail()}")

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
        # Workers are in granian's process group; make sure none outlives its parent.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def fetch(url: str, timeout: float = 5.0) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


def check_answers(server: Server) -> None:
    problems = []
    for path, status, ctype, expected in CHECKS:
        try:
            got_status, got_ctype, body = fetch(server.base + path)
        except OSError as error:
            problems.append(f"GET {path}: {error}")
            continue
        status_ok = 400 <= got_status < 500 if status == "4xx" else got_status == status
        if not status_ok:
            problems.append(f"GET {path}: status {got_status}, want {status}")
        if ctype and not got_ctype.startswith(ctype):
            problems.append(f"GET {path}: content-type {got_ctype!r}, want {ctype}*")
        if isinstance(expected, bytes) and body != expected:
            problems.append(f"GET {path}: body {body[:80]!r}, want {expected!r}")
        if isinstance(expected, dict):
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = body[:80]
            same_types = isinstance(decoded, dict) and all(
                type(decoded.get(k)) is type(v) for k, v in expected.items()
            )
            if decoded != expected or not same_types:
                problems.append(f"GET {path}: body {decoded!r}, want {expected!r}")
    if problems:
        raise AppFailed("wrong answers:\n" + "\n".join("    " + p for p in problems))


# --------------------------------------------------------------------------- wrk

_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def run_wrk(url: str, args: argparse.Namespace, duration: int, script: str | None,
            cpus: set[int] | None) -> WrkResult:  # fmt: skip
    threads = max(1, min(args.threads, args.connections))
    cmd = ["wrk", f"-t{threads}", f"-c{args.connections}", f"-d{duration}s", "--timeout", "5s"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=False,
        preexec_fn=pinned(cpus),
    )
    match = _RPS.search(proc.stdout)
    if proc.returncode != 0 or not match:
        raise AppFailed(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout}")
    errors = []
    if m := _NON2XX.search(proc.stdout):
        errors.append(f"{m.group(1)} non-2xx responses")
    if m := _SOCKET.search(proc.stdout):
        kinds = ("connect", "read", "write", "timeout")
        errors += [
            f"{n} socket {k} errors" for k, n in zip(kinds, m.groups(), strict=True) if n != "0"
        ]
    return WrkResult(float(match.group(1)), errors)


# --------------------------------------------------------------------------- the run


def fail(result: AppResult, servers: dict[str, Server], error: Exception) -> None:
    result.failed = str(error)
    print(f"  {result.spec.name:<13} FAILED: {error}", flush=True)
    server = servers.pop(result.spec.name, None)
    if server is not None:
        server.stop()


def slices(duration: int, size: int) -> list[int]:
    """Split `duration` seconds into wrk runs of `size` seconds (the last may be longer)."""
    count = max(1, duration // max(1, size))
    return [size] * (count - 1) + [duration - size * (count - 1)]


def measure(results: list[AppResult], args: argparse.Namespace, env: dict[str, str],
            path_script: str) -> None:  # fmt: skip
    """Start every app, check its answers, then load them in interleaved slices.

    Every app is its own fresh granian process and all of them are up at once (an idle one
    costs nothing), so the measured time of each app/suite can be cut into short slices that
    take turns, app after app, with the order rotated every slice. A burst of load from
    something else on the machine then hits every app about equally instead of one app's
    whole run; each cell is the median of its slices.
    """
    server_cpus, wrk_cpus = cpu_sets(args.pin)
    servers: dict[str, Server] = {}
    try:
        for r in results:
            servers[r.spec.name] = Server(r.spec, args.loop, env, server_cpus)
        for r in results:
            try:
                servers[r.spec.name].wait_ready()
                check_answers(servers[r.spec.name])
                print(f"  {r.spec.name:<13} answers ok", flush=True)
            except AppFailed as error:
                fail(r, servers, error)
        if args.no_wrk:
            return

        def load(r: AppResult, suite: str, seconds: int) -> WrkResult | None:
            script = path_script if suite == "path" else None
            url = servers[r.spec.name].base + SUITES[suite]
            try:
                return run_wrk(url, args, seconds, script, wrk_cpus)
            except (AppFailed, subprocess.TimeoutExpired) as error:
                fail(r, servers, error)
                return None

        if args.warmup:
            for suite in args.suites:
                for r in results:
                    if r.spec.name in servers:
                        load(r, suite, args.warmup)
        plan = slices(args.duration, args.slice)
        for k, seconds in enumerate(plan):
            for suite in args.suites:
                live = [r for r in results if r.spec.name in servers]
                shift = k % len(live) if live else 0
                done = []
                for r in live[shift:] + live[:shift]:
                    run = load(r, suite, seconds)
                    if run is not None:
                        r.runs.setdefault(suite, []).append(run)
                        done.append(f"{r.spec.name} {run.rps:,.0f}{' !' if run.errors else ''}")
                print(f"  [{k + 1}/{len(plan)}] {suite:<9} " + " · ".join(done), flush=True)
        # Still alive and still right after the load?
        for r in results:
            if r.spec.name in servers:
                try:
                    check_answers(servers[r.spec.name])
                except AppFailed as error:
                    fail(r, servers, AppFailed(f"after the load: {error}"))
    finally:
        for server in servers.values():
            server.stop()


def fmt_cell(result: AppResult, suite: str, base: AppResult | None) -> str:
    rps = result.rps(suite)
    if rps is None:
        return "—"
    cell = f"{rps:,.0f}"
    base_rps = base.rps(suite) if base else None
    if base_rps:
        cell += f" ({rps / base_rps:.2f}x)"
    if result.errors(suite):
        cell += " !"
    return cell


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def header_line(args: argparse.Namespace) -> str:
    pin = "server and wrk on separate CPUs" if cpu_sets(args.pin)[0] else "no CPU pinning"
    threads = max(1, min(args.threads, args.connections))
    n = len(slices(args.duration, args.slice))
    rounds = f" in {n} interleaved slices (median)" if n > 1 else ""
    return (
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · granian {version('granian')} "
        f"(1 worker, --loop {args.loop}) · {platform.python_implementation()} "
        f"{platform.python_version()} · {os.cpu_count()} CPUs ({cpu_model()}) · {pin} · "
        f"wrk -t{threads} -c{args.connections} -d{args.duration}s"
        f"{f', {args.warmup}s warm-up per suite' if args.warmup else ''}{rounds} · "
        f"load avg {args.load_before} before, {load_average()} after"
    )


def render_table(results: list[AppResult], args: argparse.Namespace) -> str:
    base = next((r for r in results if r.spec.name == BASELINE and r.runs), None)
    lines = [
        header_line(args),
        "",
        "| app | interface | " + " | ".join(f"{s} req/s" for s in args.suites) + " |",
        "|---|---|" + "---:|" * len(args.suites),
    ]
    notes = []
    for r in results:
        if r.skipped or r.failed:
            why = f"skipped: {r.skipped}" if r.skipped else "FAILED (see output)"
            cells = [why] + [""] * (len(args.suites) - 1)
        else:
            cells = [fmt_cell(r, s, base) for s in args.suites]
        lines.append(f"| {r.spec.name} | {r.spec.interface} | " + " | ".join(cells) + " |")
        for s in args.suites:
            if r.errors(s):
                notes.append(f"{r.spec.name} {s}: {', '.join(sorted(set(r.errors(s))))}")
    spreads = [
        ((max(rs) - min(rs)) / statistics.median(rs) * 100, f"{r.spec.name} {s}")
        for r in results
        for s, runs in r.runs.items()
        if len(rs := [run.rps for run in runs]) > 1
    ]
    if base is None:
        notes.append(f"{BASELINE} was not measured in this run, so there are no ratios.")
    lines.append("")
    lines.append(f"Ratios are to {BASELINE} from the same run; `!` marks a run with errors.")
    if spreads:
        spread, where = max(spreads)
        lines.append(f"Largest spread between slices: {spread:.0f}% ({where}).")
    lines += [f"- ! {n}" for n in notes]
    return "\n".join(lines)


RESULTS_INTRO = """\
# Benchmark results

Latest table from `bench/run.py --write-results`; method and fairness notes in
[README.md](README.md). Each app runs in its own fresh granian process (one worker, the same
event loop for all); its answers are checked before and after it is loaded; wrk loads one
path at a time over keep-alive connections, in short slices that take turns across the apps
so that background load hits all of them alike, and each cell is the median of its slices.
`plaintext` is `GET /plaintext`, `json` is `GET /json` (serialised per request), `path` is
`GET /users/{id}` with a different integer id on every request, converted by the framework's
router. Every app has the same 50 extra routes registered before these. Ratios are
requests/s relative to a raw ASGI app doing the least work a correct app can do, on the same
server in the same run: compare ratios, not absolute numbers, across machines.
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CI smoke run: 1s, 8 connections")
    p.add_argument("--only", help="comma-separated apps: " + ",".join(APPS_BY_NAME))
    p.add_argument(
        "--suites", default=",".join(SUITES), help="comma-separated: " + ",".join(SUITES)
    )
    p.add_argument("--duration", type=int, default=10, help="seconds per suite (default 10)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up seconds per suite (default 1)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument(
        "--slice", type=int, default=2, help="seconds per interleaved wrk run (default 2)"
    )
    p.add_argument("--loop", default=default_loop(), help="granian --loop for every app")
    p.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="server on one CPU, wrk on the others (off by default: on a shared machine a pinned"
        " server cannot move away from someone else's busy core)",
    )
    p.add_argument("--strict", action="store_true", help="a skipped (unimportable) app fails")
    p.add_argument("--no-wrk", action="store_true", help="only start and check every app")
    p.add_argument("--write-results", action="store_true", help="write bench/RESULTS.md")
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
    if args.write_results and args.quick:
        p.error("--write-results keeps real numbers only; drop --quick")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.no_wrk and shutil.which("wrk") is None:
        if not args.quick:
            print("wrk not found on PATH (apt-get install wrk)", file=sys.stderr)
            return 2
        print("wrk not found: --quick only starts and checks every app", file=sys.stderr)
        args.no_wrk = True
    env = child_env()
    results = [AppResult(spec) for spec in args.apps]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(PATH_LUA)
    started = time.monotonic()
    args.load_before = load_average()
    try:
        print(header_line(args), flush=True)
        importable = []
        for r in results:
            try:
                import_check(r.spec, env)
                importable.append(r)
            except AppSkipped as error:
                r.skipped = str(error)
                print(f"  {r.spec.name:<13} SKIPPED: {error}", flush=True)
        measure([r for r in results if not r.skipped], args, env, lua.name)
    finally:
        os.unlink(lua.name)
    table = render_table(results, args)
    print(f"\n{table}\n\n({time.monotonic() - started:.0f}s)")
    if args.write_results:
        # Keep the other benchmarks' sections ("## Page", "## Database", ...).
        existing = RESULTS_FILE.read_text() if RESULTS_FILE.exists() else ""
        start = existing.find("\n## ")
        rest = existing[start:] if start >= 0 else ""
        RESULTS_FILE.write_text(f"{RESULTS_INTRO}\n{table}\n{rest}")
        print(f"wrote {RESULTS_FILE.relative_to(REPO_DIR)}")
    failed = [r.spec.name for r in results if r.failed]
    skipped = [r.spec.name for r in results if r.skipped]
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
    if args.strict and skipped:
        print(f"skipped under --strict: {', '.join(skipped)}", file=sys.stderr)
    return 1 if failed or (args.strict and skipped) else 0


if __name__ == "__main__":
    sys.exit(main())
