"""Record the ranges ingestion reports as changed; the hourly rollup recomputes exactly those."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.dispatch import receiver

from analytics.models import DirtyRange
from ingest.signals import raw_data_changed


@receiver(raw_data_changed)
def record_dirty_range(sender: Any, *, kind: str, starts_at: datetime, ends_at: datetime, **kwargs: Any) -> None:
    if ends_at <= starts_at:
        ends_at = starts_at + timedelta(microseconds=1)
    DirtyRange.objects.create(kind=kind, starts_at=starts_at, ends_at=ends_at)
