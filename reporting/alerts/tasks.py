"""Celery tasks of the alerts: one evaluation per chain (in its schema) and the hourly beat fan-out (in public).

The task only checks its tenant and calls the service; a redelivered or retried task is harmless
because the service skips windows already evaluated and sends only unclaimed notices.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import OperationalError
from django_tenants.utils import get_public_schema_name, schema_context

from chains.tenancy import require_chain
from cvd.celery import app
from reporting.alerts.services import alerts_evaluate


@app.task(
    name="alerts.evaluate", acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,),
    retry_backoff=30, retry_backoff_max=15 * 60, retry_jitter=True, max_retries=8,
)
def alerts_evaluate_task(at: str | None = None) -> dict[str, Any]:
    require_chain("an alert evaluation")  # TenantLost when it was sent from the public schema; never retried
    return alerts_evaluate(at=datetime.fromisoformat(at) if at else None).as_dict()


@app.task(name="alerts.evaluate_fanout")
def alerts_evaluate_fanout() -> list[str]:
    from chains.models import Chain

    sent = []
    for chain in Chain.objects.exclude(schema_name=get_public_schema_name()).order_by("schema_name"):
        with schema_context(chain.schema_name):
            alerts_evaluate_task.apply_async()
        sent.append(chain.schema_name)
    return sent
