"""Celery tasks of scheduled reports: a beat fan-out (one task per chain), the chain's run, one task per delivery.

A delivery task acknowledges late and is redelivered when its worker dies; `delivery_send` checks the
ledger row first and the mail service its per-recipient keys, so a redelivery sends no second copy.
"""

from __future__ import annotations

import os
from datetime import datetime

from celery import Task
from django.db import OperationalError
from django_tenants.utils import get_public_schema_name, schema_context

from cvd.celery import app
from reporting.mail import MailNotSent
from reporting.subscriptions import services
from reporting.tasks import _in_chain

RETRY_BACKOFF = int(os.environ.get("CVD_MAIL_RETRY_BACKOFF", "30"))
MAX_RETRIES = int(os.environ.get("CVD_MAIL_MAX_RETRIES", "10"))


@app.task(name="reporting.schedules_fanout")
def schedules_fanout() -> list[str]:
    """Every few minutes: one `schedules_run` task per chain, sent from inside that chain's schema."""
    from chains.models import Chain

    only = {s for s in os.environ.get("CVD_ROLLUP_ONLY_SCHEMAS", "").split(",") if s}
    sent = []
    for chain in Chain.objects.exclude(schema_name=get_public_schema_name()).order_by("schema_name"):
        if only and chain.schema_name not in only:
            continue
        with schema_context(chain.schema_name):
            schedules_run_task.apply_async()
        sent.append(chain.schema_name)
    return sent


@app.task(name="reporting.schedules_run", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=10, max_retries=5)
def schedules_run_task(at: str | None = None) -> dict[str, object]:
    """Claim the chain's due occurrences and queue one send task for each pending delivery."""
    _in_chain()
    report = services.schedules_claim(at=datetime.fromisoformat(at) if at else _now())
    for delivery_id in services.deliveries_pending():  # also those a dead worker left pending
        delivery_send_task.apply_async(args=[delivery_id])
    return report.as_dict()


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


@app.task(
    bind=True, name="reporting.schedule_delivery_send", acks_late=True, reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def delivery_send_task(self: Task, delivery_id: int) -> str | None:
    _in_chain()
    final = self.request.retries >= MAX_RETRIES
    try:
        delivery = services.delivery_send(delivery_id=delivery_id, final_attempt=final)
    except services.DeliveryBusy:
        return "busy"  # another worker holds it; if it dies, the next beat run queues it again
    except MailNotSent as error:
        if final:
            raise
        raise self.retry(exc=error, countdown=min(RETRY_BACKOFF * 2 ** self.request.retries, 30 * 60)) from error
    return None if delivery is None else str(delivery.status)
