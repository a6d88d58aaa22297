"""A real `satchel serve` process on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A running `satchel serve` child process."""

    def __init__(self, app: str, *extra: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        satchel = Path(sys.executable).with_name("satchel")
        argv = [str(satchel), "serve", app, "--host", "127.0.0.1", "--port", str(self.port), *extra]
        child_env = {
            **os.environ,
            "SATCHEL_SECRET_KEY": "integration-test-key-" + "x9Y!" * 16,
            "SATCHEL_DEBUG": "0",
            **(env or {}),
        }
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode() if self.process.stdout else ""
                raise RuntimeError(f"server exited early:\n{output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start listening in 30 s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def raw(self, request: bytes, timeout: float = 5.0) -> bytes:
        """Send raw bytes and return whatever comes back before the server closes or times out."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            with contextlib.suppress(OSError):  # the server may close mid-send
                sock.sendall(request)
            chunks = []
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            except OSError:
                pass
            return b"".join(chunks)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def hello_server() -> Iterator[Server]:
    server = Server("examples/hello/app.py")
    try:
        yield server
    finally:
        server.stop()
