"""A real SMTP server on loopback (aiosmtpd) for the e-mail tests: it keeps every message it accepts,
and can refuse the first N attempts (a mail server that is down for a while)."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class SmtpSink:
    refuse_first: int = 0
    attempts: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.attempts += 1
            if self.attempts <= self.refuse_first:
                return "421 4.3.2 service not available, try again later"
            message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
        return "250 OK"


@contextmanager
def smtp_server(refuse_first: int = 0) -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink(refuse_first=refuse_first)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def use_smtp(settings: Any, port: int) -> None:
    """Point Django's mail at the loopback server (the test settings default to locmem)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
