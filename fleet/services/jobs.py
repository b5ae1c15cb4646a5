"""Background file imports: an ImportJob row, a Celery task that runs the import, progress in the cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from fleet.models import ImportJob
from fleet.services.reports import ImportReport

Importer = Callable[..., ImportReport]
# The import runs in one transaction, so its progress cannot be read from the job row meanwhile.
_PROGRESS_TTL = 24 * 3600


# Apps that build on fleet (bookings) register their importers in AppConfig.ready(): fleet imports none of them.
_IMPORTERS: dict[str, Importer] = {}


def importer_register(kind: str, importer: Importer) -> None:
    _IMPORTERS[kind] = importer


def importer_for(kind: str) -> Importer:
    if kind == ImportJob.Kind.SALES:
        from fleet.services.sales import sales_import

        return sales_import
    if kind not in _IMPORTERS:
        raise ValueError(f"no importer is registered for the import kind {kind!r}")
    return _IMPORTERS[kind]


def progress_key(job_id: int) -> str:
    return f"import-job-progress:{job_id}"


def import_job_progress(*, job: ImportJob) -> dict[str, Any]:
    """Phase and fraction done: live from the cache while running, else from the row."""
    live = cache.get(progress_key(job.pk)) if job.status == ImportJob.Status.RUNNING else None
    if live:
        return dict(live)
    return {"phase": job.phase, "progress": job.progress}


@transaction.atomic
def import_job_create(*, kind: str, upload: UploadedFile, requested_by: str = "") -> ImportJob:
    """Store the file and queue its import once this transaction commits."""
    from fleet.tasks import import_job_run_task

    job = ImportJob(kind=kind, file_name=(upload.name or "upload")[:255], requested_by=requested_by[:150])
    job.upload.save(job.file_name, upload, save=False)
    job.save()
    transaction.on_commit(lambda: import_job_run_task.delay(job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job; a missing job is nothing to do. The report lands on the job row."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        return job
    job.status, job.phase, job.started_at = ImportJob.Status.RUNNING, "reading", timezone.now()
    job.save(update_fields=["status", "phase", "started_at"])

    def progress(phase: str, fraction: float) -> None:
        cache.set(progress_key(job.pk), {"phase": phase, "progress": fraction}, _PROGRESS_TTL)

    try:
        with job.upload.open("rb") as handle:
            data = handle.read()
        report = importer_for(job.kind)(data=data, file_name=job.file_name, progress=progress)
    except Exception as exc:
        job.status, job.phase = ImportJob.Status.FAILED, "failed"
        job.report = {"file": job.file_name, "errors": [{"row": 0, "column": "", "message": f"import failed: {exc}"}]}
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "phase", "report", "finished_at"])
        raise
    job.report = report.as_dict()
    job.status = ImportJob.Status.REJECTED if report.rejected else ImportJob.Status.IMPORTED
    job.phase, job.progress, job.finished_at = "done", 1.0, timezone.now()
    job.save(update_fields=["status", "phase", "progress", "report", "finished_at"])
    cache.delete(progress_key(job.pk))
    # The report is what matters now; the uploaded copy only took disk space.
    job.upload.delete(save=True)
    return job


