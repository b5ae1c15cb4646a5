"""Customer histories by thirds of a month: per customer, everything up to the end of each whole third.

A third of a local month runs from the 1st, 11th or 21st to the next one (analytics.periods.THIRDS). A row
(third t, customer c) holds c's first and last sale, transactions and amount over all sales up to the end of t
(cumulative), so a history over all time (RFM, lifetime value, churn) reads one row per customer, 20,000 at a
10M-sale chain instead of its 3 million customer sales, plus the raw sales of ten days at most. A customer
bought in third t when their last sale as of t is in t.

The rules are the buckets' own (analytics.models.RollupWatermark): the table holds the thirds that end at or
before the watermark W, over sales ingested before I; the third W falls in holds nothing, its sales are read raw
(analytics.query.histories). Every job that recomputes a day recomputes its third, and every later whole third
for the customers whose row changed (each third = the one before + its own raw sales), in the same transaction
that moves the marks: the hourly job only does so when a third has just ended or late rows arrived for an earlier
one.
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
# dropped; unchanged rows are not rewritten, so a re-run changes nothing, not even on disk. {only} narrows it to
# the customers of %(customers)s (a third whose own days did not change: only the customers whose row changed in
# the third before can differ). Answers the rows written or removed and their customers.
_REFRESH = """
    WITH own AS (
        SELECT s.customer_id, MIN(s.sold_at) AS first_at, MAX(s.sold_at) AS last_at, SUM(s.transactions) AS transactions,
               (SUM(s.amount) * 10000)::bigint AS amount_e4
        FROM fleet_sale s
        WHERE s.customer_id IS NOT NULL AND s.sold_at >= %(lo)s AND s.sold_at < %(hi)s AND s.ingested_at < %(i)s{only_s}
        GROUP BY s.customer_id
    ),
    src AS (
        SELECT customer_id, MIN(first_at) AS first_at, MAX(last_at) AS last_at, SUM(transactions)::bigint AS transactions,
               SUM(amount_e4)::bigint AS amount_e4
        FROM (
            SELECT customer_id, first_at, last_at, transactions, amount_e4 FROM {table} t
            WHERE starts_on = %(previous)s{only_t}
            UNION ALL
            SELECT customer_id, first_at, last_at, transactions, amount_e4 FROM own
        ) AS both_parts
        GROUP BY customer_id
    ),
    up AS (
        INSERT INTO {table} AS t (starts_on, customer_id, first_at, last_at, transactions, amount_e4)
        SELECT %(third)s, customer_id, first_at, last_at, transactions, amount_e4 FROM src
        ON CONFLICT (starts_on, customer_id) DO UPDATE
            SET first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at, transactions = EXCLUDED.transactions,
                amount_e4 = EXCLUDED.amount_e4
            WHERE (t.first_at, t.last_at, t.transactions, t.amount_e4)
                  IS DISTINCT FROM (EXCLUDED.first_at, EXCLUDED.last_at, EXCLUDED.transactions, EXCLUDED.amount_e4)
        RETURNING t.customer_id
    ),
    gone AS (
        DELETE FROM {table} AS t
        WHERE t.starts_on = %(third)s{only_t} AND NOT EXISTS (SELECT 1 FROM src WHERE src.customer_id = t.customer_id)
        RETURNING t.customer_id
    )
    SELECT count(*), COALESCE(array_agg(customer_id), '{{}}')
    FROM (SELECT customer_id FROM up UNION ALL SELECT customer_id FROM gone) AS changed
"""
_WHOLE = _REFRESH.format(table=TABLE, only_s="", only_t="")
_ONLY = _REFRESH.format(table=TABLE, only_s=" AND s.customer_id = ANY(%(customers)s)",
                        only_t=" AND t.customer_id = ANY(%(customers)s)")
# Past this many changed customers a third is recomputed whole: its raw sales by time beat that many customer probes.
NARROW_LIMIT = 2_000


def refresh(
    *, days: Iterable[date], tz: ZoneInfo, covered_until: datetime, ingested_until: datetime, every_third: bool = False
) -> int:
    """Recompute the earliest third that contains any of `days` and every later third that ends at or before
    `covered_until` (sales ingested before `ingested_until`); later thirds hold nothing. A later third none of
    whose days changed is recomputed for the customers whose row changed in the third before it alone (a late sale
    a year back touches a few customers in 36 thirds, not every customer in each). Returns the rows written or
    removed. `every_third`: every third from the first is recomputed whole (a table emptied for a rebuild)."""
    changed_thirds = {third_start(day) for day in days}
    if not changed_thirds:
        return 0
    third = min(changed_thirds)
    written = 0
    customers: list[int] = []
    with connection.cursor() as cursor:
        while local_midnight(next_third(third), tz) <= covered_until:
            whole = every_third or third in changed_thirds or len(customers) > NARROW_LIMIT
            if whole or customers:
                cursor.execute(_WHOLE if whole else _ONLY, {
                    "third": third, "previous": third_start(third - timedelta(days=1)), "lo": local_midnight(third, tz),
                    "hi": local_midnight(next_third(third), tz), "i": ingested_until, "customers": customers,
                })
                count, ids = cursor.fetchone()
                written += int(count)
                customers = sorted(set(ids))
            third = next_third(third)
        # Held nothing, unless the watermark went back (a rebuild of a chain that was never built).
        cursor.execute(f"DELETE FROM {TABLE} WHERE starts_on >= %s", [third])
        written += cursor.rowcount
    return written


def rebuild(*, first_day: date, tz: ZoneInfo, covered_until: datetime, ingested_until: datetime) -> int:
    """Every third from first_day's through the last whole one before `covered_until`, from nothing."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")
    return refresh(days=[first_day], tz=tz, covered_until=covered_until, ingested_until=ingested_until, every_third=True)


def fill_from_marks() -> None:
    """Bring an existing chain's customer histories up to its marks (the migration that adds the table), or
    nothing before the first rollup job."""
    marks = existing_marks()
    if marks is not None:
        rebuild(first_day=marks.first_day, tz=marks.tz, covered_until=marks.covered_until,
                ingested_until=marks.ingested_until)
