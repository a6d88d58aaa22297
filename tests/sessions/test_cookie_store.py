"""The signed-cookie store: round trips, key rotation, tampering, and which headers it adds."""

from __future__ import annotations

import base64
import logging
import secrets
import types

import itsdangerous.timed
import pytest

from satchel import App, Request
from satchel.exceptions import ImproperlyConfigured
from satchel.sessions import CookieStore
from satchel.testing import TestClient

KEY = "k" * 24 + "-current-secret-key-for-tests"
OLD_KEY = "o" * 24 + "-previous-secret-key-for-tests"


def cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def test_round_trip_keeps_json_values(make_app, set_cookies):
    app = make_app()

    @app.get("/many")
    async def many(request: Request) -> str:
        request.session.update(
            {"int": 1, "float": 1.5, "list": [1, "a"], "dict": {"k": None}, "uni": "é😀"}
        )
        return "ok"

    client = TestClient(app)
    response = client.get("/many")
    (header,) = set_cookies(response)
    assert header.startswith("session=")
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Max-Age=1209600" in header
    assert "Path=/" in header
    assert "Secure" not in header  # plain http
    data = client.get("/read").json()
    assert data == {
        "data": {"int": 1, "float": 1.5, "list": [1, "a"], "dict": {"k": None}, "uni": "é😀"},
        "is_new": False,
    }


def test_counter_across_requests(make_app):
    client = TestClient(make_app())
    assert [client.get("/count").json()["count"] for _ in range(3)] == [1, 2, 3]


def test_payload_is_json_not_pickle(make_app, set_cookies):
    client = TestClient(make_app())
    header = set_cookies(client.get("/set/name/alice"))[0]
    payload = cookie_value(header).split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert decoded == b'{"name":"alice"}'


def test_untouched_session_adds_no_header_and_loads_nothing(make_app, store_of, monkeypatch):
    app = make_app()
    store = store_of(app)
    client = TestClient(app)
    client.get("/set/a/1")
    calls = []
    monkeypatch.setattr(store, "load", lambda request: calls.append(request))
    response = client.get("/untouched")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert "vary" not in response.headers
    assert calls == []


def test_read_only_adds_vary_but_no_set_cookie(make_app, set_cookies):
    client = TestClient(make_app())
    client.get("/set/a/1")
    response = client.get("/read")
    assert response.json()["data"] == {"a": "1"}
    assert set_cookies(response) == []
    assert response.headers["vary"] == "Cookie"


def test_read_without_cookie_adds_vary_only(make_app, set_cookies):
    response = TestClient(make_app()).get("/read")
    assert response.json() == {"data": {}, "is_new": True}
    assert set_cookies(response) == []
    assert response.headers["vary"] == "Cookie"


def test_vary_is_merged_with_the_handlers(make_app):
    app = make_app()

    @app.get("/varied")
    async def varied(request: Request):
        from satchel import Response

        request.session.get("x")
        return Response("x", headers={"vary": "Accept-Encoding"})

    response = TestClient(app).get("/varied")
    assert response.headers["vary"] == "Accept-Encoding, Cookie"


def test_clear_deletes_the_cookie(make_app, set_cookies):
    client = TestClient(make_app())
    client.get("/set/a/1")
    (header,) = set_cookies(client.get("/clear"))
    assert header.startswith("session=;")
    assert "Max-Age=0" in header
    assert client.get("/read").json() == {"data": {}, "is_new": True}


def test_clearing_an_empty_session_without_cookie_sets_nothing(make_app, set_cookies):
    response = TestClient(make_app()).get("/clear")
    assert set_cookies(response) == []


def test_cycle_key_reissues_the_cookie(make_app, set_cookies):
    client = TestClient(make_app())
    client.get("/set/cart/3")
    (header,) = set_cookies(client.get("/login/alice"))
    assert "session=" in header
    assert client.get("/read").json()["data"] == {"cart": "3", "user": "alice"}


def test_logout_forgets_everything(make_app, set_cookies):
    client = TestClient(make_app())
    client.get("/login/alice")
    (header,) = set_cookies(client.get("/logout"))
    assert "Max-Age=0" in header
    assert client.get("/read").json()["data"] == {}


# -- key rotation ------------------------------------------------------------------------


def test_rotation_accepts_the_old_key_and_resigns_with_the_new(make_app, store_of, set_cookies):
    old_app = make_app(secret_key=OLD_KEY)
    old_cookie = cookie_value(set_cookies(TestClient(old_app).get("/set/user/alice"))[0])

    app = make_app(secret_key=KEY, secret_key_fallbacks=[OLD_KEY])
    client = TestClient(app, cookies={"session": old_cookie})
    response = client.get("/read")
    assert response.json()["data"] == {"user": "alice"}
    (header,) = set_cookies(response)  # read-only, yet re-issued under the new key
    new_cookie = cookie_value(header)
    assert new_cookie != old_cookie
    # The new cookie verifies with the current key alone.
    only_new = make_app(secret_key=KEY)
    assert store_of(only_new).unsign_data(new_cookie)[0] == {"user": "alice"}
    assert store_of(only_new).unsign_data(old_cookie) is None
    # ...and is not re-issued again.
    again = TestClient(app, cookies={"session": new_cookie}).get("/read")
    assert again.json()["data"] == {"user": "alice"}
    assert set_cookies(again) == []


def test_without_the_fallback_an_old_cookie_is_ignored(make_app, set_cookies):
    old_cookie = cookie_value(
        set_cookies(TestClient(make_app(secret_key=OLD_KEY)).get("/set/a/1"))[0]
    )
    client = TestClient(make_app(secret_key=KEY), cookies={"session": old_cookie})
    assert client.get("/read").json() == {"data": {}, "is_new": True}


def test_fallback_keys_from_the_environment(monkeypatch, make_app, set_cookies):
    old_cookie = cookie_value(
        set_cookies(TestClient(make_app(secret_key=OLD_KEY)).get("/set/a/1"))[0]
    )
    monkeypatch.setenv("SATCHEL_SECRET_KEY_FALLBACKS", f"unused-key,{OLD_KEY}")
    client = TestClient(make_app(secret_key=KEY), cookies={"session": old_cookie})
    assert client.get("/read").json()["data"] == {"a": "1"}


# -- hostile cookies -----------------------------------------------------------------------


def _valid_cookie(make_app, set_cookies) -> str:
    return cookie_value(set_cookies(TestClient(make_app()).get("/set/role/admin"))[0])


def _flip(text: str, index: int) -> str:
    char = text[index]
    return text[:index] + ("A" if char != "A" else "B") + text[index + 1 :]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda c: _flip(c, 2), id="payload-bit-flip"),
        pytest.param(lambda c: _flip(c, len(c) - 3), id="signature-bit-flip"),
        pytest.param(lambda c: c[:-5], id="truncated"),
        pytest.param(lambda c: c.split(".")[0], id="payload-only"),
        pytest.param(lambda c: "", id="empty"),
        pytest.param(lambda c: "....", id="dots"),
        pytest.param(lambda c: "not-base64!!.x.y", id="garbage"),
        pytest.param(lambda c: c + "x" * 10_000, id="huge"),
        pytest.param(
            lambda c: (
                base64.urlsafe_b64encode(b'{"role":"root"}').decode().rstrip("=")
                + "."
                + c.split(".", 1)[1]
            ),
            id="swapped-payload",
        ),
    ],
)
def test_tampered_cookie_gives_a_fresh_empty_session(make_app, set_cookies, mangle):
    cookie = mangle(_valid_cookie(make_app, set_cookies))
    client = TestClient(make_app(), cookies={"session": cookie})
    response = client.get("/read")
    assert response.status_code == 200
    assert response.json() == {"data": {}, "is_new": True}
    assert set_cookies(response) == []


def test_cookie_signed_by_another_app_is_ignored(make_app, set_cookies):
    other = cookie_value(
        set_cookies(TestClient(make_app(secret_key="another-app-" * 4)).get("/set/role/admin"))[0]
    )
    client = TestClient(make_app(), cookies={"session": other})
    assert client.get("/read").json() == {"data": {}, "is_new": True}


def test_signature_for_another_purpose_is_refused(make_app, store_of):
    # Same key, other salt (another feature signing with the secret key).
    signer = itsdangerous.URLSafeTimedSerializer(KEY, salt="satchel.other")
    forged = signer.dumps({"role": "admin"})
    client = TestClient(make_app(), cookies={"session": forged})
    assert client.get("/read").json()["data"] == {}


def test_non_dict_payload_is_ignored(make_app, store_of):
    store = store_of(make_app())
    forged = store.signing.dumps(["not", "a", "dict"])
    client = TestClient(make_app(), cookies={"session": forged})
    assert client.get("/read").json() == {"data": {}, "is_new": True}


def _signed_at(store: CookieStore, data: dict, when: float, monkeypatch) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(itsdangerous.timed, "time", types.SimpleNamespace(time=lambda: when))
        return store.sign_data(data)


def test_expired_cookie_gives_a_fresh_session(make_app, store_of, monkeypatch):
    import time

    app = make_app(session_max_age=60)
    old = _signed_at(store_of(app), {"user": "alice"}, time.time() - 61, monkeypatch)
    client = TestClient(app, cookies={"session": old})
    assert client.get("/read").json() == {"data": {}, "is_new": True}


def test_expired_old_key_cookie_is_not_rescued_by_fallback(make_app, store_of, monkeypatch):
    import time

    old_app = make_app(secret_key=OLD_KEY, session_max_age=60)
    old = _signed_at(store_of(old_app), {"user": "alice"}, time.time() - 61, monkeypatch)
    app = make_app(secret_key=KEY, secret_key_fallbacks=[OLD_KEY], session_max_age=60)
    client = TestClient(app, cookies={"session": old})
    assert client.get("/read").json()["data"] == {}


def test_cookie_from_the_future_is_refused(make_app, store_of, monkeypatch):
    import time

    app = make_app()
    future = _signed_at(store_of(app), {"user": "alice"}, time.time() + 3600, monkeypatch)
    client = TestClient(app, cookies={"session": future})
    assert client.get("/read").json()["data"] == {}


def test_half_expired_session_in_use_is_reissued(make_app, store_of, set_cookies, monkeypatch):
    import time

    app = make_app(session_max_age=100)
    aging = _signed_at(store_of(app), {"user": "alice"}, time.time() - 60, monkeypatch)
    fresh = _signed_at(store_of(app), {"user": "alice"}, time.time() - 10, monkeypatch)
    assert len(set_cookies(TestClient(app, cookies={"session": aging}).get("/read"))) == 1
    assert set_cookies(TestClient(app, cookies={"session": fresh}).get("/read")) == []
    # Untouched: nothing, however old.
    assert set_cookies(TestClient(app, cookies={"session": aging}).get("/untouched")) == []


# -- cookie attributes -----------------------------------------------------------------------


def test_secure_under_https(make_app, set_cookies):
    client = TestClient(make_app(), base_url="https://testserver")
    (header,) = set_cookies(client.get("/set/a/1"))
    assert "; Secure" in header
    assert client.get("/read").json()["data"] == {"a": "1"}


def test_secure_setting_forces_it_over_http(make_app, set_cookies):
    (header,) = set_cookies(TestClient(make_app(session_cookie_secure=True)).get("/set/a/1"))
    assert "; Secure" in header


def test_secure_false_keeps_it_off_under_https(make_app, set_cookies):
    client = TestClient(make_app(session_cookie_secure=False), base_url="https://testserver")
    assert "Secure" not in set_cookies(client.get("/set/a/1"))[0]


def test_host_prefix(make_app, set_cookies):
    client = TestClient(make_app(session_cookie_host_prefix=True), base_url="https://testserver")
    (header,) = set_cookies(client.get("/set/a/1"))
    assert header.startswith("__Host-session=")
    assert "; Secure" in header
    assert "Path=/;" in header
    assert "Domain" not in header
    assert client.get("/read").json()["data"] == {"a": "1"}
    # A plain "session" cookie (e.g. planted by a subdomain) is not read.
    planted = TestClient(make_app(session_cookie_host_prefix=True), base_url="https://testserver")
    planted.cookies.set("session", cookie_value(header))
    assert planted.get("/read").json()["data"] == {}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"session_cookie_host_prefix": True, "session_cookie_secure": False}, "Secure"),
        ({"session_cookie_host_prefix": True, "session_cookie_domain": "example.com"}, "Domain"),
        ({"session_cookie_samesite": "none", "session_cookie_secure": False}, "Secure"),
    ],
)
def test_impossible_cookie_settings_fail_at_startup(make_app, settings, message):
    app = make_app(**settings)
    with pytest.raises(ImproperlyConfigured, match=message):
        app.freeze()


def test_samesite_strict_and_domain(make_app, set_cookies):
    app = make_app(session_cookie_samesite="strict", session_cookie_domain="testserver.local")
    (header,) = set_cookies(TestClient(app).get("/set/a/1"))
    assert "SameSite=Strict" in header
    assert "Domain=testserver.local" in header


def test_custom_cookie_name(make_app, set_cookies):
    client = TestClient(make_app(session_cookie_name="sid"))
    assert set_cookies(client.get("/set/a/1"))[0].startswith("sid=")
    assert client.get("/read").json()["data"] == {"a": "1"}


# -- limits and mistakes ---------------------------------------------------------------------


def _big(app: App) -> App:
    @app.get("/big")
    async def big(request: Request) -> str:
        request.session["blob"] = secrets.token_urlsafe(4000)  # random: zlib cannot shrink it
        return "stored"

    return app


def test_oversized_cookie_is_an_error_in_debug(make_app):
    client = TestClient(_big(make_app(debug=True)), raise_server_exceptions=False)
    response = client.get("/big")
    assert response.status_code == 500
    assert "over the 4096 browsers keep" in response.text
    assert "set-cookie" not in response.headers


def test_oversized_cookie_is_logged_in_production(make_app, caplog):
    client = TestClient(_big(make_app(debug=False)))
    with caplog.at_level(logging.ERROR, logger="satchel.sessions"):
        response = client.get("/big")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert "over the 4096 browsers keep" in caplog.text


def test_non_json_value_names_the_problem(make_app):
    app = make_app(debug=True)

    @app.get("/bad")
    async def bad(request: Request) -> str:
        request.session["obj"] = object()
        return "x"

    response = TestClient(app, raise_server_exceptions=False).get("/bad")
    assert response.status_code == 500
    assert "not JSON" in response.text


def test_sessions_can_be_turned_off(make_app):
    app = make_app(sessions_enabled=False, debug=True)
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/untouched").status_code == 200
    response = client.get("/read")
    assert response.status_code == 500
    assert "sessions battery" in response.text
    assert "sessions" not in app.extensions


def test_session_saved_when_the_handler_fails(make_app, set_cookies):
    app = make_app()

    @app.get("/fail")
    async def fail(request: Request) -> str:
        request.session["tried"] = True
        from satchel import BadRequest

        raise BadRequest("no")

    client = TestClient(app)
    response = client.get("/fail")
    assert response.status_code == 400
    assert len(set_cookies(response)) == 1
    assert client.get("/read").json()["data"] == {"tried": True}


def test_session_seen_by_user_middleware_and_hooks(make_app):
    app = make_app()
    seen = []

    @app.middleware
    async def mw(request, call_next):
        request.session["by_mw"] = 1
        response = await call_next(request)
        seen.append(request.session.get("by_handler"))
        return response

    @app.get("/h")
    async def h(request: Request) -> str:
        request.session["by_handler"] = 2
        return "x"

    client = TestClient(app)
    client.get("/h")
    assert seen == [2]
    assert client.get("/read").json()["data"] == {"by_mw": 1, "by_handler": 2}


def test_404_pages_can_use_the_session(make_app):
    app = make_app()

    @app.error_handler(404)
    async def not_found(request: Request, exc: Exception):
        return f"lost, {request.session.get('name', 'stranger')}"

    client = TestClient(app)
    client.get("/set/name/alice")
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.text == "lost, alice"
    assert response.headers["vary"] == "Cookie"


def test_custom_store_is_used(make_app):
    app = make_app()

    class Store(CookieStore):
        loads = 0

        def load(self, request):
            Store.loads += 1
            return super().load(request)

    app.extensions["sessions"] = Store(app.settings)
    TestClient(app).get("/read")
    assert Store.loads == 1


def test_a_non_store_in_extensions_is_refused(make_app):
    app = make_app()
    app.extensions["sessions"] = object()
    with pytest.raises(ImproperlyConfigured, match="SessionStore"):
        app.freeze()


def test_large_values_are_compressed(make_app, set_cookies):
    app = make_app()

    @app.get("/long")
    async def long(request: Request) -> str:
        request.session["text"] = "abc" * 1000
        return "ok"

    client = TestClient(app)
    value = cookie_value(set_cookies(client.get("/long"))[0])
    assert value.startswith(".")  # itsdangerous' mark of a zlib payload
    assert len(value) < 300
    assert client.get("/read").json()["data"] == {"text": "abc" * 1000}


def test_cookie_format_is_itsdangerous(make_app, store_of):
    # A value signed by a plain URLSafeTimedSerializer with the same settings reads back.
    import hashlib

    import orjson

    plain = itsdangerous.URLSafeTimedSerializer(
        KEY,
        salt="satchel.sessions",
        serializer=orjson,
        signer_kwargs={"digest_method": hashlib.sha256},
    )
    value = plain.dumps({"user": "alice", "big": "z" * 500}).decode()
    client = TestClient(make_app(), cookies={"session": value})
    assert client.get("/read").json()["data"] == {"user": "alice", "big": "z" * 500}
