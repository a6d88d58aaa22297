"""Shared pieces for tests that drive headless Chromium against real servers.

Fixtures:

- ``browser``: a Playwright ``Browser`` on Debian's ``/usr/bin/chromium`` (one per
  test module; each test opens its own context, so cookies never leak between
  tests). Skipped when Playwright or Chromium is missing, unless ``CI=true``,
  where that is a failure: CI installs both.
- ``serve_app``: ``with serve_app(app_spec, env) as served:`` runs ``satchel serve``
  on a free 127.0.0.1 port with debug off and a real secret key (``env`` adds or
  overrides ``SATCHEL_*`` variables); ``served.url``, ``served.port``,
  ``served.log()``.
- ``run_satchel``: ``run_satchel("db", "migrate", env=..., cwd=...)`` runs another
  command the way a deploy script would; a non-zero exit fails the test.
- ``serve_html``: ``with serve_html({"/": html}) as origin:`` serves fixed pages on
  another port, i.e. another origin, for cross-site tests.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SECRET_KEY = "browser-tests-secret-key-" + "Qz7!x9Lm" * 6


def _missing(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI installs it: see .ci/run)")
    pytest.skip(reason)


def _free_port() -> int:
    """Return a port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _satchel_argv() -> list[str]:
    script = Path(sys.executable).with_name("satchel")
    return [str(script)] if script.exists() else [sys.executable, "-m", "satchel.cli.main"]


def _child_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child ``satchel``: no inherited ``SATCHEL_*``, debug off.

    The test's own ``SATCHEL_*`` variables are dropped so that a developer's
    shell (``SATCHEL_DEBUG=1``) cannot change what the test checks.
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    base.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), base.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
        SATCHEL_SECRET_KEY=SECRET_KEY,
        SATCHEL_DEBUG="0",
    )
    base.update(env or {})
    return base


def _run_satchel(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path = ROOT, timeout: float = 60
) -> str:
    """Run ``satchel ARGS`` to completion; return its output, fail the test on an error."""
    done = subprocess.run(
        [*_satchel_argv(), *args],
        cwd=cwd,
        env=_child_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        pytest.fail(f"satchel {' '.join(args)} exited with {done.returncode}:\n{output}")
    return output


@dataclass
class Served:
    """A running server: where it listens and what it printed."""

    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def _serve_app(
    app_spec: str,
    env: Mapping[str, str] | None = None,
    *,
    cwd: Path = ROOT,
    log_dir: Path | None = None,
    timeout: float = 30,
) -> Iterator[Served]:
    """Run ``satchel serve APP_SPEC`` on a free port until the block ends."""
    port = _free_port()
    log_path = (log_dir or Path(os.environ.get("TMPDIR", "/tmp"))) / f"serve-{port}.log"
    argv = [*_satchel_argv(), "serve", app_spec, "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=_child_env(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Served(port, log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"satchel serve exited with {proc.returncode}:\n{served.log()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"satchel serve did not listen in {timeout:.0f} s:\n{served.log()}")
                time.sleep(0.05)
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if log_dir is None:
            log_path.unlink(missing_ok=True)


class _PageHandler(http.server.BaseHTTPRequestHandler):
    pages: Mapping[str, str] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path)
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output quiet


@contextlib.contextmanager
def _serve_html(pages: Mapping[str, str]) -> Iterator[str]:
    """Serve fixed ``{path: html}`` pages on another 127.0.0.1 port: another origin."""
    handler = type("Pages", (_PageHandler,), {"pages": dict(pages)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# Module scope, not session: Playwright's sync API keeps an event loop running in the
# main thread while it is started, and asyncio.run() in any later test would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium driven by Playwright; tests open their own contexts."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (.venv/bin/pip install playwright)")
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="session")
def serve_app() -> Any:
    """``serve_app(app_spec, env)``: a context manager running ``satchel serve``."""
    return _serve_app


@pytest.fixture(scope="session")
def run_satchel() -> Any:
    """``run_satchel(*args, env=..., cwd=...)``: run a ``satchel`` command to completion."""
    return _run_satchel


@pytest.fixture(scope="session")
def serve_html() -> Any:
    """``serve_html({path: html})``: a context manager serving pages on another origin."""
    return _serve_html
