"""Celery beat schedule of reporting (merged into the app's by cvd.celery)."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "reporting-exports-expire": {"task": "reporting.exports_expire_fanout", "schedule": crontab(hour=3, minute=40)},
    # Scheduled reports: every chain checks what is due (one query) every 5 minutes; a missed beat is caught up.
    "reporting-schedules": {"task": "reporting.schedules_fanout", "schedule": crontab(minute="*/5")},
}
