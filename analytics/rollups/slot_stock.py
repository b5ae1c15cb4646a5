"""Slot stock: each planogram slot's last fill and the units sold from it since, kept by the rollup jobs.

The inventory needs, per slot in force, the level its last fill left, the units sold from it since, and its units
over the last 14 local days. Read raw, that is one index range of two weeks of sales per slot: 20,000 ranges at
2,000 machines. Every job that moves the rollup marks (W, I) recomputes the rows from the raw sales before W
ingested before I, and stamps them with those marks; a reader adds the sales the marks leave out (sold at or after
W, or ingested since I), as it does for the buckets.

A row is only good for the marks it carries (a job that moved them without this refresh leaves rows the readers
ignore) and while its machine's visits and fills are as they were: every statement that writes routes_servicevisit
or routes_slotfill marks the machine in analytics_slotstockdirty (triggers, migration 0013), whose slots are then
read raw until the next job. So is a machine with a visit after W (its fills may be newer than the row's).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from analytics.models import SlotStockDirty, SlotStockRollup
from analytics.periods import local_midnight
from analytics.rollups.fills import existing_marks

TABLE = SlotStockRollup._meta.db_table
DIRTY = SlotStockDirty._meta.db_table
DAYS = 14  # the inventory's velocity window (analytics.selectors.inventory.VELOCITY_DAYS)

# Each slot of {slots} (id, device_id) with its last fill before %(fills_until)s: `filled` (slot_id, level_after,
# visited_at). The machine's newest visit is probed once per machine and usually filled every slot; a slot it skipped
# walks the machine's visits newest first to the first that filled it.
LAST_FILLS = """
    newest AS (
        SELECT f.slot_id, f.level_after, v.visited_at
        FROM (SELECT DISTINCT device_id FROM {slots}) m
        CROSS JOIN LATERAL (
            SELECT v.id, v.visited_at FROM routes_servicevisit v
            WHERE v.device_id = m.device_id AND v.visited_at <= %(fills_until)s
            ORDER BY v.visited_at DESC, v.id DESC LIMIT 1
        ) v
        JOIN routes_slotfill f ON f.visit_id = v.id
    ),
    filled AS (
        SELECT ps.id AS slot_id, lf.level_after, lf.visited_at
        FROM {slots} ps
        LEFT JOIN newest n ON n.slot_id = ps.id
        LEFT JOIN LATERAL (
            SELECT n.level_after, n.visited_at WHERE n.slot_id IS NOT NULL
            UNION ALL
            -- (OFFSET 0 keeps the fill lookup a probe per visit: joined, the planner hashes all of them.)
            (SELECT f.level_after, v.visited_at FROM routes_servicevisit v
             CROSS JOIN LATERAL (
                 SELECT f.level_after FROM routes_slotfill f WHERE f.visit_id = v.id AND f.slot_id = ps.id OFFSET 0
             ) f
             WHERE n.slot_id IS NULL AND v.device_id = ps.device_id AND v.visited_at <= %(fills_until)s
             ORDER BY v.visited_at DESC, v.id DESC LIMIT 1)
        ) lf ON TRUE
    )
"""


def _refresh_sql() -> str:
    day_sums = ", ".join(
        f"COALESCE(SUM(s.quantity) FILTER (WHERE s.sold_at >= %(day_0)s AND s.sold_at < %(day_{i})s), 0)"
        for i in range(1, DAYS + 1)
    )
    return f"""
        WITH slots AS MATERIALIZED (
            SELECT ps.id, ps.device_id, ps.slot_code FROM fleet_planogramslot ps
            JOIN fleet_device d ON d.id = ps.device_id
            WHERE ps.valid_to IS NULL AND d.retired_at IS NULL
        ),
        {LAST_FILLS.format(slots='slots')},
        fresh AS (
            INSERT INTO {TABLE} AS t
                (slot_id, filled_at, level_after, sold_since, first_day, cumulative, covered_until, ingested_until)
            SELECT ps.id, f.visited_at, f.level_after, sold.since, %(first_day)s, sold.cumulative, %(w)s, %(i)s
            FROM slots ps
            JOIN filled f ON f.slot_id = ps.id
            CROSS JOIN LATERAL (
                -- One range of the (device, slot code, sold_at) index, from the earlier of the fill and the days.
                SELECT COALESCE(SUM(s.quantity) FILTER (WHERE s.sold_at > f.visited_at), 0),
                       ARRAY[{day_sums}]
                FROM fleet_sale s
                WHERE s.device_id = ps.device_id AND s.slot_code = ps.slot_code
                  AND s.sold_at >= LEAST(COALESCE(f.visited_at, %(day_0)s), %(day_0)s) AND s.sold_at < %(w)s
                  AND s.ingested_at < %(i)s
            ) AS sold (since, cumulative)
            RETURNING 1
        )
        SELECT count(*) FROM fresh
    """


def stale_machines() -> tuple[int, list[int]]:
    """The machines marked stale so far, and the newest mark's id: a job computes their rows again and clears the
    marks up to that id (refresh(seen=…)), not the ones a writer adds meanwhile."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(max(id), 0), COALESCE(array_agg(DISTINCT device_id), '{{}}') FROM {DIRTY}")
        seen, devices = cursor.fetchone()
    return int(seen), sorted(devices)


def refresh(*, tz: ZoneInfo, covered_until: datetime, ingested_until: datetime, seen: int) -> int:
    """Recompute every slot in force at the marks (covered_until, ingested_until), in the caller's transaction (the
    one that moves the marks), and clear the stale marks up to `seen`. Returns the rows written."""
    last_day = (covered_until - timedelta(microseconds=1)).astimezone(tz).date()
    first_day = last_day - timedelta(days=DAYS - 1)
    params: dict[str, Any] = {
        "w": covered_until, "i": ingested_until, "fills_until": covered_until, "first_day": first_day,
        **{f"day_{i}": min(local_midnight(first_day + timedelta(days=i), tz), covered_until) for i in range(DAYS + 1)},
    }
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(_refresh_sql(), params)
        written = int(cursor.fetchone()[0])
        cursor.execute(f"DELETE FROM {DIRTY} WHERE id <= %s", [seen])
        # A machine with a visit after W (recorded ahead of time): its fills may be newer than the rows'.
        cursor.execute(
            f"INSERT INTO {DIRTY} (device_id) SELECT DISTINCT device_id FROM routes_servicevisit WHERE visited_at >= %s",
            [covered_until],
        )
        cursor.execute(f"ANALYZE {TABLE}")  # readers plan their joins on 20,000 rows, not on none
    return written


def fill_from_marks() -> None:
    """Bring an existing chain's slot stock up to its marks (the migration that adds the table)."""
    marks = existing_marks()
    if marks is not None:
        seen, _ = stale_machines()
        refresh(tz=marks.tz, covered_until=marks.covered_until, ingested_until=marks.ingested_until, seen=seen)
