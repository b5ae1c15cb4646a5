"""Celery beat schedule of the rollups, in code (imported by cvd.celery).

- hourly, five minutes past the hour: every chain brings its buckets up to now (previous and current
  hour, late rows, dirty ranges);
- every 15 minutes: chains whose local midnight passed in the last 15 minutes close the day before;
- every hour at :20: chains whose local time is 00:xx on the 1st close the previous month.

All three are fan-outs that run in the public schema and send one task per chain into its schema.
CVD_ROLLUP_HOURLY_EVERY_SECONDS makes the hourly fan-out run every N seconds (demos and tests).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from celery.schedules import crontab

_every = os.environ.get("CVD_ROLLUP_HOURLY_EVERY_SECONDS")

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "analytics-rollup-hourly": {
        "task": "analytics.rollup_hourly_fanout",
        "schedule": timedelta(seconds=float(_every)) if _every else crontab(minute=5),
    },
    "analytics-rollup-daily-close": {
        "task": "analytics.rollup_daily_close_fanout",
        "schedule": crontab(minute="5,20,35,50"),
    },
    "analytics-rollup-monthly-close": {
        "task": "analytics.rollup_monthly_close_fanout",
        "schedule": crontab(minute=20),
    },
}
