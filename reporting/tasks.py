"""Celery tasks of reporting: run an export job, e-mail its requester once, expire old files.

Thin, per house style: each takes an id, checks it runs in a chain's schema, calls a service. The
job tasks acknowledge late and are redelivered when the worker dies; the service checks the row's
status first (and the mail service its delivery row), so a redelivery repeats no finished work and
sends no second e-mail.
"""

from __future__ import annotations

import os

from celery import Task
from django.db import OperationalError
from django_tenants.utils import get_public_schema_name, schema_context

from chains.tenancy import current_schema
from cvd.celery import app
from reporting import services
from reporting.mail import MailNotSent
from reporting.models import ExportJob

MAIL_RETRY_BACKOFF = int(os.environ.get("CVD_MAIL_RETRY_BACKOFF", "30"))  # seconds, doubled per retry
MAIL_MAX_RETRIES = int(os.environ.get("CVD_MAIL_MAX_RETRIES", "10"))  # 30 s doubling, capped at 30 min: ~4 h


class TenantLost(RuntimeError):
    """A chain task ran in the public schema: it was sent without its chain. Never retried."""


def _in_chain() -> None:
    schema = current_schema()
    if not schema or schema == get_public_schema_name():
        raise TenantLost("a reporting task must run in a chain's schema; it was sent from the public schema")


@app.task(
    name="reporting.export_job_run", acks_late=True, reject_on_worker_lost=True,
    autoretry_for=(services.ExportBusy, OperationalError), retry_backoff=10, retry_backoff_max=600, max_retries=20,
)
def export_job_run_task(job_id: int) -> str | None:
    _in_chain()
    job = services.export_job_run(job_id=job_id)
    if job is None:
        return None
    if job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED):
        # Also when a redelivery finds the job done: the e-mail task is idempotent (its delivery row decides).
        export_job_notify_task.apply_async(args=[job_id])
    return str(job.status)


@app.task(
    bind=True, name="reporting.export_job_notify", acks_late=True, reject_on_worker_lost=True,
    max_retries=MAIL_MAX_RETRIES,
)
def export_job_notify_task(self: Task, job_id: int) -> str | None:
    _in_chain()
    final = self.request.retries >= MAIL_MAX_RETRIES
    try:
        delivery = services.export_job_notify(job_id=job_id, final_attempt=final)
    except MailNotSent as error:
        if final:
            raise
        countdown = min(MAIL_RETRY_BACKOFF * 2 ** self.request.retries, 30 * 60)
        raise self.retry(exc=error, countdown=countdown) from error
    return None if delivery is None else str(delivery.status)


@app.task(name="reporting.exports_expire", acks_late=True)
def exports_expire_task() -> int:
    _in_chain()
    return services.exports_expire()


@app.task(name="reporting.exports_expire_fanout")
def exports_expire_fanout() -> list[str]:
    """Daily: every chain deletes its export files older than 7 days."""
    from chains.models import Chain

    sent = []
    for chain in Chain.objects.exclude(schema_name=get_public_schema_name()).order_by("schema_name"):
        with schema_context(chain.schema_name):
            exports_expire_task.apply_async()
        sent.append(chain.schema_name)
    return sent


from reporting.subscriptions import tasks as _subscription_tasks  # noqa: E402,F401 - registers the schedule tasks
