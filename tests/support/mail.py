"""A real SMTP server (aiosmtpd) on 127.0.0.1 that checks the login and keeps the mail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    def url(self, to: str = "desk@example.org") -> str:
        return (
            f"mailto://alerts:s3cretpass@{self.host}:{self.port}"
            f"?from=straitwatch@example.org&to={to}"
        )


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.sink.messages.append(message_from_bytes(envelope.original_content))
        self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def _authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"alerts",
        b"s3cretpass",
    )
    return AuthResult(success=ok)


@contextmanager
def smtp_at(port: int) -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1:port that checks the login and keeps mail.

    The port may be chosen beforehand, so a test can bring the server up late.
    """
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", port)
    controller = Controller(
        _Handler(sink),
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
        auth_required=False,
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def decoded_subject(message: Message) -> str:
    """Return an email's Subject with RFC 2047 encoded words decoded."""
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"])))
