"""Sending e-mail exactly once: a reusable service for exports, scheduled reports and alerts.

A message is identified by a key (`export-job:17`, `schedule:4:2026-11-01T08:00`). The first call
creates its `MailDelivery` row; every call locks the row (SELECT … FOR UPDATE) and checks its status
first, so a redelivered task, a retry or two workers at once send nothing a second time. A failed SMTP
attempt is recorded on the row (`retrying`, the error) and raises `MailNotSent` for the caller's task
to retry with backoff. The lock is held while the server takes the message: the only window left is
a worker dying between the server's "250 OK" and the commit of `sent`, and the message carries a
Message-ID derived from its key so a receiving system can drop such a copy.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.utils import timezone

from reporting.models import MailDelivery

log = logging.getLogger(__name__)


class MailNotSent(Exception):
    """The SMTP server did not take the message this time; the delivery row says so and the caller retries."""


@dataclass
class Mail:
    to: Sequence[str]
    subject: str
    text: str
    html: str | None = None
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)  # (file name, content, MIME type)
    from_name: str | None = None  # a display name before DEFAULT_FROM_EMAIL's address (control characters removed)
    headers: dict[str, str] = field(default_factory=dict)  # extra headers (e.g. List-Unsubscribe), values of our own


def header_text(value: str, limit: int = 120) -> str:
    """Tenant text made safe for a header: no CR, LF or other control characters, shortened."""
    cleaned = "".join(" " if unicodedata.category(char).startswith("C") else char for char in value)
    return " ".join(cleaned.split())[:limit]


def from_address(display_name: str | None) -> str:
    """DEFAULT_FROM_EMAIL's address under `display_name`, quoted (and encoded) by email.utils.formataddr."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if display_name:
        name = header_text(display_name, 78)
    return formataddr((name, address)) if name else address


def _message_id(key: str) -> str:
    digest = hashlib.sha256(f"{connection.schema_name}:{key}".encode()).hexdigest()[:24]  # type: ignore[attr-defined]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "cvd.localhost"
    return f"<{digest}@{domain}>"


def _send(mail: Mail, key: str) -> None:
    message = EmailMultiAlternatives(
        subject=header_text(mail.subject, 300), body=mail.text,
        from_email=from_address(mail.from_name) if mail.from_name else settings.DEFAULT_FROM_EMAIL, to=list(mail.to),
        headers={**{name: header_text(value, 900) for name, value in mail.headers.items()}, "Message-ID": _message_id(key)},
        connection=get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 30),
    )
    if mail.html:
        message.attach_alternative(mail.html, "text/html")
    for name, content, mime in mail.attachments:
        message.attach(name, content, mime)
    message.send(fail_silently=False)


def mail_send_once(*, key: str, compose: Callable[[], Mail], final_attempt: bool = False) -> MailDelivery:
    """Send the message `compose()` builds unless the delivery `key` was sent already; returns the delivery row.

    Raises MailNotSent when the SMTP server refused or was away (the row is `retrying`, or `failed` on
    the final attempt).
    """
    MailDelivery.objects.get_or_create(key=key)
    failure: str | None = None
    with transaction.atomic():
        delivery = MailDelivery.objects.select_for_update().get(key=key)
        if delivery.status == MailDelivery.Status.SENT:
            return delivery
        mail = compose()
        delivery.recipients = list(mail.to)
        delivery.subject = mail.subject[:300]
        delivery.attempts += 1
        try:
            _send(mail, key)
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            failure = f"{type(error).__name__}: {error}"[:1000]
            delivery.status = MailDelivery.Status.FAILED if final_attempt else MailDelivery.Status.RETRYING
            delivery.last_error = failure
            log.warning("mail %s not sent (attempt %s): %s", key, delivery.attempts, failure)
        else:
            delivery.status = MailDelivery.Status.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
        delivery.save()
    if failure is not None:
        raise MailNotSent(failure)
    return delivery
