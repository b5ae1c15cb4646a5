"""Import jobs: one admin or API file import kept on a row, from its dry-run preview to its report."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


def _import_upload_path(instance: ImportJob, filename: str) -> str:
    from django.db import connection

    # Files of different chains never share a directory.
    return f"imports/{getattr(connection, 'schema_name', 'public')}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class ImportJob(models.Model):
    """One file import: a dry-run preview of the stored file, then (once confirmed) its import.

    The uploaded file stays on the row's storage between the preview and the confirmation, so what is
    imported is exactly what was previewed; it is deleted once the import has run or the preview rejected it.
    `kind` names a registered importer (ingest.jobs.importer_register: "sales", "bookings", "funnel", …);
    the engine knows no kind of its own.
    """

    class Status(models.TextChoices):
        PREVIEWING = "previewing"  # the dry run is running (large files: in the background)
        PREVIEWED = "previewed"  # the dry run found no errors: waiting for "Confirm import"
        QUEUED = "queued"
        RUNNING = "running"
        IMPORTED = "imported"
        REJECTED = "rejected"
        FAILED = "failed"

    kind = models.CharField(max_length=10)
    file_name = models.CharField(max_length=255)
    upload = models.FileField(upload_to=_import_upload_path, max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=20, blank=True)
    progress = models.FloatField(default=0)
    report = models.JSONField(default=dict, blank=True)
    preview = models.JSONField(default=dict, blank=True)  # the dry run's report (with the file's sha256)
    requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    previewed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} import {self.file_name} ({self.status})"
