"""Analytics-owned tables: the capabilities it grants and the ranges ingestion marked changed."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class Capability(models.Model):
    """Carries the analytics capabilities as permissions; it has no table."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("read", "Can browse dashboards and the analytics API"),
            ("export", "Can export reports (CSV, XLSX, PDF)"),
        ]

    def __str__(self) -> str:
        return "analytics capabilities"


class DirtyRange(models.Model):
    """A time range whose raw rows changed since the rollups last covered it (late data, backfills)."""

    class Kind(models.TextChoices):
        SALES = "sales"
        BOOKINGS = "bookings"
        FUNNEL = "funnel"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text="exclusive")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="dirty_range_not_empty")]

    def __str__(self) -> str:
        return f"{self.kind} {self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"
