"""Celery beat schedule of the fleet app (merged by cvd.celery): the daily purge of old rejected DEX reads."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "fleet-dex-rejected-purge": {"task": "fleet.dex_rejected_purge_fanout", "schedule": crontab(hour=3, minute=40)},
}
