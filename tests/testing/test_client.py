"""Tests for the sync TestClient, driven against raw ASGI apps."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

import httpx
import pytest

from satchel.testing import LifespanFailed, TestClient
from satchel.types import Message, Receive, Scope, Send


async def read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if not message.get("more_body", False):
            break
    return b"".join(m["body"] for m in messages), messages


async def respond(
    send: Send,
    body: bytes = b"",
    status: int = 200,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


def scope_recorder() -> tuple[list[Scope], Any]:
    scopes: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scopes.append(scope)
        await read_body(receive)
        await respond(send, b"ok")

    return scopes, app


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    body, messages = await read_body(receive)
    sizes = ",".join(str(len(m["body"])) for m in messages).encode()
    await respond(send, body, headers=[(b"x-chunk-sizes", sizes)])


def test_large_body_is_streamed_to_the_app_in_chunks() -> None:
    payload = bytes(range(256)) * (5 * 1024 * 1024 // 256)
    response = TestClient(echo_app).post("/", content=payload)
    sizes = [int(size) for size in response.headers["x-chunk-sizes"].split(",")]
    assert response.content == payload
    assert len(sizes) == 80
    assert max(sizes) == 64 * 1024
    assert sum(sizes) == len(payload)


def test_empty_body_is_one_final_message() -> None:
    response = TestClient(echo_app).get("/")
    assert response.content == b""
    assert response.headers["x-chunk-sizes"] == "0"


def test_receive_after_body_waits_for_the_response_then_disconnects() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(receive)
        waiting = asyncio.ensure_future(receive())
        await asyncio.sleep(0.02)
        seen["done_before_response"] = waiting.done()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await asyncio.sleep(0.01)
        seen["done_mid_response"] = waiting.done()
        await send({"type": "http.response.body", "body": b"b"})
        seen["message"] = await waiting

    response = TestClient(app).get("/")
    assert response.text == "ab"
    assert seen == {
        "done_before_response": False,
        "done_mid_response": False,
        "message": {"type": "http.disconnect"},
    }


def test_streaming_response_chunks_are_collected() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(100):
            await send({"type": "http.response.body", "body": b"%d," % i, "more_body": True})
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b"end"})

    response = TestClient(app).get("/")
    assert response.text == "".join(f"{i}," for i in range(100)) + "end"


def test_endless_stream_stops_when_the_client_closes_it() -> None:
    finished = threading.Event()
    errors: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"tick\n", "more_body": True})
                await asyncio.sleep(0.001)
        except OSError as exc:
            errors.append(exc)
            raise
        finally:
            finished.set()

    client = TestClient(app)
    with client.stream("GET", "/events") as response:
        lines = []
        for line in response.iter_lines():
            lines.append(line)
            if len(lines) == 3:
                break
    assert lines == ["tick"] * 3
    assert finished.is_set()
    assert len(errors) == 1


def test_cookies_are_stored_and_sent_back() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/set":
            cookies = [(b"set-cookie", b"sid=abc; Path=/"), (b"set-cookie", b"b=2")]
            await respond(send, headers=cookies)
        else:
            cookie = dict(scope["headers"]).get(b"cookie", b"")
            await respond(send, cookie)

    client = TestClient(app, cookies={"preset": "1"})
    assert client.get("/get").text == "preset=1"
    client.get("/set")
    assert client.cookies["sid"] == "abc"
    sent = set(client.get("/get").text.split("; "))
    assert sent == {"preset=1", "sid=abc", "b=2"}


async def redirect_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["path"] == "/old":
        await respond(send, status=302, headers=[(b"location", b"/new?x=1")])
    else:
        await respond(send, scope["path"].encode() + b"?" + scope["query_string"])


def test_redirects_are_followed_by_default() -> None:
    response = TestClient(redirect_app).get("/old")
    assert response.status_code == 200
    assert response.text == "/new?x=1"
    assert [r.status_code for r in response.history] == [302]


def test_redirects_not_followed_when_disabled() -> None:
    client = TestClient(redirect_app, follow_redirects=False)
    assert client.get("/old").status_code == 302
    assert client.get("/old", follow_redirects=True).status_code == 200


async def failing_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["path"] == "/late":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    elif scope["path"] == "/after":
        await respond(send, b"done")
    raise ValueError(scope["path"])


@pytest.mark.parametrize("path", ["/early", "/late", "/after"])
def test_app_errors_are_raised_in_the_test(path: str) -> None:
    with pytest.raises(ValueError, match=path):
        TestClient(failing_app).get(path)


def test_app_errors_become_responses_when_not_raised() -> None:
    client = TestClient(failing_app, raise_server_exceptions=False)
    early = client.get("/early")
    assert (early.status_code, early.content) == (500, b"")
    late = client.get("/late")
    assert (late.status_code, late.content) == (200, b"partial")
    assert client.get("/after").text == "done"


def test_app_that_sends_no_response() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with pytest.raises(RuntimeError, match="without sending"):
        TestClient(app).get("/")
    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500


def test_protocol_mistakes_are_reported() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [("a", "b")]})

    with pytest.raises(TypeError, match="must be bytes"):
        TestClient(app).get("/")


def test_per_request_timeout_raises_read_timeout() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(10)

    with pytest.raises(httpx.ReadTimeout):
        TestClient(app).get("/", timeout=0.05)


def lifespan_app(events: list[str], *, fail: str | None = None) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                phase = message["type"].split(".")[1]
                events.append(phase)
                if phase == fail:
                    await send({"type": f"lifespan.{phase}.failed", "message": "no db"})
                    return
                if phase == "startup":
                    scope["state"]["db"] = "pool"
                await send({"type": f"lifespan.{phase}.complete"})
                if phase == "shutdown":
                    return
        events.append(scope["type"])
        await respond(send, scope.get("state", {}).get("db", "none").encode())

    return app


def test_lifespan_runs_only_under_with() -> None:
    events: list[str] = []
    app = lifespan_app(events)
    assert TestClient(app).get("/").text == "none"
    assert events == ["http"]
    events.clear()
    with TestClient(app) as client:
        assert events == ["startup"]
        assert client.get("/").text == "pool"
    assert events == ["startup", "http", "shutdown"]


def test_request_state_is_a_copy_of_lifespan_state() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["n"] = 1
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        scope["state"]["n"] += 1
        await respond(send, str(scope["state"]["n"]).encode())

    with TestClient(app) as client:
        assert client.get("/").text == "2"
        assert client.get("/").text == "2"


@pytest.mark.parametrize("phase", ["startup", "shutdown"])
def test_lifespan_failure_raises(phase: str) -> None:
    events: list[str] = []
    client = TestClient(lifespan_app(events, fail=phase))
    with pytest.raises(LifespanFailed, match=f"{phase} failed: no db"), client:
        pass
    assert events[-1] == phase


def test_lifespan_error_in_app_is_raised() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        raise ConnectionError("database down")

    with pytest.raises(ConnectionError, match="database down") as info, TestClient(app):
        pass
    assert "lifespan startup" in info.value.__notes__[0]


def test_app_without_lifespan_support_still_works_under_with() -> None:
    scopes: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scopes.append(scope)
        if scope["type"] == "http":
            await respond(send, b"ok")

    with TestClient(app) as client:
        assert client.get("/").text == "ok"
    assert "state" not in scopes[-1]


def test_all_requests_run_on_one_background_loop() -> None:
    seen: list[tuple[int, int]] = []
    lock: list[asyncio.Lock] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((id(asyncio.get_running_loop()), threading.get_ident()))
        if not lock:
            lock.append(asyncio.Lock())
        async with lock[0]:  # fails if the lock belongs to another loop
            await respond(send, b"ok")

    client = TestClient(app)
    for _ in range(3):
        assert client.get("/").text == "ok"
    client.close()
    assert len(set(seen)) == 1
    assert seen[0][1] != threading.get_ident()


def test_dropped_client_stops_its_loop_thread() -> None:
    before = set(threading.enumerate())
    client = TestClient(echo_app)
    client.get("/")
    started = [t for t in threading.enumerate() if t not in before]
    assert [t.name for t in started] == ["satchel-testclient"]
    del client
    gc.collect()
    started[0].join(timeout=5)
    assert not started[0].is_alive()


def test_closed_client_refuses_requests() -> None:
    client = TestClient(echo_app)
    client.get("/")
    client.close()
    with pytest.raises(RuntimeError):
        client.get("/")


def test_scope_of_a_request_with_unicode_and_escapes() -> None:
    scopes, app = scope_recorder()
    client = TestClient(app, root_path="/mount", client=("1.2.3.4", 123))
    client.post("/caf%C3%A9/a%2Fb", params={"q": "ü ß&=", "n": "1"}, content=b"hello")
    client.get("/na\u00efve")
    scope, unicode_scope = scopes
    assert scope["type"] == "http"
    assert scope["asgi"]["version"] == "3.0"
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "POST"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/café/a/b"
    assert scope["raw_path"] == b"/caf%C3%A9/a%2Fb"
    assert scope["query_string"] == b"q=%C3%BC+%C3%9F%26%3D&n=1"
    assert scope["root_path"] == "/mount"
    assert scope["client"] == ("1.2.3.4", 123)
    assert scope["server"] == ("testserver", 80)
    headers = dict(scope["headers"])
    assert headers[b"host"] == b"testserver"
    assert headers[b"content-length"] == b"5"
    assert headers[b"user-agent"] == b"testclient"
    assert all(name == name.lower() for name, _ in scope["headers"])
    assert unicode_scope["path"] == "/naïve"
    assert unicode_scope["raw_path"] == b"/na%C3%AFve"
    assert b"content-length" not in dict(unicode_scope["headers"])


def test_scope_follows_base_url_and_headers() -> None:
    scopes, app = scope_recorder()
    client = TestClient(app, base_url="https://example.org:8443", headers={"X-Team": "a"})
    client.get("/", headers={"X-Extra": "b"})
    scope = scopes[0]
    assert scope["scheme"] == "https"
    assert scope["server"] == ("example.org", 8443)
    headers = dict(scope["headers"])
    assert headers[b"host"] == b"example.org:8443"
    assert (headers[b"x-team"], headers[b"x-extra"]) == (b"a", b"b")


def test_json_form_and_file_bodies() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body, _ = await read_body(receive)
        content_type = dict(scope["headers"])[b"content-type"]
        await respond(send, body, headers=[(b"content-type", content_type)])

    client = TestClient(app)
    assert client.post("/", json={"a": [1, 2]}).json() == {"a": [1, 2]}
    form = client.post("/", data={"name": "Zoë"})
    assert form.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form.text == "name=Zo%C3%AB"
    upload = client.post("/", files={"f": ("a.txt", b"file-data", "text/plain")})
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b"file-data" in upload.content


def test_response_headers_and_status_reach_httpx() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"x-dup", b"1"), (b"x-dup", b"2")]
        await respond(send, b'{"ok": true}', status=201, headers=headers)

    response = TestClient(app).get("/")
    assert response.status_code == 201
    assert response.json() == {"ok": True}
    assert response.headers.get_list("x-dup") == ["1", "2"]
    assert response.http_version == "HTTP/1.1"


def test_client_factory_fixture_closes_clients(satchel_client_factory: Any) -> None:
    events: list[str] = []
    client = satchel_client_factory(lifespan_app(events), lifespan=True)
    assert isinstance(client, TestClient)
    assert client.get("/").text == "pool"
    assert events == ["startup", "http"]


def test_test_client_is_not_collected_by_pytest() -> None:
    assert TestClient.__test__ is False


def test_scope_says_whether_csrf_checks_are_enforced():
    seen: list[object] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        seen.append(scope["extensions"]["satchel.testing"]["enforce_csrf_checks"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    TestClient(app).get("/")
    TestClient(app, enforce_csrf_checks=True).get("/")
    assert seen == [False, True]
