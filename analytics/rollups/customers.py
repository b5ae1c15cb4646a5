"""Customer histories by thirds of a month: per customer, everything up to the end of each whole third.

A third of a local month runs from the 1st, 11th or 21st to the next one (analytics.periods.THIRDS). A row
(third t, customer c) holds c's first and last sale, transactions and amount over all sales up to the end of t
(cumulative), so a history over all time (RFM, lifetime value, churn) reads one row per customer, 20,000 at a
10M-sale chain instead of its 3 million customer sales, plus the raw sales of ten days at most. A customer
bought in third t when their last sale as of t is in t.

The rules are the buckets' own (analytics.models.RollupWatermark): the table holds the thirds that end at or
before the watermark W, over sales ingested before I; the third W falls in holds nothing, its sales are read raw
(analytics.query.histories). Every job that recomputes a day recomputes its third and every later whole third
here (each third = the one before + its own raw sales), in the same transaction that moves the marks: the hourly
job only does so when a third has just ended or late rows arrived for an earlier one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection

from analytics.models import CustomerHistoryRollup
from analytics.periods import local_midnight, next_third, third_start
from analytics.rollups.fills import existing_marks

TABLE = CustomerHistoryRollup._meta.db_table

# One third from the one before and its own raw sales: upserted, and the rows the sources no longer have
# dropped; unchanged rows are not rewritten, so a re-run changes nothing, not even on disk.
_REFRESH = f"""
    WITH own AS (
        SELECT s.customer_id, MIN(s.sold_at) AS first_at, MAX(s.sold_at) AS last_at, SUM(s.transactions) AS transactions,
               (SUM(s.amount) * 10000)::bigint AS amount_e4
        FROM fleet_sale s
        WHERE s.customer_id IS NOT NULL AND s.sold_at >= %(lo)s AND s.sold_at < %(hi)s AND s.ingested_at < %(i)s
        GROUP BY s.customer_id
    ),
    src AS (
        SELECT customer_id, MIN(first_at) AS first_at, MAX(last_at) AS last_at, SUM(transactions)::bigint AS transactions,
               SUM(amount_e4)::bigint AS amount_e4
        FROM (
            SELECT customer_id, first_at, last_at, transactions, amount_e4 FROM {TABLE} WHERE starts_on = %(previous)s
            UNION ALL
            SELECT customer_id, first_at, last_at, transactions, amount_e4 FROM own
        ) AS both_parts
        GROUP BY customer_id
    ),
    up AS (
        INSERT INTO {TABLE} AS t (starts_on, customer_id, first_at, last_at, transactions, amount_e4)
        SELECT %(third)s, customer_id, first_at, last_at, transactions, amount_e4 FROM src
        ON CONFLICT (starts_on, customer_id) DO UPDATE
            SET first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at, transactions = EXCLUDED.transactions,
                amount_e4 = EXCLUDED.amount_e4
            WHERE (t.first_at, t.last_at, t.transactions, t.amount_e4)
                  IS DISTINCT FROM (EXCLUDED.first_at, EXCLUDED.last_at, EXCLUDED.transactions, EXCLUDED.amount_e4)
        RETURNING 1
    ),
    gone AS (
        DELETE FROM {TABLE} AS t
        WHERE t.starts_on = %(third)s AND NOT EXISTS (SELECT 1 FROM src WHERE src.customer_id = t.customer_id)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM up) + (SELECT count(*) FROM gone)
"""


def refresh(*, days: Iterable[date], tz: ZoneInfo, covered_until: datetime, ingested_until: datetime) -> int:
    """Recompute the earliest third that contains any of `days` and every later third that ends at or before
    `covered_until` (sales ingested before `ingested_until`); later thirds hold nothing. Returns the rows written
    or removed."""
    days = list(days)
    if not days:
        return 0
    third = third_start(min(days))
    changed = 0
    with connection.cursor() as cursor:
        while local_midnight(next_third(third), tz) <= covered_until:
            cursor.execute(_REFRESH, {
                "third": third, "previous": third_start(third - timedelta(days=1)), "lo": local_midnight(third, tz),
                "hi": local_midnight(next_third(third), tz), "i": ingested_until,
            })
            changed += int(cursor.fetchone()[0])
            third = next_third(third)
        # Held nothing, unless the watermark went back (a rebuild of a chain that was never built).
        cursor.execute(f"DELETE FROM {TABLE} WHERE starts_on >= %s", [third])
        changed += cursor.rowcount
    return changed


def rebuild(*, first_day: date, tz: ZoneInfo, covered_until: datetime, ingested_until: datetime) -> int:
    """Every third from first_day's through the last whole one before `covered_until`, from nothing."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")
    return refresh(days=[first_day], tz=tz, covered_until=covered_until, ingested_until=ingested_until)


def fill_from_marks() -> None:
    """Bring an existing chain's customer histories up to its marks (the migration that adds the table), or
    nothing before the first rollup job."""
    marks = existing_marks()
    if marks is not None:
        rebuild(first_day=marks.first_day, tz=marks.tz, covered_until=marks.covered_until,
                ingested_until=marks.ingested_until)
