"""Export jobs (long exports run by a worker) and mail deliveries (one row per message that must go out once)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


def _export_path(job: ExportJob, filename: str) -> str:
    from django.db import connection

    return f"exports/{connection.schema_name}/{job.pk}/{filename}"  # type: ignore[attr-defined]


class ExportJob(models.Model):
    """An export longer than a request may take: queued, run by a worker in the chain's schema, e-mailed once."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        EXPIRED = "expired"

    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs")
    report = models.CharField(max_length=40)
    format = models.CharField(max_length=4)
    params = models.JSONField(default=dict, blank=True, help_text="the report's parameters, start and end resolved")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0)
    rows = models.BigIntegerField(null=True, blank=True)
    file = models.FileField(upload_to=_export_path, max_length=500, blank=True)
    size = models.BigIntegerField(null=True, blank=True, help_text="bytes")
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="runs started (a redelivered job runs again)")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requester", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__gte=0, progress__lte=1), name="export_job_progress_0_1"),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} {self.report}.{self.format} ({self.status})"

    @property
    def mail_key(self) -> str:
        return f"export-job:{self.pk}"


class MailDelivery(models.Model):
    """One message that must be sent at most once: its unique key decides, its status says how it went."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RETRYING = "retrying"
        SENT = "sent"
        FAILED = "failed"

    key = models.CharField(max_length=200, unique=True, help_text="what the message is about, e.g. export-job:17")
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "mail deliveries"

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


# Scheduled reports live in their own module; imported here so Django finds them as models of this app.
from reporting.subscriptions.models import Delivery, Subscription  # noqa: E402

__all__ = ["Delivery", "ExportJob", "MailDelivery", "Subscription"]
