"""Celery tasks of the fleet app: thin wrappers that take ids and call a service (import jobs: ingest.tasks)."""

from __future__ import annotations

from chains.tenancy import require_chain
from cvd.celery import app


@app.task(name="fleet.dex_rejected_purge")
def dex_rejected_purge_task() -> int:
    from fleet.services.retention import dex_rejected_purge

    require_chain("fleet.dex_rejected_purge")
    return dex_rejected_purge()


@app.task(name="fleet.dex_rejected_purge_fanout")
def dex_rejected_purge_fanout() -> list[str]:
    """Daily (beat): one purge task per chain, sent into the chain's schema."""
    from django_tenants.utils import get_public_schema_name, schema_context

    from chains.models import Chain

    sent = []
    for schema in Chain.objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True):
        with schema_context(schema):
            dex_rejected_purge_task.apply_async()
        sent.append(schema)
    return sent
