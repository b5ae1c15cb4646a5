"""Scheduled reports: claim what is due (one query), record it in the ledger, render once, e-mail each recipient once.

The order of writes is what makes every occurrence go out at most once:

1. `schedules_run` finds the due subscriptions with ONE query (active, next_run_at <= at), locking them
   with SKIP LOCKED so a second run at the same moment passes them by; for each it inserts the ledger rows
   (unique (subscription, occurrence): ON CONFLICT DO NOTHING) and moves next_run_at past `at`, in one
   transaction. Whoever inserted a `pending` row owns it.
2. `delivery_send` takes a session advisory lock on the delivery (released if the process dies), renders
   the file once (kept on the row), sends one message per recipient through `mail_send_once` (its own
   unique key per recipient commits "sent" as it goes), then marks the delivery sent. A worker killed
   anywhere in between leaves the row `pending`; the next run or the redelivered task finishes it and the
   per-recipient keys skip whoever already has their copy.

After downtime the latest missed occurrence is sent when it is less than 24 hours late; older ones are
recorded as `missed`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from analytics.query import current_chain
from chains.models import Chain
from reporting import exports
from reporting.mail import Mail, MailNotSent, header_text, mail_send_once
from reporting.subscriptions.models import Delivery, Subscription
from reporting.subscriptions.recurrence import Recurrence, next_occurrence, occurrences, report_range

log = logging.getLogger(__name__)

CATCH_UP_WINDOW = timedelta(hours=24)
ATTACH_MAX_BYTES = 10 * 1024 * 1024
MAX_SEND_ATTEMPTS = 10
UNSUBSCRIBE_SALT = "cvd.reporting.unsubscribe"
# A test hook: a callable run after the file is rendered and before the ledger says "sent".
after_render: Callable[[Delivery], None] | None = None


class DeliveryBusy(RuntimeError):
    """Another process is sending this delivery right now."""


# --- Subscriptions -----------------------------------------------------------------------------------


def subscription_next_run(subscription: Subscription, *, after: datetime, chain: Chain | None = None) -> datetime:
    chain = chain or current_chain()
    return next_occurrence(Recurrence.from_json(subscription.recurrence), chain.tz, after=after)


def subscription_save(*, subscription: Subscription, now: datetime | None = None) -> Subscription:
    """Save a created or edited subscription; its next occurrence is computed again from the local rule.

    An edit that keeps the recurrence (and the subscription active) keeps next_run_at: an occurrence due a
    minute ago and not yet claimed by the scheduler is still sent.
    """
    now = now or timezone.now()
    subscription.updated_at = now
    stored = Subscription.objects.filter(pk=subscription.pk).values("recurrence", "active", "next_run_at").first() if subscription.pk else None
    unchanged = (
        stored is not None and stored["active"] and subscription.active and stored["next_run_at"] is not None
        and stored["recurrence"] == subscription.recurrence
    )
    if unchanged:
        assert stored is not None
        subscription.next_run_at = stored["next_run_at"]
    else:
        subscription.next_run_at = subscription_next_run(subscription, after=now) if subscription.active else None
    subscription.save()
    return subscription


def subscription_pause(*, subscription: Subscription) -> Subscription:
    subscription.active = False
    subscription.next_run_at = None
    subscription.save(update_fields=["active", "next_run_at", "updated_at"])
    return subscription


def subscription_resume(*, subscription: Subscription, now: datetime | None = None) -> Subscription:
    """Active again from now on: what fell due while paused is not sent."""
    subscription.active = True
    return subscription_save(subscription=subscription, now=now)


# --- The scheduler -----------------------------------------------------------------------------------


@dataclass
class RunReport:
    schema: str
    at: str
    due: int = 0
    claimed: list[int] = field(default_factory=list)  # delivery ids this run inserted as pending
    missed: int = 0
    sent: int = 0
    failed: int = 0
    busy: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema, "at": self.at, "due": self.due, "claimed": len(self.claimed),
            "missed": self.missed, "sent": self.sent, "failed": self.failed, "busy": self.busy,
        }


def schedules_claim(*, at: datetime) -> RunReport:
    """Record in the ledger every occurrence due at or before `at`; returns the pending deliveries this call made."""
    chain = current_chain()
    report = RunReport(schema=chain.schema_name, at=at.isoformat())
    with transaction.atomic():
        # The one due check: an index on next_run_at (active only), locked so a concurrent run skips these rows.
        due = list(
            Subscription.objects.select_for_update(skip_locked=True)
            .filter(active=True, next_run_at__lte=at).order_by("next_run_at", "id")
        )
        report.due = len(due)
        for subscription in due:
            assert subscription.next_run_at is not None
            rule = Recurrence.from_json(subscription.recurrence)
            times = [subscription.next_run_at]
            times += list(occurrences(rule, chain.tz, after=subscription.next_run_at, until=at))
            latest = times[-1]
            rows = [
                Delivery(subscription=subscription, occurrence=when, status=Delivery.Status.MISSED,
                         error=f"not sent: the scheduler did not run until {at.isoformat()}")
                for when in times[:-1]
            ]
            late = at - latest
            if late < CATCH_UP_WINDOW:
                rows.append(Delivery(subscription=subscription, occurrence=latest, status=Delivery.Status.PENDING,
                                     recipients=list(subscription.recipients)))
            else:
                rows.append(Delivery(subscription=subscription, occurrence=latest, status=Delivery.Status.MISSED,
                                     error=f"not sent: {late} late, more than 24 hours"))
            before = set(Delivery.objects.filter(subscription=subscription, occurrence__in=times).values_list("id", flat=True))
            Delivery.objects.bulk_create(rows, ignore_conflicts=True)
            made = Delivery.objects.filter(subscription=subscription, occurrence__in=times).exclude(id__in=before)
            for delivery_id, status in made.values_list("id", "status"):
                if status == Delivery.Status.PENDING:
                    report.claimed.append(delivery_id)
                else:
                    report.missed += 1
            subscription.next_run_at = next_occurrence(rule, chain.tz, after=at)
            subscription.save(update_fields=["next_run_at"])
    return report


def schedules_run(*, at: datetime | None = None, send: bool = True) -> RunReport:
    """Claim what is due and send it here (the command); also finishes deliveries an earlier run left pending."""
    at = at or timezone.now()
    report = schedules_claim(at=at)
    if not send:
        return report
    for delivery_id in deliveries_pending():
        try:
            delivery = delivery_send(delivery_id=delivery_id)
        except DeliveryBusy:
            report.busy += 1
            continue
        except MailNotSent:
            report.failed += 1
            continue
        if delivery is not None and delivery.status == Delivery.Status.SENT:
            report.sent += 1
        elif delivery is not None and delivery.status == Delivery.Status.FAILED:
            report.failed += 1
    return report


def deliveries_pending() -> list[int]:
    return list(Delivery.objects.filter(status=Delivery.Status.PENDING).order_by("occurrence", "id").values_list("id", flat=True))


# --- Sending -------------------------------------------------------------------------------------------


def _lock_key(delivery_id: int) -> str:
    return f"schedule-delivery:{connection.schema_name}:{delivery_id}"  # type: ignore[attr-defined]


def delivery_send(*, delivery_id: int, final_attempt: bool = False) -> Delivery | None:
    """Render and e-mail a pending delivery; a delivery already sent (or missed) is left alone. None: no such row."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [_lock_key(delivery_id)])
        if not cursor.fetchone()[0]:
            raise DeliveryBusy(delivery_id)
    try:
        return _send_locked(delivery_id, final_attempt=final_attempt)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [_lock_key(delivery_id)])


def _occurrence_today(delivery: Delivery, chain: Chain) -> date:
    return delivery.occurrence.astimezone(chain.tz).date()


def delivery_spec(subscription: Subscription, *, today: date) -> exports.ExportSpec:
    """The export the subscription asks for, for the range relative to local date `today`."""
    start, end = report_range(subscription.range, today)
    if subscription.report == "board-pack":
        data: dict[str, Any] = {**subscription.params, "month": end.strftime("%Y-%m")}
    else:
        data = {**subscription.params, "start": start.isoformat(), "end": end.isoformat()}
    return exports.export_validate({"report": subscription.report, "format": subscription.format, **data}, today=today)


def _render(delivery: Delivery, chain: Chain) -> None:
    spec = delivery_spec(delivery.subscription, today=_occurrence_today(delivery, chain))
    name = spec.filename(chain.schema_name)
    with tempfile.TemporaryFile() as target:
        rows = exports.export_write(spec, chain, target)
        size = target.tell()
        target.seek(0)
        stored = f"schedules/{chain.schema_name}/{delivery.subscription_id}/{delivery.pk}/{name}"
        if default_storage.exists(stored):
            default_storage.delete(stored)  # a run killed after saving: the same name, one file
        saved = default_storage.save(stored, File(target, name=name))
    Delivery.objects.filter(pk=delivery.pk).update(file=saved, size=size, rows=rows)
    delivery.file.name, delivery.size, delivery.rows = saved, size, rows


def _send_locked(delivery_id: int, *, final_attempt: bool) -> Delivery | None:
    delivery = Delivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != Delivery.Status.PENDING:
        return delivery
    chain = current_chain()
    Delivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1)
    delivery.attempts += 1
    if not delivery.file:
        try:
            _render(delivery, chain)
        except Exception as error:  # a stored parameter no longer valid, or a bug: the ledger says so
            log.exception("scheduled delivery %s failed to render", delivery.pk)
            Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000])
            delivery.refresh_from_db()
            return delivery
    if after_render is not None:
        after_render(delivery)
    # Whoever unsubscribed since the claim is not sent to.
    current = set(delivery.subscription.recipients)
    recipients = [address for address in delivery.recipients if address in current]
    errors = []
    for address in recipients:
        try:
            mail_send_once(
                key=_recipient_key(delivery, address), compose=lambda a=address: _compose(delivery, chain, a),  # type: ignore[misc]
                final_attempt=final_attempt or delivery.attempts >= MAX_SEND_ATTEMPTS,
            )
        except MailNotSent as error:
            errors.append(f"{address}: {error}")
    _hold_point()  # a test parks here: every message is out, the ledger does not say so yet
    if errors:
        failed = final_attempt or delivery.attempts >= MAX_SEND_ATTEMPTS
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED if failed else Delivery.Status.PENDING, error="; ".join(errors)[:2000]
        )
        if not failed:
            raise MailNotSent("; ".join(errors))
    else:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.SENT if recipients else Delivery.Status.SKIPPED, sent_at=timezone.now(),
            recipients=recipients, error="",
        )
    delivery.refresh_from_db()
    return delivery


def _hold_point() -> None:
    """A test hook: park while the file named by CVD_SCHEDULE_HOLD_FILE exists (after touching <file>.reached)."""
    hold = os.environ.get("CVD_SCHEDULE_HOLD_FILE")
    if not hold or not Path(hold).exists():
        return
    Path(f"{hold}.reached").touch()
    while Path(hold).exists():
        time.sleep(0.1)


def _recipient_key(delivery: Delivery, address: str) -> str:
    # The address hashed: a key stays short and holds no tenant text.
    digest = hashlib.sha256(address.lower().encode()).hexdigest()[:16]
    return f"{delivery.mail_key}:{digest}"


def delivery_send_now(*, subscription: Subscription, now: datetime | None = None) -> Delivery:
    """'Send now': a ledger row of its own (manual), sent by a worker; the schedule is not moved."""
    from reporting.subscriptions.tasks import delivery_send_task

    now = now or timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.create(
            subscription=subscription, occurrence=now, manual=True, recipients=list(subscription.recipients)
        )
        transaction.on_commit(lambda: delivery_send_task.apply_async(args=[delivery.pk]))
    return delivery


# --- The e-mail ------------------------------------------------------------------------------------------


def unsubscribe_token(*, subscription_id: int, address: str, schema: str | None = None) -> str:
    schema = schema or connection.schema_name  # type: ignore[attr-defined]
    return signing.dumps({"s": subscription_id, "a": address.lower()}, salt=f"{UNSUBSCRIBE_SALT}:{schema}", compress=True)


def unsubscribe_read(token: str) -> tuple[int, str] | None:
    """(subscription id, address) of a token made for this chain, or None when it is forged or another chain's."""
    try:
        data = signing.loads(token, salt=f"{UNSUBSCRIBE_SALT}:{connection.schema_name}")  # type: ignore[attr-defined]
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int) or not isinstance(data.get("a"), str):
        return None
    return data["s"], data["a"]


def unsubscribe(*, subscription_id: int, address: str) -> Subscription | None:
    """Take `address` off the list (a subscription left without recipients is paused)."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().filter(pk=subscription_id).first()
        if subscription is None:
            return None
        kept = [r for r in subscription.recipients if r.lower() != address.lower()]
        if kept != subscription.recipients:
            subscription.recipients = kept
            if not kept:
                subscription.active = False
                subscription.next_run_at = None
            subscription.updated_at = timezone.now()
            subscription.save()
    return subscription


def unsubscribe_url(chain: Chain, subscription_id: int, address: str) -> str:
    from reporting.services import link_base

    token = unsubscribe_token(subscription_id=subscription_id, address=address, schema=chain.schema_name)
    return f"{link_base(chain)}/unsubscribe/{token}/"


def _compose(delivery: Delivery, chain: Chain, address: str) -> Mail:
    from reporting.services import link_base

    subscription = delivery.subscription
    spec = delivery_spec(subscription, today=_occurrence_today(delivery, chain))
    title = exports.export_title(subscription.report)
    if subscription.report == "board-pack":
        period = spec.start.strftime("%Y-%m")
    else:
        period = spec.start.isoformat() if spec.start == spec.end else f"{spec.start.isoformat()} to {spec.end.isoformat()}"
    attach_max = int(getattr(settings, "CVD_SCHEDULE_ATTACH_MAX_BYTES", ATTACH_MAX_BYTES))
    attachments: list[tuple[str, bytes, str]] = []
    filename = spec.filename(chain.schema_name)
    size = delivery.size or 0
    if delivery.file and size < attach_max:
        with delivery.file.open("rb") as source:
            attachments.append((filename, source.read(), exports.CONTENT_TYPES[subscription.format].split(";")[0]))
    base = link_base(chain)
    unsubscribe_link = unsubscribe_url(chain, subscription.pk, address)
    context = {
        "chain": chain, "subscription": subscription, "title": title, "period": period, "rows": delivery.rows,
        "filename": filename, "attached": bool(attachments), "size_mb": f"{size / 1024 / 1024:.1f}",
        "limit_mb": f"{attach_max / 1024 / 1024:.0f}",
        "download_url": f"{base}/api/reporting/subscriptions/{subscription.pk}/deliveries/{delivery.pk}/download/",
        "unsubscribe_url": unsubscribe_link, "address": address,
    }
    # The chain's name is tenant text: header_text() drops control characters, formataddr quotes the display name.
    subject = f"{header_text(chain.name, 80)}: {title}, {subscription.get_range_display()} ({period})"
    return Mail(
        to=[address], subject=subject, from_name=chain.name,
        text=render_to_string("reporting/email/schedule.txt", context),
        html=render_to_string("reporting/email/schedule.html", context),
        attachments=attachments,
        headers={"List-Unsubscribe": f"<{unsubscribe_link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
