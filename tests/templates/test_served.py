"""A page and its collected static files through a real `satchel serve` (granian, RSGI)."""

from __future__ import annotations

import os
import re
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
from satchel import App, HTMLResponse, Request, render
from satchel.templates import serve_static

app = App()
serve_static(app)


@app.get("/")
async def index(request: Request) -> HTMLResponse:
    return render(request, "index.html", rows=[{"n": i} for i in range(3)], note="<b>")
"""

INDEX = """
<link rel="stylesheet" href="{{ static('css/site.css') }}">
<form method="post">{{ csrf_input() }}</form>
{% for row in rows %}<i>{{ row.n }}</i>{% endfor %}{{ note }}
"""

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "shop.py").write_text(textwrap.dedent(APP))
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "index.html").write_text(INDEX)
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "css" / "site.css").write_text("body { margin: 0 }")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
        "SATCHEL_SECRET_KEY": "served-templates-key-" + "Zq7!" * 12,
        "SATCHEL_ALLOWED_HOSTS": "127.0.0.1",
        "SATCHEL_DEBUG": "0",
    }
    env.pop("SATCHEL_APP", None)
    satchel_cli = str(Path(sys.executable).with_name("satchel"))
    collected = subprocess.run(
        [satchel_cli, "collectstatic", "shop:app"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert "Collected 1 file" in collected.stdout
    port = _free_port()
    proc = subprocess.Popen(
        [satchel_cli, "serve", "shop:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
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
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_page_and_hashed_asset_served(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "<i>0</i><i>1</i><i>2</i>&lt;b&gt;" in page.text
        assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]+">', page.text)
        href = re.search(r'href="(/static/css/site\.[0-9a-f]{8}\.css)"', page.text)
        assert href is not None, page.text
        asset = client.get(href.group(1))
        assert asset.status_code == 200
        assert asset.text == "body { margin: 0 }"
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["content-type"].startswith("text/css")
        again = client.get(href.group(1), headers={"if-none-match": asset.headers["etag"]})
        assert again.status_code == 304
        assert again.headers["cache-control"] == "public, max-age=31536000, immutable"
        plain = client.head("/static/css/site.css")
        assert plain.status_code == 200
        assert plain.headers["cache-control"] == "no-cache"
        for sneaky in (
            "/static/%2e%2e/shop.py",
            "/static/..%2fshop.py",
            "/static/%2E%2E%5Cshop.py",
        ):
            response = client.get(sneaky)
            assert response.status_code == 404
            assert "app = App()" not in response.text
