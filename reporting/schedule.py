"""Celery beat schedule of reporting (merged into the app's by cvd.celery)."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "reporting-exports-expire": {"task": "reporting.exports_expire_fanout", "schedule": crontab(hour=3, minute=40)},
}
