"""Device month series: each device's daily revenue of a local month in one row, derived from its day buckets.

The daily revenue of every device over a range (asset-sales' consistency and trend, anomalies' z-scores) is a
day bucket per device per day: 60,000 rows for 30 days at 2,000 devices. A row here carries a month of them (a
bit per day that has a bucket, and those days' revenue packed), so the same read is 4,000 rows. The rows are
derived from the day buckets in the transaction that writes them, by every job that recomputes a day (its month
again, whole), so they hold exactly what the day buckets hold, at the same marks.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from analytics.models import SalesDeviceSeries
from analytics.periods import local_midnight, next_month
from analytics.rollups.fills import existing_marks
from analytics.rollups.sql import SALES_DEVICE

TABLE = SalesDeviceSeries._meta.db_table

# The months of day buckets starting in [lo, hi) (whole local months) again: upserted, and the rows whose device
# no longer has a day bucket in the month dropped; unchanged rows are not rewritten, so a re-run changes nothing.
_REFRESH = f"""
    WITH src AS (
        SELECT date_trunc('month', d.local_date)::date AS month, d.device_id,
               bit_or(1 << (extract(day FROM d.local_date)::int - 1)) AS days,
               string_agg(int8send((d.revenue * 10000)::bigint), '' ORDER BY d.local_date) AS revenue_e4
        FROM {SALES_DEVICE.table} d
        WHERE d.grain = 'day' AND d.starts_at >= %(lo)s AND d.starts_at < %(hi)s
        GROUP BY 1, 2
    ),
    up AS (
        INSERT INTO {TABLE} AS t (month, device_id, days, revenue_e4)
        SELECT month, device_id, days, revenue_e4 FROM src
        ON CONFLICT (month, device_id) DO UPDATE SET days = EXCLUDED.days, revenue_e4 = EXCLUDED.revenue_e4
            WHERE (t.days, t.revenue_e4) IS DISTINCT FROM (EXCLUDED.days, EXCLUDED.revenue_e4)
        RETURNING 1
    ),
    gone AS (
        DELETE FROM {TABLE} AS t
        WHERE t.month >= %(first)s AND t.month < %(after)s
          AND NOT EXISTS (SELECT 1 FROM src WHERE src.month = t.month AND src.device_id = t.device_id)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM up) + (SELECT count(*) FROM gone)
"""


def refresh(*, days: Iterable[date], tz: ZoneInfo) -> int:
    """Derive the months that hold any of `days` again from the day buckets (adjacent months in one statement).
    Returns the rows written or removed."""
    runs: list[tuple[date, date]] = []  # [first month, month after)
    for month in sorted({day.replace(day=1) for day in days}):
        if runs and runs[-1][1] == month:
            runs[-1] = (runs[-1][0], next_month(month))
        else:
            runs.append((month, next_month(month)))
    changed = 0
    with connection.cursor() as cursor:
        for first, after in runs:
            params: dict[str, Any] = {
                "first": first, "after": after, "lo": local_midnight(first, tz), "hi": local_midnight(after, tz)
            }
            cursor.execute(_REFRESH, params)
            changed += int(cursor.fetchone()[0])
    return changed


def rebuild(*, tz: ZoneInfo) -> int:
    """Every month, from the day buckets as they are (after a full rebuild of them)."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")
        cursor.execute(f"SELECT min(local_date), max(local_date) FROM {SALES_DEVICE.table} WHERE grain = 'day'")
        first, last = cursor.fetchone()
    months = [] if first is None else [first.replace(day=1)]
    while months and months[-1] < last.replace(day=1):
        months.append(next_month(months[-1]))
    return refresh(days=months, tz=tz)


def fill_from_marks() -> None:
    """Derive every month of an existing chain's day buckets (the migration that adds the table), or nothing
    before the first rollup job."""
    marks = existing_marks()
    if marks is not None:
        rebuild(tz=marks.tz)
