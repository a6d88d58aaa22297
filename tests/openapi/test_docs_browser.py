"""The docs page in a real browser, against a real ``satchel serve`` process.

Headless Chromium opens /docs of examples/api, expands an operation, presses
"Try it out" and "Execute", and must see the server's answer: the whole loop
works offline (every asset from the package) and under the page's strict
Content-Security-Policy.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.server]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve examples/api with ``satchel serve`` on a free port; yield its base URL."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")])),
        SATCHEL_SECRET_KEY="browser-test-secret-key-0123456789abcdef",
        PYTHONUNBUFFERED="1",
    )
    script = Path(sys.executable).with_name("satchel")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "satchel.cli.main"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*argv, "serve", "examples/api/app.py:app", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"server exited with {proc.returncode}:\n{log_path.read_text()}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"server did not listen:\n{log_path.read_text()}")
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def test_docs_page_executes_a_request(server: str, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    problems: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "request",
        lambda r: None if r.url.startswith((server, "data:")) else outside.append(r.url),
    )
    page.goto(server + "/docs")
    # Expand GET /health, then "Try it out" and "Execute".
    block = page.locator("#operations-service-health")
    block.locator(".opblock-summary").click()
    block.get_by_role("button", name="Try it out").click()
    block.get_by_role("button", name="Execute").click()
    answer = block.locator(".live-responses-table tbody .response-col_status").first
    answer.wait_for(timeout=15_000)
    assert answer.inner_text().strip() == "200"
    body = block.locator(".live-responses-table tbody .response-col_description pre").first
    assert '"status": "ok"' in body.inner_text()
    assert outside == [], f"the docs page reached outside the server: {outside}"
    assert problems == [], f"console errors (CSP violations included): {problems}"
    page.close()


def test_docs_page_lists_every_operation(server: str, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(server + "/docs")
    page.locator(".opblock").first.wait_for(timeout=15_000)
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    paths = {text.strip().replace("\u200b", "") for text in summaries}
    assert {"/health", "/items", "/items/{item_id}", "/reports/summary"} <= paths
    # The schemas section names the components.
    models = page.locator("section.models")
    models.locator("h4").click()
    models.locator("text=ItemOut").first.wait_for(timeout=15_000)
    assert "ItemIn" in models.inner_text()
    page.close()
