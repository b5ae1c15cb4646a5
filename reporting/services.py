"""Export jobs: create, run (in a worker, in the chain's schema), notify the requester once, expire after 7 days."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import OperationalError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from analytics.query import current_chain
from chains.models import Chain
from reporting import exports
from reporting.exports import ExportSpec
from reporting.mail import Mail, mail_send_once
from reporting.models import ExportJob, MailDelivery

log = logging.getLogger(__name__)

EXPIRE_AFTER = timedelta(days=7)
ATTACH_MAX_BYTES = 10 * 1024 * 1024
PROGRESS_EVERY_SECONDS = 0.5


class ExportBusy(RuntimeError):
    """Another run of the same job holds its lock (a redelivery while the first run is alive): retry later."""


def export_job_create(*, requester: Any, spec: ExportSpec) -> ExportJob:
    """Queue an export job; the worker task is sent once the row is committed."""
    from reporting.tasks import export_job_run_task

    with transaction.atomic():
        job = ExportJob.objects.create(requester=requester, report=spec.report, format=spec.format, params=spec.params)
        transaction.on_commit(lambda: export_job_run_task.apply_async(args=[job.pk]))
    return job


def _lock_key(job_id: int) -> str:
    return f"export-job:{connection.schema_name}:{job_id}"  # type: ignore[attr-defined]


def _part_path(job: ExportJob) -> Path:
    """One partial file per job: a redelivered run overwrites what a killed run left."""
    folder = Path(settings.BASE_DIR) / "var" / "tmp" / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{connection.schema_name}-{job.pk}.part"  # type: ignore[attr-defined]


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Run a queued (or interrupted) job to the end; a job already finished is left as it is.

    Returns the job, or None when it does not exist (deleted: nothing to do).
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [_lock_key(job_id)])
        if not cursor.fetchone()[0]:
            raise ExportBusy(job_id)
    try:
        return _run_locked(job_id)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [_lock_key(job_id)])


def _run_locked(job_id: int) -> ExportJob | None:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED, ExportJob.Status.EXPIRED):
            return job
        job.status = ExportJob.Status.RUNNING
        job.attempts += 1
        job.started_at = timezone.now()
        job.progress = 0
        job.error = ""
        job.save(update_fields=["status", "attempts", "started_at", "progress", "error"])
    chain = current_chain()
    try:
        spec = exports.export_spec_load(report=job.report, format=job.format, params=job.params)
        part = _part_path(job)
        last = 0.0

        def progress(fraction: float, rows: int) -> None:
            nonlocal last
            if fraction >= 1 or time.monotonic() - last >= PROGRESS_EVERY_SECONDS or (rows and exports.hold_pending()):
                last = time.monotonic()
                ExportJob.objects.filter(pk=job.pk).update(progress=round(min(max(fraction, 0.0), 1.0), 4), rows=rows)
            if rows and fraction < 1:
                exports.hold_point()

        with open(part, "wb") as target:
            rows = exports.export_write(spec, chain, target, progress=progress)
        name = spec.filename(chain.schema_name)
        stored = f"exports/{chain.schema_name}/{job.pk}/{name}"
        if default_storage.exists(stored):
            default_storage.delete(stored)  # a run killed after saving: the same name, one file
        with open(part, "rb") as source:
            saved = default_storage.save(stored, File(source, name=name))
        size = part.stat().st_size
        part.unlink(missing_ok=True)
    except OperationalError:
        raise  # the database went away: the task retries, the job stays running
    except Exception as error:  # a bad stored parameter or a bug: the job says so, the requester is told
        log.exception("export job %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000], finished_at=timezone.now()
        )
        return ExportJob.objects.get(pk=job.pk)
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE, progress=1, rows=rows, file=saved, size=size, finished_at=now,
        expires_at=now + EXPIRE_AFTER,
    )
    return ExportJob.objects.get(pk=job.pk)


def link_base(chain: Chain) -> str:
    """https://<the chain's primary domain>[:port] — absolute links in e-mails."""
    domain = chain.get_primary_domain()
    host = domain.domain if domain is not None else f"{chain.schema_name}.localhost"
    port = str(getattr(settings, "CVD_LINK_PORT", "") or "")
    scheme = getattr(settings, "CVD_LINK_SCHEME", "https")
    return f"{scheme}://{host}{':' + port if port else ''}"


def _compose(job: ExportJob, chain: Chain) -> Mail:
    base = link_base(chain)
    attach_max = int(getattr(settings, "CVD_EXPORT_ATTACH_MAX_BYTES", ATTACH_MAX_BYTES))
    attachments: list[tuple[str, bytes, str]] = []
    start, end = str(job.params.get("start", "")), str(job.params.get("end", ""))
    filename = f"{chain.schema_name}-{job.report}-{start}-{end}.{job.format}"
    too_large = False
    if job.status == ExportJob.Status.DONE and job.file:
        size = job.size if job.size is not None else job.file.size
        if size < attach_max:
            with job.file.open("rb") as source:
                attachments.append((filename, source.read(), exports.CONTENT_TYPES[job.format].split(";")[0]))
        else:
            too_large = True
    title = exports.export_title(job.report)
    context = {
        "job": job,
        "chain": chain,
        "title": title,
        "filename": filename,
        "start": start,
        "end": end,
        "download_url": f"{base}/api/reporting/exports/{job.pk}/download/",
        "job_url": f"{base}/api/reporting/exports/{job.pk}/",
        "attached": bool(attachments),
        "too_large": too_large,
        "size_mb": f"{(job.size or 0) / 1024 / 1024:.1f}",
        "limit_mb": f"{attach_max / 1024 / 1024:.0f}",
        "expires_at": job.expires_at.astimezone(chain.tz) if job.expires_at else None,
    }
    done = job.status == ExportJob.Status.DONE
    # The subject holds only registry names and dates: no tenant-typed text in a header.
    subject = f"Your export {'is ready' if done else 'failed'}: {title}, {start} to {end}"
    return Mail(
        to=[job.requester.email],
        subject=subject,
        text=render_to_string("reporting/email/export_done.txt", context),
        html=render_to_string("reporting/email/export_done.html", context),
        attachments=attachments,
    )


def export_job_notify(*, job_id: int, final_attempt: bool = False) -> MailDelivery | None:
    """E-mail the requester that the job is done (or failed) — once, whatever calls this how often."""
    job = ExportJob.objects.select_related("requester").filter(pk=job_id).first()
    if job is None or job.status not in (ExportJob.Status.DONE, ExportJob.Status.FAILED) or not job.requester.email:
        return None
    chain = current_chain()
    return mail_send_once(key=job.mail_key, compose=lambda: _compose(job, chain), final_attempt=final_attempt)


def exports_expire(*, now: datetime | None = None) -> int:
    """Delete the files of jobs past their expiry and mark them expired; returns how many."""
    now = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(status=ExportJob.Status.DONE, expires_at__lte=now):
        if job.file:
            job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.EXPIRED, file="")
        expired += 1
    return expired


def mail_delivery_of(job: ExportJob) -> MailDelivery | None:
    return MailDelivery.objects.filter(key=job.mail_key).first()
