"""Celery tasks of the fleet app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from django.db import connection

from cvd.celery import app


@app.task(name="fleet.import_job_run")
def import_job_run_task(job_id: int) -> str:
    from fleet.services.jobs import import_job_run

    # A task that lost its chain must fail loudly, never import into the public schema.
    if getattr(connection, "schema_name", "public") == "public":
        raise RuntimeError("fleet.import_job_run must run inside a chain schema")
    job = import_job_run(job_id=job_id)
    return job.status if job is not None else "missing"


@app.task(name="fleet.import_job_preview")
def import_job_preview_task(job_id: int) -> str:
    from fleet.services.jobs import import_job_preview_run

    if getattr(connection, "schema_name", "public") == "public":
        raise RuntimeError("fleet.import_job_preview must run inside a chain schema")
    job = import_job_preview_run(job_id=job_id)
    return job.status if job is not None else "missing"
