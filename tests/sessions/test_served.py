"""Sessions through real `satchel serve` processes (granian, RSGI): two servers, one store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import satchel

SRC = Path(satchel.__file__).resolve().parents[1]

APP = """
from satchel import App, Request
from satchel.db import Database

db = Database("sqlite:///{db}")
app = App(session_store="database", database=db)


@app.on_startup
async def tables() -> None:
    await app.extensions["sessions"].create_table()


@app.get("/login/{{name}}")
async def login(request: Request, name: str) -> dict:
    request.session.cycle_key()
    request.session["user"] = name
    return {{"ok": True}}


@app.get("/me")
async def me(request: Request) -> dict:
    return {{"user": request.session.get("user")}}


@app.get("/logout")
async def logout(request: Request) -> dict:
    request.session.invalidate()
    return {{"ok": True}}
"""

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[str]]:
    (tmp_path / "shop.py").write_text(textwrap.dedent(APP.format(db=tmp_path / "s.db")))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
        "SATCHEL_SECRET_KEY": "served-sessions-key-" + "Zq7!" * 12,
        "SATCHEL_ALLOWED_HOSTS": "127.0.0.1",
        "SATCHEL_DEBUG": "0",
    }
    env.pop("SATCHEL_APP", None)
    satchel_cli = Path(sys.executable).with_name("satchel")
    ports = [_free_port(), _free_port()]
    procs = [
        subprocess.Popen(
            [str(satchel_cli), "serve", "shop:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + 30
        for port, proc in zip(ports, procs, strict=True):
            while True:
                if proc.poll() is not None:
                    output = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"satchel serve exited:\n{output}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail("satchel serve did not listen within 30 s")
                    time.sleep(0.05)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def test_two_servers_share_database_sessions(servers):
    first, second = servers
    with httpx.Client() as browser:  # one cookie jar, like one browser
        response = browser.get(f"{first}/login/ann")
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # plain http
        me = browser.get(f"{second}/me")
        assert me.json() == {"user": "ann"}
        assert me.headers["vary"] == "Cookie"
        assert "set-cookie" not in me.headers
        browser.get(f"{second}/logout")
        assert browser.get(f"{first}/me").json() == {"user": None}
