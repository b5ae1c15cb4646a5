"""Visit revenue: what each completed service visit's machine sold since its previous completed visit, kept by the
rollup jobs.

A route run's serviced revenue sums its visits' (analytics.query.stock_and_visits.run_visit_totals); read raw, that
is the previous visit of each of the runs' 20,000 visits by a window over the machines' visits and one index range
of sales per visit. A row holds a visit before the watermark W: its previous visit's time and the sales in between
ingested before the marks' I. Each job keeps that true:

- the rows of a machine marked stale (its visits or fills written since: analytics.rollups.slot_stock) are
  computed again from its visits as they are now;
- so are the rows whose window (previous visit, visit] meets a local day the job recomputes (the days since the
  last watermark, days with late sales, days ingestion marked changed), which takes in the visits W passed.

A reader adds the sales ingested since I to a held row and reads the visits of a stale machine raw.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from analytics.models import VisitRevenueRollup
from analytics.periods import local_midnight
from analytics.rollups.fills import existing_marks

TABLE = VisitRevenueRollup._meta.db_table

_REFRESH = f"""
    WITH lagged AS (
        SELECT v.id, v.route_run_id, v.device_id, v.visited_at,
               LAG(v.visited_at) OVER (PARTITION BY v.device_id ORDER BY v.visited_at, v.id) AS previous_at
        FROM routes_servicevisit v WHERE v.completed
    ),
    target AS MATERIALIZED (
        SELECT id, route_run_id, device_id, visited_at, previous_at FROM lagged
        WHERE previous_at IS NOT NULL AND visited_at < %(w)s AND (
            %(everything)s OR device_id = ANY(%(devices)s)
            OR EXISTS (SELECT 1 FROM unnest(%(los)s::timestamptz[], %(his)s::timestamptz[]) AS r (lo, hi)
                       WHERE visited_at >= r.lo AND previous_at < r.hi)
        )
    ),
    fresh AS (
        INSERT INTO {TABLE} AS t (visit_id, route_run_id, device_id, previous_at, visited_at, revenue)
        SELECT w.id, w.route_run_id, w.device_id, w.previous_at, w.visited_at, COALESCE((
            SELECT SUM(s.amount) FROM fleet_sale s
            WHERE s.device_id = w.device_id AND s.sold_at > w.previous_at AND s.sold_at <= w.visited_at
              AND s.ingested_at < %(i)s
        ), 0)
        FROM target w
        ON CONFLICT (visit_id) DO UPDATE SET route_run_id = EXCLUDED.route_run_id, device_id = EXCLUDED.device_id,
            previous_at = EXCLUDED.previous_at, visited_at = EXCLUDED.visited_at, revenue = EXCLUDED.revenue
        WHERE (t.route_run_id, t.device_id, t.previous_at, t.visited_at, t.revenue) IS DISTINCT FROM
              (EXCLUDED.route_run_id, EXCLUDED.device_id, EXCLUDED.previous_at, EXCLUDED.visited_at, EXCLUDED.revenue)
        RETURNING 1
    )
    SELECT count(*) FROM fresh
"""


def refresh(
    *, devices: Sequence[int], days: Sequence[tuple[date, date]], tz: ZoneInfo, covered_until: datetime,
    ingested_until: datetime, everything: bool = False,
) -> int:
    """Compute again the rows of the stale `devices` (from scratch) and of the visits whose window meets the local
    day runs `days` (or, `everything`, every row) at the marks; in the job's transaction. Returns the rows written."""
    params: dict[str, Any] = {
        "w": covered_until, "i": ingested_until, "everything": everything, "devices": list(devices),
        "los": [local_midnight(first, tz) for first, _ in days],
        "his": [local_midnight(last + timedelta(days=1), tz) for _, last in days],
    }
    with connection.cursor() as cursor:
        if everything:
            cursor.execute(f"DELETE FROM {TABLE}")
        elif devices:  # their visits may have moved or gone: nothing of theirs is kept
            cursor.execute(f"DELETE FROM {TABLE} WHERE device_id = ANY(%s)", [list(devices)])
        written = cursor.rowcount if everything or devices else 0
        cursor.execute(_REFRESH, params)
        return written + int(cursor.fetchone()[0])


def fill_from_marks() -> None:
    """Bring an existing chain's visit revenue up to its marks (the migration that adds the table)."""
    marks = existing_marks()
    if marks is not None:
        refresh(devices=(), days=(), tz=marks.tz, covered_until=marks.covered_until,
                ingested_until=marks.ingested_until, everything=True)
