"""A subscription (a report e-mailed to a list at a local-time recurrence) and its delivery ledger (one row an occurrence)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

RANGES = ("previous_day", "previous_week", "previous_month", "last_7_days", "last_30_days", "month_to_date")
MAX_RECIPIENTS = 50


class Subscription(models.Model):
    """`recurrence` is {"freq", "at", "weekday"?, "day"?} in the chain's local time; `next_run_at` the next instant due."""

    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="report_subscriptions"
    )
    report = models.CharField(max_length=40)
    format = models.CharField(max_length=4)
    params = models.JSONField(default=dict, blank=True, help_text="the report's own parameters and filters")
    range = models.CharField(max_length=20, choices=[(r, r.replace("_", " ")) for r in RANGES])
    recurrence = models.JSONField(default=dict)
    recipients = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True, help_text="the next occurrence (UTC); null while paused")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        # The scheduler's one query: active subscriptions with next_run_at <= now.
        indexes = [models.Index(fields=["next_run_at"], name="subscription_due", condition=models.Q(active=True))]

    def __str__(self) -> str:
        return f"{self.name} ({self.report}.{self.format})"


class Delivery(models.Model):
    """The ledger: the database's unique (subscription, occurrence) decides that an occurrence goes out at most once."""

    class Status(models.TextChoices):
        PENDING = "pending"  # claimed; being rendered and sent (or a worker died: the next run finishes it)
        SENT = "sent"
        MISSED = "missed"  # more than 24 hours late after downtime: recorded, not sent
        FAILED = "failed"
        SKIPPED = "skipped"  # due, but nobody left to send it to

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    occurrence = models.DateTimeField(help_text="the scheduled instant (UTC)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    manual = models.BooleanField(default=False, help_text="sent with 'send now', not by the schedule")
    recipients = models.JSONField(default=list)
    rows = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="schedules/", max_length=500, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurrence", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "occurrence"], name="delivery_once_per_occurrence"),
        ]
        indexes = [models.Index(fields=["status"], name="delivery_status")]

    def __str__(self) -> str:
        return f"{self.subscription_id} @ {self.occurrence.isoformat()} ({self.status})"

    @property
    def mail_key(self) -> str:
        return f"schedule:{self.subscription_id}:{self.occurrence.isoformat()}"
