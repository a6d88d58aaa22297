"""Fixtures for the CLI tests: an isolated project directory and real server processes."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import satchel.cli

SRC_DIR = Path(satchel.cli.__file__).absolute().parents[2]

APP_SOURCE = textwrap.dedent(
    """
    import asyncio
    from pathlib import Path

    from satchel.app import App
    from satchel.http.request import Request

    app = App()


    @app.get("/")
    async def index() -> dict[str, str]:
        return {"hello": "world"}


    @app.get("/slow")
    async def slow() -> str:
        # Tells the test the request is in flight before it signals the server.
        Path("slow-started").touch()
        await asyncio.sleep(1)
        return "slow done"


    @app.post("/echo")
    async def echo(request: Request) -> dict[str, object]:
        return {"got": await request.json()}


    @app.get("/debug")
    async def debug_flag() -> dict[str, bool]:
        return {"debug": app.debug}
    """
)


class Project:
    """A temporary project directory that is the cwd, importable as modules."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, source: str) -> Path:
        """Write ``source`` (dedented) to ``relative`` and make imports see it."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """Chdir into a fresh directory; forget modules imported from it afterwards."""
    monkeypatch.chdir(tmp_path)
    for name in (satchel.cli.APP_ENV_VAR, "SATCHEL_DEBUG"):
        # setenv first so teardown also removes a value a command set (``--app``).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    saved_path = list(sys.path)
    before = set(sys.modules)
    yield Project(tmp_path)
    sys.path[:] = saved_path
    for name in set(sys.modules) - before:
        origin = getattr(sys.modules[name], "__file__", None) or ""
        if origin.startswith(str(tmp_path)):
            del sys.modules[name]


def satchel_command() -> list[str]:
    """Return the argv prefix that runs the ``satchel`` console script."""
    script = Path(sys.executable).with_name("satchel")
    if script.exists():
        return [str(script)]
    # The package is not installed (a bare checkout): same code, run as a module.
    return [sys.executable, "-m", "satchel.cli.main"]


def subprocess_env(**extra: str) -> dict[str, str]:
    """Return an environment in which a child process imports this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("SATCHEL_DEBUG", "SATCHEL_APP")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC_DIR), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    # `satchel serve` refuses the development secret key when debug is off.
    env.setdefault("SATCHEL_SECRET_KEY", "cli-test-secret-" + "k3Y#" * 16)
    env.update(extra)
    return env


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """A server started as a real child process, its output kept in a file."""

    def __init__(self, argv: list[str], cwd: Path, port: int, env: dict[str, str]) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = cwd / f"server-{port}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own process group, so cleanup reaches workers a crash orphaned.
            start_new_session=True,
        )

    @property
    def output(self) -> str:
        """Everything the server printed so far."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_until_listening(self, timeout: float = 20.0) -> None:
        """Block until the port accepts connections; fail if the process dies first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"server did not listen within {timeout}s:\n{self.output}")

    def terminate(self, timeout: float = 15.0) -> int:
        """Send SIGTERM and return the exit status (fail if it takes too long)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"server still running {timeout}s after SIGTERM:\n{self.output}")

    def cleanup(self) -> None:
        """Kill whatever is left of the process group; close the log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()


StartServer = Callable[..., ServerProcess]
RunSatchel = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def child_env() -> dict[str, str]:
    """An environment for a child Python process that imports this checkout."""
    return subprocess_env()


@pytest.fixture
def satchel_argv() -> list[str]:
    """The argv prefix that runs ``satchel``."""
    return satchel_command()


@pytest.fixture
def app_project(project: Project) -> Project:
    """A project whose ``app.py`` is the sample app (see ``APP_SOURCE``)."""
    project.write("app.py", APP_SOURCE)
    return project


@pytest.fixture
def run_satchel(tmp_path: Path) -> RunSatchel:
    """Return ``run(*args, **env)``: run ``satchel`` to completion in ``tmp_path``."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*satchel_command(), *args],
            cwd=tmp_path,
            env=subprocess_env(**env),
            capture_output=True,
            text=True,
            timeout=30,
        )

    return run


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Return ``start(argv, **env)`` that runs a server in ``tmp_path`` on a free port.

    ``argv`` may contain ``{port}``; the server is stopped after the test.
    """
    servers: list[ServerProcess] = []

    def start(argv: list[str], **env: str) -> ServerProcess:
        port = free_port()
        server = ServerProcess(
            [arg.format(port=port) for arg in argv], tmp_path, port, subprocess_env(**env)
        )
        servers.append(server)
        server.wait_until_listening()
        return server

    yield start
    for server in servers:
        server.cleanup()
