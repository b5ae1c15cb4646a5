"""File imports kept on an ImportJob row: a dry-run preview, the confirmed import (at once or as a Celery task), progress.

The engine knows no kind of file: each importing app registers its kinds (importer, file spec, and what
the admin says about them) in its AppConfig.ready(), so ingest imports none of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from ingest.import_report import ImportReport
from ingest.models import ImportJob
from ingest.staging import ImportSpec

Importer = Callable[..., ImportReport]
# The import runs in one transaction, so its progress cannot be read from the job row meanwhile.
_PROGRESS_TTL = 24 * 3600


@dataclass(frozen=True)
class ImportKind:
    """A registered kind of file: how to import it, and what the admin's upload page says about it."""

    kind: str  # the ImportJob.kind value, e.g. "sales"
    importer: Importer  # importer(data=, file_name=, progress=, dry_run=) -> ImportReport
    spec: Callable[[], ImportSpec]  # the columns (and required ones) a file of this kind takes
    label: str = ""  # "Sales", "Funnel events"
    # The chain admin section whose chains import it ("vending", "venue"; chains.admin_site.ChainSections), "" for all.
    section: str = ""
    meanings: Mapping[str, str] = field(default_factory=dict)  # column -> what it holds
    example: str = ""  # one data row of a valid file


_KINDS: dict[str, ImportKind] = {}


def importer_register(
    kind: str,
    importer: Importer,
    spec: Callable[[], ImportSpec],
    *,
    label: str = "",
    section: str = "",
    meanings: Mapping[str, str] | None = None,
    example: str = "",
) -> None:
    """Register (or replace) the importer of one kind of file; called from an AppConfig.ready()."""
    if len(kind) > (ImportJob._meta.get_field("kind").max_length or 0):
        raise ValueError(f"the import kind {kind!r} is longer than ImportJob.kind allows")
    _KINDS[kind] = ImportKind(
        kind=kind, importer=importer, spec=spec, label=label or kind.capitalize(), section=section,
        meanings=dict(meanings or {}), example=example,
    )


def import_kinds() -> list[ImportKind]:
    """Every registered kind, in the order of registration (INSTALLED_APPS order)."""
    return list(_KINDS.values())


def import_kind(kind: str) -> ImportKind:
    if kind not in _KINDS:
        raise ValueError(f"no importer is registered for the import kind {kind!r}")
    return _KINDS[kind]


def import_spec_for(kind: str) -> ImportSpec:
    """The columns (and required ones) a file of this import kind takes."""
    return import_kind(kind).spec()


def importer_for(kind: str) -> Importer:
    return import_kind(kind).importer


def progress_key(job_id: int) -> str:
    return f"import-job-progress:{job_id}"


def import_job_progress(*, job: ImportJob) -> dict[str, Any]:
    """Phase and fraction done: live from the cache while running, else from the row."""
    running = job.status in (ImportJob.Status.RUNNING, ImportJob.Status.PREVIEWING)
    live = cache.get(progress_key(job.pk)) if running else None
    if live:
        return dict(live)
    return {"phase": job.phase, "progress": job.progress}


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@transaction.atomic
def import_job_preview_create(*, kind: str, upload: UploadedFile, requested_by: str) -> ImportJob:
    """Keep the uploaded file on a new job, waiting for its dry run (import_job_preview_run)."""
    job = ImportJob(
        kind=kind, file_name=(upload.name or "upload")[:255], requested_by=requested_by[:150],
        status=ImportJob.Status.PREVIEWING, phase="queued", preview={"sha256": _sha256(upload)},
    )
    job.upload.save(job.file_name, upload, save=False)
    job.save()
    return job


def import_job_preview_queue(*, job: ImportJob) -> None:
    from ingest.tasks import import_job_preview_task

    transaction.on_commit(lambda: import_job_preview_task.delay(job.pk))


def _stored_file(job: ImportJob) -> bytes:
    with job.upload.open("rb") as handle:
        data = handle.read()
    expected = (job.preview or {}).get("sha256")
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise RuntimeError("the stored file is not the one that was uploaded")
    return data


def import_job_preview_run(*, job_id: int) -> ImportJob | None:
    """Dry-run a stored file; a clean preview waits for confirmation, a rejected one ends the job (file deleted)."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status != ImportJob.Status.PREVIEWING:
        return job
    sha256 = (job.preview or {}).get("sha256", "")

    def progress(phase: str, fraction: float) -> None:
        cache.set(progress_key(job.pk), {"phase": f"preview: {phase}", "progress": fraction}, _PROGRESS_TTL)

    try:
        report = importer_for(job.kind)(data=_stored_file(job), file_name=job.file_name, progress=progress, dry_run=True)
    except Exception as exc:
        job.status, job.phase, job.previewed_at = ImportJob.Status.FAILED, "failed", timezone.now()
        job.preview = {"sha256": sha256, "errors": [{"row": 0, "column": "", "message": f"preview failed: {exc}"}]}
        job.report = job.preview
        job.save(update_fields=["status", "phase", "preview", "report", "previewed_at"])
        job.upload.delete(save=True)
        raise
    finally:
        cache.delete(progress_key(job.pk))
    job.preview = {**report.as_dict(), "sha256": sha256}
    job.previewed_at = timezone.now()
    if report.rejected:
        # Nothing of a rejected file can be imported: the report is kept, the file is not.
        job.status, job.phase, job.progress, job.report = ImportJob.Status.REJECTED, "preview", 1.0, job.preview
        job.save(update_fields=["status", "phase", "progress", "preview", "report", "previewed_at"])
        job.upload.delete(save=True)
    else:
        job.status, job.phase = ImportJob.Status.PREVIEWED, "preview"
        job.save(update_fields=["status", "phase", "preview", "previewed_at"])
    return job


def import_job_confirm(*, job_id: int, username: str, run_now: bool) -> bool:
    """Import a previewed file for the user who uploaded it; True only for the call that confirmed it.

    The status moves from "previewed" to "queued" in one UPDATE, so a second click, a resent form or a
    concurrent request confirms nothing and imports nothing. `run_now` imports in this request (small
    files); otherwise a Celery task does once this transaction commits.
    """
    claimed = ImportJob.objects.filter(
        pk=job_id, status=ImportJob.Status.PREVIEWED, requested_by=username[:150]
    ).update(status=ImportJob.Status.QUEUED, phase="")
    if claimed != 1:
        return False
    if run_now:
        import_job_run(job_id=job_id)
    else:
        from ingest.tasks import import_job_run_task

        transaction.on_commit(lambda: import_job_run_task.delay(job_id))
    return True


@transaction.atomic
def import_job_create(*, kind: str, upload: UploadedFile, requested_by: str = "") -> ImportJob:
    """Store the file and queue its import once this transaction commits."""
    from ingest.tasks import import_job_run_task

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
        report = importer_for(job.kind)(data=_stored_file(job), file_name=job.file_name, progress=progress)
    except Exception as exc:
        job.status, job.phase = ImportJob.Status.FAILED, "failed"
        job.report = {"file": job.file_name, "errors": [{"row": 0, "column": "", "message": f"import failed: {exc}"}]}
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "phase", "report", "finished_at"])
        cache.delete(progress_key(job.pk))
        raise
    job.report = report.as_dict()
    job.status = ImportJob.Status.REJECTED if report.rejected else ImportJob.Status.IMPORTED
    job.phase, job.progress, job.finished_at = "done", 1.0, timezone.now()
    job.save(update_fields=["status", "phase", "progress", "report", "finished_at"])
    cache.delete(progress_key(job.pk))
    # The report is what matters now; the uploaded copy only took disk space.
    job.upload.delete(save=True)
    return job


