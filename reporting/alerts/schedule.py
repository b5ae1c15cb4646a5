"""Celery beat entry of the alerts (merged into the beat schedule by cvd.celery): every chain at least hourly,
besides the evaluation chained to each hourly rollup."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "alerts-evaluate-hourly": {"task": "alerts.evaluate_fanout", "schedule": crontab(minute=12)},
}
