"""Send email through a replaceable backend: console, file, SMTP or memory.

::

    backend = backend_from_settings(app.settings)
    await asend_mail("Reset your password", body, ["ann@example.com"], backend=backend)

Every backend has ``send_messages(messages) -> int`` (blocking) and
``await asend_messages(messages)``. A delivery failure raises ``MailError``, which a
caller can catch without catching programming errors. Subjects, addresses and headers
containing CR, LF or NUL are refused with ``ValueError`` when the message is made, so
user input can never add a header (``Bcc:``) to a message.

The SMTP backend uses the standard library's ``smtplib`` in a thread; no extra
dependency. ``use_tls`` is implicit TLS (port 465), ``use_starttls`` upgrades a plain
connection (port 587); both verify the server certificate.
"""

from __future__ import annotations

import asyncio
import email.message
import email.policy
import email.utils
import os
import re
import secrets
import smtplib
import ssl
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

RunSync = Callable[..., Awaitable[Any]]

DEFAULT_FROM_EMAIL = "webmaster@localhost"
_UNSAFE = re.compile(r"[\r\n\0]")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except ':' (RFC 5322 ftext)
#: Set through their own arguments, so ``headers`` may not replace them.
_RESERVED = frozenset(
    {"from", "to", "cc", "bcc", "subject", "content-type", "content-transfer-encoding",
     "mime-version"}
)  # fmt: skip


class MailError(Exception):
    """A message could not be delivered (server down, refused, timed out ...)."""


def _refuse_unsafe(what: str, value: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, not {type(value).__name__}")
    if _UNSAFE.search(value):
        raise ValueError(f"{what} contains a line break or NUL, refused: {value[:80]!r}")


def _check_address(what: str, value: str) -> None:
    _refuse_unsafe(what, value)
    _, address = email.utils.parseaddr(value)
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise ValueError(f"{what} is not an email address: {value[:80]!r}")


@dataclass
class EmailMessage:
    """One email: plain-text ``body``, optional ``html_body`` as an alternative."""

    subject: str
    body: str
    to: Sequence[str]
    from_email: str | None = None
    html_body: str | None = None
    headers: Mapping[str, str] | None = field(default=None)

    def __post_init__(self) -> None:
        if isinstance(self.to, str):
            self.to = [self.to]
        self.to = list(self.to)
        if not self.to:
            raise ValueError("an email needs at least one recipient")
        _refuse_unsafe("subject", self.subject)
        for address in self.to:
            _check_address("recipient", address)
        if self.from_email is not None:
            _check_address("from_email", self.from_email)
        for name, value in (self.headers or {}).items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"invalid header name: {name[:80]!r}")
            if name.lower() in _RESERVED:
                raise ValueError(f"set {name!r} through its own argument, not headers")
            _refuse_unsafe(f"header {name}", value)

    def recipients(self) -> list[str]:
        """Return the bare addresses to deliver to."""
        return [email.utils.parseaddr(address)[1] for address in self.to]

    def to_mime(self, default_from: str = DEFAULT_FROM_EMAIL) -> email.message.EmailMessage:
        """Return the message as a standard-library MIME message, ready to send."""
        sender = self.from_email or default_from
        mime = email.message.EmailMessage(policy=email.policy.SMTP)
        mime["Subject"] = self.subject
        mime["From"] = sender
        mime["To"] = ", ".join(self.to)
        mime["Date"] = email.utils.formatdate(usegmt=True)
        # A domain here avoids make_msgid's own lookup of the host name (can be slow).
        domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"
        mime["Message-ID"] = email.utils.make_msgid(domain=domain)
        for name, value in (self.headers or {}).items():
            mime[name] = value
        mime.set_content(self.body, cte=_readable_cte(self.body))
        if self.html_body is not None:
            mime.add_alternative(self.html_body, subtype="html", cte=_readable_cte(self.html_body))
        return mime


def _readable_cte(text: str) -> str | None:
    # Keep ASCII text (reset links!) readable in .eml files and logs: 7bit is valid up
    # to 998 characters a line. Otherwise let the library pick a safe encoding.
    if text.isascii() and all(len(line) <= 998 for line in text.splitlines()):
        return "7bit"
    return None


class EmailBackend:
    """Base class: deliver messages. Subclasses implement ``send_messages``."""

    def __init__(self, *, default_from: str = DEFAULT_FROM_EMAIL) -> None:
        _check_address("default_from", default_from)
        self.default_from = default_from

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        """Deliver ``messages`` (blocking) and return how many were sent."""
        raise NotImplementedError

    async def asend_messages(
        self, messages: Sequence[EmailMessage], *, run_sync: RunSync | None = None
    ) -> int:
        """Deliver ``messages`` without blocking the event loop (in a thread)."""
        if run_sync is not None:
            return int(await run_sync(self.send_messages, messages))
        return await asyncio.to_thread(self.send_messages, messages)


class MemoryBackend(EmailBackend):
    """Keep messages in ``outbox`` (for tests)."""

    def __init__(self, *, default_from: str = DEFAULT_FROM_EMAIL) -> None:
        super().__init__(default_from=default_from)
        self.outbox: list[EmailMessage] = []

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        """Append the messages to ``outbox`` (checking each renders)."""
        for message in messages:
            message.to_mime(self.default_from)
            self.outbox.append(message)
        return len(messages)

    async def asend_messages(
        self, messages: Sequence[EmailMessage], *, run_sync: RunSync | None = None
    ) -> int:
        """Append the messages to ``outbox``; no thread needed."""
        return self.send_messages(messages)


class ConsoleBackend(EmailBackend):
    """Write each message to a stream (stdout by default), for development."""

    def __init__(
        self, stream: TextIO | None = None, *, default_from: str = DEFAULT_FROM_EMAIL
    ) -> None:
        super().__init__(default_from=default_from)
        self.stream = stream
        self._lock = threading.Lock()  # whole messages, not interleaved lines

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        """Print the messages, each followed by a separator line."""
        stream = self.stream or sys.stdout
        with self._lock:
            for message in messages:
                text = message.to_mime(self.default_from).as_string()
                stream.write(f"{text}\n{'-' * 79}\n")
            stream.flush()
        return len(messages)


class FileBackend(EmailBackend):
    """Write each message to ``directory`` as its own ``.eml`` file (development, tests)."""

    def __init__(
        self, directory: str | os.PathLike[str], *, default_from: str = DEFAULT_FROM_EMAIL
    ) -> None:
        super().__init__(default_from=default_from)
        self.directory = Path(directory)

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        """Write the messages; a reader never sees a half-written file."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for message in messages:
                data = message.to_mime(self.default_from).as_bytes()
                name = f"{time.time_ns()}-{secrets.token_hex(4)}"
                partial = self.directory / f".{name}.tmp"
                partial.write_bytes(data)
                os.replace(partial, self.directory / f"{name}.eml")
        except OSError as exc:
            raise MailError(f"could not write mail to {self.directory}: {exc}") from exc
        return len(messages)


class SMTPBackend(EmailBackend):
    """Deliver through an SMTP server, one connection per batch."""

    def __init__(
        self,
        host: str = "localhost",
        port: int = 25,
        *,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        starttls: bool = False,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
        default_from: str = DEFAULT_FROM_EMAIL,
    ) -> None:
        super().__init__(default_from=default_from)
        if use_tls and starttls:
            raise ValueError(
                "choose one: use_tls (implicit TLS, usually port 465) or starttls "
                "(upgrade a plain connection, usually port 587)"
            )
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.use_tls, self.starttls, self.timeout = use_tls, starttls, timeout
        self.ssl_context = ssl_context

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        """Connect, optionally secure and log in, send every message, quit."""
        if not messages:
            return 0
        mimes = [(m.to_mime(self.default_from), m.recipients()) for m in messages]
        try:
            with self._connect() as smtp:
                for mime, recipients in mimes:
                    sender = email.utils.parseaddr(str(mime["From"]))[1]
                    smtp.send_message(mime, from_addr=sender, to_addrs=recipients)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(
                f"sending mail through SMTP server {self.host}:{self.port} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return len(mimes)

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.use_tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def backend_from_settings(settings: Any) -> EmailBackend:
    """Build the backend the ``email_*`` settings describe.

    ``email_backend`` unset means "console" with ``debug`` on and "smtp" with it off,
    so a production app never prints reset links to its log by accident.
    """
    kind = settings.email_backend or ("console" if settings.debug else "smtp")
    sender = settings.default_from_email
    if kind == "console":
        return ConsoleBackend(default_from=sender)
    if kind == "memory":
        return MemoryBackend(default_from=sender)
    if kind == "file":
        return FileBackend(settings.email_file_path, default_from=sender)
    if kind == "smtp":
        return SMTPBackend(
            settings.email_host,
            settings.email_port,
            username=settings.email_host_user or None,
            password=settings.email_host_password.get_secret_value() or None,
            use_tls=settings.email_use_tls,
            starttls=settings.email_use_starttls,
            timeout=settings.email_timeout,
            default_from=sender,
        )
    raise ValueError(f"unknown email_backend {kind!r}: use console, file, smtp or memory")


def send_mail(
    subject: str,
    body: str,
    to: Sequence[str] | str,
    *,
    backend: EmailBackend,
    from_email: str | None = None,
    html_body: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> int:
    """Build one message and deliver it (blocking); return 1, or raise ``MailError``."""
    message = EmailMessage(subject, body, to, from_email, html_body, headers)
    return backend.send_messages([message])


async def asend_mail(
    subject: str,
    body: str,
    to: Sequence[str] | str,
    *,
    backend: EmailBackend,
    from_email: str | None = None,
    html_body: str | None = None,
    headers: Mapping[str, str] | None = None,
    run_sync: RunSync | None = None,
) -> int:
    """Build one message and deliver it without blocking the event loop."""
    message = EmailMessage(subject, body, to, from_email, html_body, headers)
    return await backend.asend_messages([message], run_sync=run_sync)


__all__ = [
    "DEFAULT_FROM_EMAIL",
    "ConsoleBackend",
    "EmailBackend",
    "EmailMessage",
    "FileBackend",
    "MailError",
    "MemoryBackend",
    "SMTPBackend",
    "asend_mail",
    "backend_from_settings",
    "send_mail",
]
