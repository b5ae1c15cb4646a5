"""Celery tasks of the ingest app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from chains.tenancy import require_chain
from cvd.celery import app


@app.task(name="ingest.import_job_run")
def import_job_run_task(job_id: int) -> str:
    from ingest.jobs import import_job_run

    require_chain("ingest.import_job_run")  # a task that lost its chain fails loudly, never imports into public
    job = import_job_run(job_id=job_id)
    return job.status if job is not None else "missing"


@app.task(name="ingest.import_job_preview")
def import_job_preview_task(job_id: int) -> str:
    from ingest.jobs import import_job_preview_run

    require_chain("ingest.import_job_preview")
    job = import_job_preview_run(job_id=job_id)
    return job.status if job is not None else "missing"
