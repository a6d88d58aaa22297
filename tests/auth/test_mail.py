"""Mail: messages, header-injection refusal, and the console, file, memory and SMTP backends.

SMTP runs against a real aiosmtpd server on 127.0.0.1 (a dev dependency).
"""

from __future__ import annotations

import email
import email.policy
import io
import socket
import time
from collections.abc import Iterator
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any

import pytest

from satchel.auth.mail import (
    ConsoleBackend,
    EmailMessage,
    FileBackend,
    MailError,
    MemoryBackend,
    SMTPBackend,
    asend_mail,
    backend_from_settings,
    send_mail,
)
from satchel.config import load_settings

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")

LINK = "http://127.0.0.1:8000/password/reset/" + "eyJhbGciOiJIUzI1NiJ9." * 6 + "abc"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Collector:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = data is not None and (data.login, data.password) == (b"mailer", b"s3cret")
    return aiosmtpd_smtp.AuthResult(success=ok, handled=False)  # False: server answers 535


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collector, int]]:
    handler = Collector()
    port = free_port()
    controller = aiosmtpd_controller.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def auth_smtp_server() -> Iterator[tuple[Collector, int]]:
    handler = Collector()
    port = free_port()
    controller = aiosmtpd_controller.Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_required=True,
        auth_require_tls=False,  # test only: no certificate here
    )
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def parse(data: bytes) -> MimeMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, MimeMessage)
    return message


# -- messages and header injection -----------------------------------------------------


def test_message_renders_with_the_usual_headers() -> None:
    message = EmailMessage("Hello", "Body text\n", ["Ann <ann@example.com>", "bob@example.com"])
    mime = message.to_mime("noreply@example.com")
    assert mime["From"] == "noreply@example.com"
    assert mime["To"] == "Ann <ann@example.com>, bob@example.com"
    assert mime["Subject"] == "Hello"
    assert mime["Date"] and mime["Message-ID"].endswith("@example.com>")
    assert message.recipients() == ["ann@example.com", "bob@example.com"]


def test_single_recipient_string_and_html_alternative() -> None:
    message = EmailMessage("Hi", "plain", "ann@example.com", html_body="<p>html</p>")
    assert message.to == ["ann@example.com"]
    mime = parse(message.to_mime().as_bytes())
    assert mime.get_content_type() == "multipart/alternative"
    assert mime.get_body(("plain",)).get_content().strip() == "plain"  # type: ignore[union-attr]
    assert mime.get_body(("html",)).get_content().strip() == "<p>html</p>"  # type: ignore[union-attr]


def test_unicode_subject_and_body_round_trip() -> None:
    message = EmailMessage("Passwort zurücksetzen ✓", "Grüße, Zoë\n", ["zoe@example.com"])
    mime = parse(message.to_mime().as_bytes())
    assert mime["Subject"] == "Passwort zurücksetzen ✓"
    assert mime.get_content().replace("\r\n", "\n") == "Grüße, Zoë\n"  # CRLF on the wire


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Hello\r\nBcc: victim@example.com"),
        ("subject", "Hello\nBcc: victim@example.com"),
        ("subject", "Hello\rX: y"),
        ("subject", "nul\0byte"),
        ("to", ["ann@example.com\r\nBcc: victim@example.com"]),
        ("to", ["ann@example.com\n"]),
        ("from_email", "me@example.com\r\nBcc: victim@example.com"),
        ("headers", {"Reply-To": "x@example.com\r\nBcc: victim@example.com"}),
    ],
)
def test_header_injection_is_refused(field: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"subject": "s", "body": "b", "to": ["ann@example.com"]}
    kwargs[field] = value
    with pytest.raises(ValueError, match="line break or NUL"):
        EmailMessage(**kwargs)
    backend = MemoryBackend()
    with pytest.raises(ValueError, match="line break or NUL"):
        send_mail(**kwargs, backend=backend)
    assert backend.outbox == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"to": []}, "at least one recipient"),
        ({"to": ["not an address"]}, "not an email address"),
        ({"to": ["@example.com"]}, "not an email address"),
        ({"from_email": "nobody"}, "not an email address"),
        ({"headers": {"Bad Name": "x"}}, "invalid header name"),
        ({"headers": {"X:Y": "x"}}, "invalid header name"),
        ({"headers": {"Bcc": "victim@example.com"}}, "own argument"),
        ({"headers": {"content-type": "text/html"}}, "own argument"),
    ],
)
def test_bad_messages_are_refused(kwargs: dict[str, Any], match: str) -> None:
    base: dict[str, Any] = {"subject": "s", "body": "b", "to": ["ann@example.com"]}
    with pytest.raises(ValueError, match=match):
        EmailMessage(**{**base, **kwargs})


def test_extra_headers_are_kept() -> None:
    message = EmailMessage("s", "b", ["a@example.com"], headers={"Reply-To": "help@example.com"})
    assert message.to_mime()["Reply-To"] == "help@example.com"


# -- memory, console, file -------------------------------------------------------------


async def test_memory_backend_keeps_an_outbox() -> None:
    backend = MemoryBackend(default_from="site@example.com")
    assert send_mail("One", "1", "a@example.com", backend=backend) == 1
    assert await asend_mail("Two", "2", ["b@example.com"], backend=backend) == 1
    assert [m.subject for m in backend.outbox] == ["One", "Two"]
    assert backend.outbox[0].to == ["a@example.com"]


def test_console_backend_prints_whole_messages(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    ConsoleBackend(stream).send_messages([EmailMessage("Hi", LINK, ["a@example.com"])])
    text = stream.getvalue()
    assert "Subject: Hi" in text and LINK in text and text.endswith("-" * 79 + "\n")
    send_mail("To stdout", "body", "a@example.com", backend=ConsoleBackend())
    assert "Subject: To stdout" in capsys.readouterr().out


async def test_file_backend_writes_one_readable_eml_per_message(tmp_path: Path) -> None:
    outbox = tmp_path / "mail" / "nested"
    backend = FileBackend(outbox)
    send_mail("Reset", f"Go to\n{LINK}\n", ["ann@example.com"], backend=backend)
    await asend_mail("Second", "two", "bob@example.com", backend=backend)
    files = sorted(outbox.iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]
    raw = files[0].read_bytes()
    assert LINK.encode() in raw  # readable as is: a browser test greps the link
    first = parse(raw)
    assert first["Subject"] == "Reset" and first["To"] == "ann@example.com"
    assert parse(files[1].read_bytes())["Subject"] == "Second"


def test_file_backend_failure_is_a_mail_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(MailError, match="could not write mail"):
        send_mail("s", "b", "a@example.com", backend=FileBackend(blocker / "sub"))


def test_backend_from_settings(tmp_path: Path) -> None:
    assert isinstance(backend_from_settings(load_settings(debug=True)), ConsoleBackend)
    production = backend_from_settings(load_settings(debug=False))
    assert isinstance(production, SMTPBackend)
    assert (production.host, production.port) == ("localhost", 25)
    files = backend_from_settings(
        load_settings(email_backend="file", email_file_path=str(tmp_path), debug=True)
    )
    assert isinstance(files, FileBackend) and files.directory == tmp_path
    memory = backend_from_settings(
        load_settings(email_backend="memory", default_from_email="app@example.com")
    )
    assert isinstance(memory, MemoryBackend) and memory.default_from == "app@example.com"
    smtp = backend_from_settings(
        load_settings(
            email_backend="smtp",
            email_host="mail.example.com",
            email_port=587,
            email_host_user="u",
            email_host_password="p",
            email_use_starttls=True,
            email_timeout=3,
        )
    )
    assert isinstance(smtp, SMTPBackend)
    assert (smtp.host, smtp.port, smtp.username, smtp.password) == (
        "mail.example.com",
        587,
        "u",
        "p",
    )
    assert smtp.starttls and not smtp.use_tls and smtp.timeout == 3
    with pytest.raises(ValueError, match="choose one"):
        backend_from_settings(
            load_settings(email_backend="smtp", email_use_tls=True, email_use_starttls=True)
        )


# -- SMTP against aiosmtpd -------------------------------------------------------------


def test_smtp_delivers(smtp_server: tuple[Collector, int]) -> None:
    handler, port = smtp_server
    backend = SMTPBackend("127.0.0.1", port, default_from="Site <site@example.com>")
    sent = backend.send_messages(
        [
            EmailMessage("First", f"Reset: {LINK}\n", ["Ann <ann@example.com>"]),
            EmailMessage("Second", "x", ["b@example.com", "c@example.com"], html_body="<b>x</b>"),
        ]
    )
    assert sent == 2
    assert len(handler.received) == 2
    sender, recipients, content = handler.received[0]
    assert sender == "site@example.com"
    assert recipients == ["ann@example.com"]
    first = parse(content)
    assert first["Subject"] == "First" and LINK in first.get_content()
    assert handler.received[1][1] == ["b@example.com", "c@example.com"]


async def test_smtp_async_does_not_block(smtp_server: tuple[Collector, int]) -> None:
    handler, port = smtp_server
    backend = SMTPBackend("127.0.0.1", port)
    assert await asend_mail("Async", "body", "ann@example.com", backend=backend) == 1
    assert parse(handler.received[0][2])["Subject"] == "Async"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login(auth_smtp_server: tuple[Collector, int]) -> None:
    handler, port = auth_smtp_server
    good = SMTPBackend("127.0.0.1", port, username="mailer", password="s3cret")
    assert send_mail("Authed", "b", "a@example.com", backend=good) == 1
    bad = SMTPBackend("127.0.0.1", port, username="mailer", password="wrong")
    with pytest.raises(MailError, match="SMTPAuthenticationError") as caught:
        send_mail("Nope", "b", "a@example.com", backend=bad)
    assert "wrong" not in str(caught.value)
    anonymous = SMTPBackend("127.0.0.1", port)
    with pytest.raises(MailError):
        send_mail("Nope", "b", "a@example.com", backend=anonymous)
    assert [parse(c)["Subject"] for _, _, c in handler.received] == ["Authed"]


def test_smtp_starttls_refused_by_a_plain_server(smtp_server: tuple[Collector, int]) -> None:
    _, port = smtp_server
    backend = SMTPBackend("127.0.0.1", port, starttls=True)
    with pytest.raises(MailError, match=r"STARTTLS|starttls"):
        send_mail("s", "b", "a@example.com", backend=backend)


def test_smtp_server_down_is_a_clear_mail_error() -> None:
    port = free_port()  # nothing listens there
    backend = SMTPBackend("127.0.0.1", port, timeout=2)
    started = time.perf_counter()
    with pytest.raises(MailError, match=f"127.0.0.1:{port} failed: ConnectionRefusedError"):
        send_mail("s", "b", "a@example.com", backend=backend)
    assert time.perf_counter() - started < 2


async def test_smtp_server_down_async() -> None:
    backend = SMTPBackend("127.0.0.1", free_port(), timeout=2)
    with pytest.raises(MailError):
        await asend_mail("s", "b", "a@example.com", backend=backend)


def test_smtp_silent_server_times_out() -> None:
    with socket.socket() as listener:  # accepts TCP, never says hello
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        backend = SMTPBackend("127.0.0.1", port, timeout=0.3)
        started = time.perf_counter()
        with pytest.raises(MailError, match=r"timed out|TimeoutError"):
            send_mail("s", "b", "a@example.com", backend=backend)
        assert time.perf_counter() - started < 3


def test_smtp_configuration_errors() -> None:
    with pytest.raises(ValueError, match="choose one"):
        SMTPBackend(use_tls=True, starttls=True)
    with pytest.raises(ValueError, match="timeout"):
        SMTPBackend(timeout=0)
    with pytest.raises(ValueError, match="not an email address"):
        SMTPBackend(default_from="nobody")
    assert SMTPBackend().send_messages([]) == 0
