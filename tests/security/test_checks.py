"""The check registry and the security checks' ids and levels."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from satchel import App
from satchel.exceptions import ImproperlyConfigured
from satchel.security import checks
from satchel.security.checks import CRITICAL, ERROR, WARNING, CheckMessage, run_checks

STRONG = "checks-" + "Hk3$" * 12

#: Settings with which the deploy check has nothing to say.
HARDENED: dict[str, Any] = {
    "secret_key": STRONG,
    "allowed_hosts": ["example.com"],
    "hsts_seconds": 31536000,
    "hsts_include_subdomains": True,
    "https_redirect": True,
}


def _ids(messages: list[CheckMessage]) -> set[str]:
    return {m.id for m in messages}


def _level(messages: list[CheckMessage], id: str) -> int:
    return next(m.level for m in messages if m.id == id)


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may register checks; keep them out of other tests.
    checks.registered()  # load the built-in checks first
    monkeypatch.setattr(checks, "_registry", list(checks._registry))
    for name in ("SATCHEL_SECRET_KEY", "SATCHEL_DEBUG", "SATCHEL_ALLOWED_HOSTS"):
        monkeypatch.delenv(name, raising=False)


def test_hardened_app_passes_every_check() -> None:
    assert run_checks(App(**HARDENED), deploy=True) == []
    assert run_checks(App(**HARDENED)) == []


def test_development_key_with_debug_off_is_critical_even_without_deploy() -> None:
    messages = run_checks(App())
    assert _ids(messages) == {"security.E002"}
    assert _level(messages, "security.E002") == CRITICAL
    assert "development key" in messages[0].msg
    assert "SATCHEL_SECRET_KEY" in (messages[0].hint or "")


def test_debug_on_is_an_error_in_deploy() -> None:
    messages = run_checks(App(debug=True), deploy=True)
    assert {"security.E001", "security.E002"} <= _ids(messages)
    assert _level(messages, "security.E001") == ERROR
    assert _level(messages, "security.E002") == ERROR  # debug on: not critical
    assert run_checks(App(debug=True)) == []  # development: nothing to say


@pytest.mark.parametrize(
    ("key", "weak"),
    [
        ("short-key", True),
        ("a" * 60, True),
        ("abcd" * 15, True),  # four distinct characters
        ("abcde" * 10, False),
        (STRONG, False),
    ],
)
def test_secret_key_strength(key: str, weak: bool) -> None:
    messages = run_checks(App(**{**HARDENED, "secret_key": key}), deploy=True)
    assert ("security.E003" in _ids(messages)) is weak


def test_weak_fallback_keys() -> None:
    app = App(**{**HARDENED, "secret_key_fallbacks": [STRONG[::-1], "old"]})
    messages = run_checks(app, deploy=True)
    assert _ids(messages) == {"security.E004"}
    assert "secret_key_fallbacks[1]" in messages[0].msg


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"allowed_hosts": []}, "security.E005"),
        ({"allowed_hosts": ["*"]}, "security.W001"),
        ({"hsts_seconds": 0}, "security.W002"),
        ({"hsts_include_subdomains": False}, "security.W003"),
        ({"hsts_preload": True, "hsts_seconds": 3600}, "security.W004"),
        ({"https_redirect": False}, "security.W005"),
        ({"session_cookie_secure": False}, "security.W006"),
        ({"csrf_enabled": False}, "security.W008"),
        ({"content_type_nosniff": False}, "security.W009"),
        ({"frame_options": None}, "security.W010"),
        ({"referrer_policy": None}, "security.W011"),
        ({"referrer_policy": "unsafe-url"}, "security.W011"),
        ({"cross_origin_opener_policy": None}, "security.W012"),
        ({"trusted_proxies": ["*"]}, "security.W013"),
        ({"session_cookie_samesite": "none"}, "security.W014"),
    ],
)
def test_each_deploy_finding(settings: dict[str, Any], expected: str) -> None:
    messages = run_checks(App(**{**HARDENED, **settings}), deploy=True)
    assert _ids(messages) == {expected}
    assert _level(messages, expected) == (ERROR if ".E" in expected else WARNING)
    assert run_checks(App(**{**HARDENED, **settings})) == []  # deploy checks only


def test_missing_security_battery_is_an_error() -> None:
    class Bare(App):
        batteries = ()

    assert "security.E006" in _ids(run_checks(Bare(**HARDENED), deploy=True))


def test_silenced_checks_are_left_out() -> None:
    app = App(**{**HARDENED, "https_redirect": False, "silenced_checks": ["security.W005"]})
    assert run_checks(app, deploy=True) == []


def test_an_app_that_cannot_start_is_core_e001() -> None:
    messages = run_checks(App(**HARDENED, cors_allow_origins=["null"]), deploy=True)
    assert _ids(messages) == {"core.E001"}
    assert "may not list 'null'" in messages[0].msg


def test_registering_a_check() -> None:
    seen: list[App] = []

    @checks.register
    def always(app: App) -> Iterator[CheckMessage]:
        seen.append(app)
        yield checks.warning("extra.W001", "something to know", hint="do this")

    @checks.register(deploy=True)
    def deploy_only(app: App) -> list[CheckMessage]:
        return [checks.error("extra.E001", "production problem")]

    checks.register(always)  # a second registration is ignored
    app = App(**HARDENED)
    assert [m.id for m in run_checks(app)] == ["extra.W001"]
    assert seen == [app]
    messages = run_checks(app, deploy=True)
    assert sorted(m.id for m in messages) == ["extra.E001", "extra.W001"]
    assert str(messages[0]) == "extra.W001: something to know\n\tHINT: do this"


def test_unregister() -> None:
    @checks.register
    def extra(app: App) -> list[CheckMessage]:
        return [checks.info("extra.I001", "hello")]

    assert _ids(run_checks(App(**HARDENED))) == {"extra.I001"}
    checks.unregister(extra)
    assert run_checks(App(**HARDENED)) == []


def test_a_crashing_check_is_reported_not_raised() -> None:
    @checks.register
    def broken(app: App) -> list[CheckMessage]:
        raise RuntimeError("boom")

    messages = run_checks(App(**HARDENED))
    assert _ids(messages) == {"core.E002"}
    assert "broken" in messages[0].msg and "boom" in messages[0].msg


def test_check_startup_refuses_the_development_key() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"refusing to start:\nsecurity\.E002"):
        App().check_startup()
    App(debug=True).check_startup()  # development: allowed
    App(**HARDENED).check_startup()


def test_check_startup_logs_deploy_errors(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="satchel.security"):
        App(secret_key=STRONG).check_startup()  # allowed_hosts empty: E005, not fatal
    assert "security.E005" in caplog.text
    assert "security.W002" not in caplog.text  # warnings are for `satchel check --deploy`


def test_check_startup_still_raises_configuration_errors() -> None:
    with pytest.raises(ImproperlyConfigured, match="allowed_hosts entry"):
        App(secret_key=STRONG, allowed_hosts=["https://example.com"]).check_startup()
