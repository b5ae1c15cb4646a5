"""Basket days: product affinity's counts per whole local day, kept by the rollup jobs.

A basket is one customer's purchases on one local day (analytics.query.histories.basket_items), so every count
the affinity rules need is a sum over days: the baskets N, the baskets with each product n(X) and the baskets with
each pair n(A, B). Baskets with more than MAX_BASKET_PRODUCTS distinct products are left out of all three, as the
rules leave them out. A range's affinity then reads a few thousand rows a day instead of every customer sale.

The rules are the buckets' own (analytics.models.RollupWatermark), at day grain: the table holds the days that end
at or before the watermark W, over sales ingested before I; the day W falls in holds nothing (its baskets are read
raw, whole, so no basket is split between the table and the raw rows), and neither does a day with sales
ingested since I until the next job recomputes it (the reader takes such a day raw, whole).

Each day's rows are also packed into one row of analytics.models.BasketDaySeries, in the same run that writes
them: packing 57,000 rows for a 30-day read was most of its statement (string_agg, 10 of 16 ms at 10M).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from analytics.metrics.products import MAX_BASKET_PRODUCTS
from analytics.models import BasketDayRollup, BasketDaySeries
from analytics.periods import local_midnight
from analytics.rollups.fills import existing_marks

TABLE = BasketDayRollup._meta.db_table
SERIES = BasketDaySeries._meta.db_table
RUN_DAYS = 31  # days per statement

_REFRESH = f"""
    WITH items AS (
        SELECT DISTINCT (%(days)s::date[])[width_bucket(s.sold_at, %(starts)s::timestamptz[])] AS day, s.customer_id,
               s.product_id
        FROM fleet_sale s
        WHERE s.customer_id IS NOT NULL AND s.sold_at >= %(lo)s AND s.sold_at < %(hi)s AND s.ingested_at < %(i)s
    ),
    kept AS (
        SELECT day, customer_id, product_id FROM (
            SELECT day, customer_id, product_id, count(*) OVER (PARTITION BY day, customer_id) AS size FROM items
        ) AS sized
        WHERE size <= {MAX_BASKET_PRODUCTS}
    ),
    src AS (
        SELECT day AS local_date, 0::bigint AS product_a, 0::bigint AS product_b, count(DISTINCT customer_id) AS baskets
        FROM kept GROUP BY day
        UNION ALL
        SELECT day, product_id, 0, count(*) FROM kept GROUP BY day, product_id
        UNION ALL
        SELECT a.day, a.product_id, b.product_id, count(*)
        FROM kept a JOIN kept b ON b.day = a.day AND b.customer_id = a.customer_id AND b.product_id > a.product_id
        GROUP BY a.day, a.product_id, b.product_id
    ),
    up AS (
        INSERT INTO {TABLE} AS t (local_date, product_a, product_b, baskets)
        SELECT local_date, product_a, product_b, baskets FROM src
        ON CONFLICT (local_date, product_a, product_b) DO UPDATE SET baskets = EXCLUDED.baskets
            WHERE t.baskets IS DISTINCT FROM EXCLUDED.baskets
        RETURNING 1
    ),
    gone AS (
        DELETE FROM {TABLE} AS t
        WHERE t.local_date = ANY(%(days)s::date[]) AND NOT EXISTS (
            SELECT 1 FROM src
            WHERE src.local_date = t.local_date AND src.product_a = t.product_a AND src.product_b = t.product_b
        )
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM up) + (SELECT count(*) FROM gone)
"""


# The days of %(days)s packed again from their rows: upserted, and the packed rows of days with no row left
# dropped; unchanged rows are not rewritten, so a re-run changes nothing.
_PACK = f"""
    WITH src AS (
        SELECT local_date, string_agg(int8send(product_a), '' ORDER BY product_a, product_b) AS product_a,
               string_agg(int8send(product_b), '' ORDER BY product_a, product_b) AS product_b,
               string_agg(int8send(baskets), '' ORDER BY product_a, product_b) AS baskets
        FROM {TABLE} WHERE local_date = ANY(%(days)s::date[])
        GROUP BY local_date
    ),
    up AS (
        INSERT INTO {SERIES} AS t (local_date, product_a, product_b, baskets)
        SELECT local_date, product_a, product_b, baskets FROM src
        ON CONFLICT (local_date) DO UPDATE
            SET product_a = EXCLUDED.product_a, product_b = EXCLUDED.product_b, baskets = EXCLUDED.baskets
            WHERE (t.product_a, t.product_b, t.baskets) IS DISTINCT FROM (EXCLUDED.product_a, EXCLUDED.product_b, EXCLUDED.baskets)
        RETURNING 1
    ),
    gone AS (
        DELETE FROM {SERIES} AS t
        WHERE t.local_date = ANY(%(days)s::date[]) AND NOT EXISTS (SELECT 1 FROM src WHERE src.local_date = t.local_date)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM up) + (SELECT count(*) FROM gone)
"""


def refresh(*, days: Iterable[date], tz: ZoneInfo, covered_until: datetime, ingested_until: datetime) -> int:
    """Recompute `days`: a day that ends at or before `covered_until` holds its baskets of the sales ingested
    before `ingested_until`, any other holds nothing. Returns the rows written or removed."""
    days = sorted(set(days))
    whole = [day for day in days if local_midnight(day + timedelta(days=1), tz) <= covered_until]
    runs: list[list[date]] = []
    for day in whole:  # adjacent days in one statement, RUN_DAYS at most
        if runs and runs[-1][-1] + timedelta(days=1) == day and len(runs[-1]) < RUN_DAYS:
            runs[-1].append(day)
        else:
            runs.append([day])
    changed = 0
    with connection.cursor() as cursor:
        open_days = [day for day in days if day not in set(whole)]
        if open_days:
            cursor.execute(f"DELETE FROM {TABLE} WHERE local_date = ANY(%s::date[])", [open_days])
            changed += cursor.rowcount
        for run in runs:
            starts = [local_midnight(day, tz) for day in (*run, run[-1] + timedelta(days=1))]
            params: dict[str, Any] = {"days": run, "starts": starts, "lo": starts[0], "hi": starts[-1], "i": ingested_until}
            cursor.execute(_REFRESH, params)
            changed += int(cursor.fetchone()[0])
        changed += _pack(cursor, days)
    return changed


def rebuild(*, first_day: date, last_day: date, tz: ZoneInfo, covered_until: datetime, ingested_until: datetime) -> int:
    """Every day from first_day to last_day, from nothing."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}, {SERIES}")
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    return refresh(days=days, tz=tz, covered_until=covered_until, ingested_until=ingested_until)


def pack_all() -> None:
    """Pack every day the basket days hold (the migration that adds the packed table)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(array_agg(DISTINCT local_date), '{{}}') FROM {TABLE}")
        _pack(cursor, cursor.fetchone()[0])


def _pack(cursor: Any, days: list[date]) -> int:
    """Pack `days` again from their rows (_PACK); the packed rows written or removed."""
    if not days:
        return 0
    cursor.execute(_PACK, {"days": days})
    return int(cursor.fetchone()[0])


def fill_from_marks() -> None:
    """Bring an existing chain's basket days up to its marks (the migration that adds the table), or nothing
    before the first rollup job."""
    marks = existing_marks()
    if marks is not None:
        rebuild(first_day=marks.first_day, last_day=marks.last_day, tz=marks.tz, covered_until=marks.covered_until,
                ingested_until=marks.ingested_until)
