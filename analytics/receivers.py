"""Record the ranges ingestion reports as changed (the hourly rollup recomputes exactly those), and keep every
domain table's change trigger in place after migrations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from analytics.models import DirtyRange
from chains.tenancy import chain_migrated
from ingest.signals import raw_data_changed


@receiver(raw_data_changed)
def record_dirty_range(sender: Any, *, kind: str, starts_at: datetime, ends_at: datetime, **kwargs: Any) -> None:
    if ends_at <= starts_at:
        ends_at = starts_at + timedelta(microseconds=1)
    DirtyRange.objects.create(kind=kind, starts_at=starts_at, ends_at=ends_at)


@receiver(post_migrate)
def track_changes_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    """A table a later migration adds to a domain app gets the change trigger (analytics.query.changes)."""
    if not chain_migrated(sender):
        return
    from analytics.query.changes import ensure_change_triggers

    ensure_change_triggers()
