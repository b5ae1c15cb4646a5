"""Retention of ingestion leftovers: rejected DEX reads are kept for a while to be looked at, then removed."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from fleet.models import DexRead


def rejected_retention() -> timedelta:
    return timedelta(days=int(getattr(settings, "CVD_DEX_REJECTED_RETENTION_DAYS", 30)))


def dex_rejected_purge(*, now: datetime | None = None) -> int:
    """Delete the current chain's rejected DEX reads uploaded before now − retention; returns how many.

    Rejected reads book no sales and no accepted read points at them, so nothing else goes with them.
    """
    cutoff = (now or timezone.now()) - rejected_retention()
    deleted, _ = DexRead.objects.filter(status=DexRead.Status.REJECTED, uploaded_at__lt=cutoff).delete()
    return deleted
