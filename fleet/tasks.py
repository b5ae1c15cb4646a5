"""Celery tasks of the fleet app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from chains.tenancy import require_chain
from cvd.celery import app


@app.task(name="fleet.import_job_run")
def import_job_run_task(job_id: int) -> str:
    from fleet.services.jobs import import_job_run

    require_chain("fleet.import_job_run")  # a task that lost its chain fails loudly, never imports into public
    job = import_job_run(job_id=job_id)
    return job.status if job is not None else "missing"


@app.task(name="fleet.import_job_preview")
def import_job_preview_task(job_id: int) -> str:
    from fleet.services.jobs import import_job_preview_run

    require_chain("fleet.import_job_preview")
    job = import_job_preview_run(job_id=job_id)
    return job.status if job is not None else "missing"


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
