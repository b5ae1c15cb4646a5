"""Record the ranges ingestion reports as changed (the hourly rollup recomputes exactly those), and keep every
domain table's change trigger in place after migrations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from analytics.models import DirtyRange
from chains.tenancy import current_schema
from ingest.signals import raw_data_changed


@receiver(raw_data_changed)
def record_dirty_range(sender: Any, *, kind: str, starts_at: datetime, ends_at: datetime, **kwargs: Any) -> None:
    if ends_at <= starts_at:
        ends_at = starts_at + timedelta(microseconds=1)
    DirtyRange.objects.create(kind=kind, starts_at=starts_at, ends_at=ends_at)


@receiver(post_migrate)
def track_changes_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    """A table a later migration adds to a domain app gets the change trigger (analytics.query.changes)."""
    from django.apps import apps

    # post_migrate fires once per app; act once, after the last one, in a chain's schema.
    if sender is not list(apps.get_app_configs())[-1] or current_schema() == "public":
        return
    from analytics.query.changes import ensure_change_triggers

    ensure_change_triggers()
