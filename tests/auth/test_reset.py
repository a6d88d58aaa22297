"""Password reset by email: the same answer for everyone, links that work once."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import httpx
import pytest
from accounts_kit import HTML, PASSWORD, SECRET, AddUser, MakeApp, QueryLog, login

from satchel.auth import LoginLimits
from satchel.auth.mail import EmailBackend, EmailMessage, MailError, MemoryBackend
from satchel.auth.tokens import ResetTokens
from satchel.testing import TestClient

NEW_PASSWORD = "seven paper boats drifting"


def wait_for_mail(
    mailbox: MemoryBackend, count: int = 1, timeout: float = 5.0
) -> list[EmailMessage]:
    """Return the outbox once it holds ``count`` messages (mail goes out in the background)."""
    deadline = time.monotonic() + timeout
    while len(mailbox.outbox) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return list(mailbox.outbox)


def settle(seconds: float = 0.3) -> None:
    """Give background mail tasks the time to run (to show that they sent nothing)."""
    time.sleep(seconds)


def ask(client: TestClient, address: str) -> httpx.Response:
    return client.post("/password/reset", data={"email": address}, headers=HTML)


def link_in(message: EmailMessage) -> str:
    for line in message.body.splitlines():
        if "/password/reset/" in line:
            return line.strip()
    raise AssertionError(f"no reset link in {message.body!r}")


def set_password(
    client: TestClient, link: str, new1: str, new2: str | None = None
) -> httpx.Response:
    data = {"new_password1": new1, "new_password2": new2 or new1}
    return client.post(link, data=data, headers=HTML, follow_redirects=False)


def test_the_whole_reset(make_app: MakeApp, add_user: AddUser, mailbox: MemoryBackend) -> None:
    add_user("ann", email="ann@example.com")
    app, _ = make_app(title="Shop")
    with TestClient(app) as client:
        form = client.get("/password/reset", headers=HTML)
        assert form.status_code == 200 and 'name="email"' in form.text
        sent = ask(client, "ann@example.com")
        assert sent.status_code == 200
        assert "Check your email" in sent.text
        (message,) = wait_for_mail(mailbox)
        assert message.to == ["ann@example.com"]
        assert message.subject == "Reset your password on Shop"
        link = link_in(message)
        assert link.startswith("http://testserver/password/reset/")
        page = client.get(link, headers=HTML)
        assert page.status_code == 200 and 'name="new_password1"' in page.text
        assert page.headers["referrer-policy"] == "same-origin"  # the token stays on site
        assert page.headers["cache-control"] == "no-store"
        done = set_password(client, link, NEW_PASSWORD)
        assert done.status_code == 303
        assert done.headers["location"] == "/login"
        assert "Your password has been set" in client.get("/login", headers=HTML).text
        assert login(client, "ann", PASSWORD).status_code == 400
        assert login(client, "ann", NEW_PASSWORD).status_code == 303
    with TestClient(app) as again:
        reused = again.get(link, headers=HTML)
        assert reused.status_code == 400 and "does not work" in reused.text
        assert set_password(again, link, "another fine passphrase").status_code == 400
        assert login(again, "ann", NEW_PASSWORD).status_code == 303


def test_the_answer_is_the_same_whoever_asks(
    make_app: MakeApp, add_user: AddUser, mailbox: MemoryBackend
) -> None:
    add_user("ann", email="ann@example.com")
    add_user("off", email="off@example.com", is_active=False)
    add_user("sso", email="sso@example.com", password=None)
    app, _ = make_app()
    with TestClient(app) as client:
        answers = {
            address: ask(client, address)
            for address in (
                "ann@example.com",
                "nobody@example.com",
                "off@example.com",
                "sso@example.com",
                "not an address",
            )
        }
        settle()
    bodies = {(r.status_code, r.text) for r in answers.values()}
    assert len(bodies) == 1
    assert [m.to for m in mailbox.outbox] == [["ann@example.com"]]


@pytest.mark.parametrize(
    ("typed", "delivered"),
    [
        ("ANN@EXAMPLE.COM", True),
        ("\uff41\uff4e\uff4e@example.com", True),  # full-width: NFKC folds it
        ("  ann@example.com ", True),
        ("ann@examp\u0131e.com", False),  # dotless i: a different address
        ("\u0430nn@example.com", False),  # Cyrillic a
        ("ann@example.com\u0000", False),
    ],
)
def test_mail_goes_to_the_stored_address_never_the_typed_one(
    make_app: MakeApp, add_user: AddUser, mailbox: MemoryBackend, typed: str, delivered: bool
) -> None:
    add_user("ann", email="Ann@Example.com")
    app, _ = make_app()
    with TestClient(app) as client:
        assert ask(client, typed).status_code == 200
        settle()
    expected = [["Ann@example.com"]] if delivered else []
    assert [m.to for m in mailbox.outbox] == expected


class BrokenMail(EmailBackend):
    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        raise MailError("connection refused")


def test_a_mail_failure_is_logged_not_shown(
    make_app: MakeApp, add_user: AddUser, caplog: pytest.LogCaptureFixture
) -> None:
    add_user("ann", email="ann@example.com")
    app, _ = make_app(mail_backend=BrokenMail())
    with caplog.at_level(logging.ERROR, "satchel.auth"), TestClient(app) as client:
        failing = ask(client, "ann@example.com")
        nobody = ask(client, "nobody@example.com")
        settle()
    assert failing.status_code == nobody.status_code == 200
    assert failing.text == nobody.text
    assert "could not send a password reset mail" in caplog.text


def test_a_link_dies_when_the_user_logs_in(
    make_app: MakeApp, add_user: AddUser, mailbox: MemoryBackend
) -> None:
    add_user("ann", email="ann@example.com")
    app, _ = make_app()
    with TestClient(app) as client:
        ask(client, "ann@example.com")
        link = link_in(wait_for_mail(mailbox)[0])
        assert client.get(link).status_code == 200
        login(client, "ann", PASSWORD)  # remembered the password after all
        assert client.get(link).status_code == 400


def test_expired_forged_and_foreign_tokens_are_refused_without_a_query(
    make_app: MakeApp, add_user: AddUser, queries: QueryLog
) -> None:
    ann = add_user("ann", email="ann@example.com")
    app, auth = make_app(reset_max_age=60)
    old = ResetTokens(SECRET, max_age=60, clock=lambda: time.time() - 120)
    expired = old.make(ann.id, ann.password, ann.last_login)
    other_key = ResetTokens("some other site's secret key").make(ann.id, ann.password, None)
    valid = auth.reset_tokens.make(ann.id, ann.password, ann.last_login)
    payload, _, signature = valid.rpartition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    with TestClient(app) as client:
        queries.clear()
        for token in (expired, other_key, forged, "x", "x" * 600, "a.b.c", "%00", "\u00e9t\u00e9"):
            response = client.get(f"/password/reset/{token}", headers=HTML)
            assert response.status_code == 400, token
        assert len(queries) == 0
        assert client.get(f"/password/reset/{valid}").status_code == 200


def test_a_token_is_bound_to_its_user(
    make_app: MakeApp, add_user: AddUser, mailbox: MemoryBackend
) -> None:
    ann = add_user("ann", email="ann@example.com")
    bob = add_user("bob", email="bob@example.com")
    app, auth = make_app()
    # A token whose signed user id is Bob's but whose fingerprint is Ann's state.
    crossed = auth.reset_tokens._serializer.dumps(
        [str(bob.id), auth.reset_tokens.make(ann.id, ann.password, None).split(".")[0]]
    )
    with TestClient(app) as client:
        assert client.get(f"/password/reset/{crossed}").status_code == 400
        ask(client, "ann@example.com")
        link = link_in(wait_for_mail(mailbox)[0])
        assert set_password(client, link, NEW_PASSWORD).status_code == 303
        assert login(client, "bob", PASSWORD).status_code == 303  # Bob is untouched


def test_a_bad_new_password_keeps_the_link_working(
    make_app: MakeApp, add_user: AddUser, mailbox: MemoryBackend
) -> None:
    add_user("ann", email="ann@example.com")
    app, _ = make_app()
    with TestClient(app) as client:
        ask(client, "ann@example.com")
        link = link_in(wait_for_mail(mailbox)[0])
        short = set_password(client, link, "short")
        assert short.status_code == 400 and "too short" in short.text
        mismatch = set_password(client, link, NEW_PASSWORD, NEW_PASSWORD + "?")
        assert mismatch.status_code == 400
        huge = set_password(client, link, "p" * 5000)
        assert huge.status_code == 400
        assert set_password(client, link, NEW_PASSWORD).status_code == 303


def test_reset_requests_are_throttled_alike_for_every_address(
    make_app: MakeApp, add_user: AddUser, mailbox: MemoryBackend
) -> None:
    add_user("ann", email="ann@example.com")
    app, _ = make_app(limits=LoginLimits(reset_per_email=2, reset_per_address=100))
    with TestClient(app) as client:
        statuses = {
            address: [ask(client, address).status_code for _ in range(3)]
            for address in ("ann@example.com", "nobody@example.com")
        }
        settle()
    assert statuses["ann@example.com"] == statuses["nobody@example.com"] == [200, 200, 429]
    assert len(mailbox.outbox) == 2


def test_site_url_sets_the_origin_of_links(
    make_app: MakeApp, add_user: AddUser, mailbox: MemoryBackend
) -> None:
    add_user("ann", email="ann@example.com")
    app, _ = make_app(site_url="https://shop.example/")
    with TestClient(app) as client:
        ask(client, "ann@example.com")
        assert link_in(wait_for_mail(mailbox)[0]).startswith("https://shop.example/password/reset/")
