"""The set-based SQL that builds rollup buckets: one statement per grain family and range, no row loops.

Grains (why these): a dashboard over 30 days must read a few thousand rows at most, whatever the
history. The full cross product (day × device × product) is nearly as big as the raw table, so the
dimensions are split into families that each answer most questions alone:

- `analytics_saleschainrollup`: chain totals per local hour, day, ISO week and month. Series,
  totals, run rate, weekday/hour heatmaps (≈ 24 rows a day).
- `analytics_salesdevicerollup`: per device per day, week and month (≤ devices rows a bucket).
  Location, region, city and device type are attributes of the device, joined when read, so a
  device that moves is reported where it stands now, exactly like the raw query.
- `analytics_salesproductrollup`: per product per day, week and month; category via the product.
- `analytics_salesslotrollup`: per device, product and slot per day, week and month (about one row a
  planogram slot a bucket). A device's best sellers, revenue by slot position, a slot's recent units,
  and devices or places mixed with products or categories. Its day buckets barely compress a busy day
  (a slot sells once or twice), but its weeks and months do, and a 30-day range is mostly weeks.
- `analytics_salesslotcoderollup`: per slot code per day, week and month across the fleet: revenue by
  slot position with no filter reads a row a code a bucket, not a row a planogram slot.
- `analytics_bookingrollup`: per resource and status per day, week and month.

Customer histories (RFM, cohorts) and product affinity's basket counts have tables of their own
(analytics.rollups.customers, analytics.rollups.baskets); any other question that asks for customer or payment
method goes to the raw rows (analytics.query.raw), which stay the reference.

Day (and hour) buckets are computed from the raw rows; week and month buckets from the day buckets
of the same table, so a refresh never rescans a month of raw rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# The local wall clock of a raw row; `tz` is always a bound parameter.
_LOC = "(s.sold_at AT TIME ZONE %(tz)s)"


@dataclass(frozen=True)
class Family:
    table: str
    dims: tuple[str, ...]  # bucket key columns after (grain, starts_at)
    metrics: tuple[str, ...]


SALES_CHAIN = Family("analytics_saleschainrollup", (), ("revenue", "units", "transactions"))
SALES_DEVICE = Family("analytics_salesdevicerollup", ("device_id",), ("revenue", "units", "transactions"))
SALES_PRODUCT = Family("analytics_salesproductrollup", ("product_id",), ("revenue", "units", "transactions"))
SALES_SLOT = Family("analytics_salesslotrollup", ("device_id", "product_id", "slot_code"), ("revenue", "units", "transactions"))
SALES_SLOT_CODE = Family("analytics_salesslotcoderollup", ("slot_code",), ("revenue", "units", "transactions"))
BOOKINGS = Family("analytics_bookingrollup", ("resource_id", "status"), ("bookings", "booked_seconds", "revenue"))
FAMILIES = (SALES_CHAIN, SALES_DEVICE, SALES_PRODUCT, SALES_SLOT, SALES_SLOT_CODE, BOOKINGS)


def shadow(family: Family, suffix: str) -> str:
    """The table a fresh build writes: the family's own, or its shadow (analytics.rollups.parallel)."""
    return f"{family.table}{suffix}"


def _upsert_and_prune(
    family: Family, *, name: str, source: str, grain: str, lo: str, hi: str, fresh: bool = False, into: str = ""
) -> str:
    """Two CTEs: upsert `source` rows into `family` and delete the family's buckets of `grain` in
    [lo, hi) that the source no longer has. Unchanged buckets are not rewritten (no new row versions),
    so a re-run changes nothing, not even on disk. `fresh`: the table is being built from nothing (a
    full rebuild; `into` names a shadow table instead of the family's own), so plain inserts do, in the
    order the source yields them (day by day)."""
    keys = ("grain", "starts_at", *family.dims)
    columns = (*keys, "ends_at", "local_date", "local_hour", *family.metrics)
    if fresh:
        return f"""
    {name}_up AS (
        INSERT INTO {into or family.table} ({", ".join(columns)})
        SELECT {", ".join(columns)} FROM {source} AS src  -- already a day at a time: no sort
        RETURNING 1
    ),
    {name}_del AS (SELECT 1 WHERE false)"""
    changed = ", ".join(f"t.{m}" for m in (*family.metrics, "ends_at"))
    excluded = ", ".join(f"EXCLUDED.{m}" for m in (*family.metrics, "ends_at"))
    match = " AND ".join(f"src.{k} = t.{k}" for k in keys)  # keys are never null
    return f"""
    {name}_up AS (
        INSERT INTO {family.table} AS t ({", ".join(columns)})
        SELECT {", ".join(columns)} FROM {source} AS src
        ORDER BY {", ".join(keys[1:])}  -- a bucket's rows side by side on disk: reads touch few pages
        ON CONFLICT ({", ".join(keys)}) DO UPDATE
            SET {", ".join(f"{c} = EXCLUDED.{c}" for c in (*family.metrics, "ends_at", "local_date", "local_hour"))}
            WHERE ({changed}) IS DISTINCT FROM ({excluded})
        RETURNING 1
    ),
    {name}_del AS (
        DELETE FROM {family.table} AS t
        WHERE t.grain = '{grain}' AND t.starts_at >= {lo} AND t.starts_at < {hi}
          AND NOT EXISTS (SELECT 1 FROM {source} AS src WHERE {match})
        RETURNING 1
    )"""


def local_time_exprs(tz: ZoneInfo, lo: datetime, hi: datetime) -> tuple[str, str]:
    """SQL for (the local day as a UTC-midnight label, the instant the local hour starts) of `s.sold_at`,
    valid for rows in [lo, hi).

    `AT TIME ZONE 'Europe/Stockholm'` costs about a microsecond a row, more than the whole aggregation;
    between two DST changes the offset is constant, so the local day is date_bin over sold_at + a
    CASE of the few offsets in force, and the local hour start is date_bin over sold_at itself.
    """
    offsets: list[tuple[datetime | None, timedelta]] = []
    lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp()) + 1
    current = _offset(tz, lo_s)
    step = 86400
    t = lo_s
    while t < hi_s:
        nxt = min(t + step, hi_s)
        if _offset(tz, nxt) != current:
            a, b = t, nxt  # the first second with the new offset is in (a, b]
            while b - a > 1:
                m = (a + b) // 2
                if _offset(tz, m) == current:
                    a = m
                else:
                    b = m
            offsets.append((datetime.fromtimestamp(b, UTC), current))
            current = _offset(tz, b)
        t = nxt
    offsets.append((None, current))
    whens = " ".join(
        f"WHEN s.sold_at < '{until.isoformat()}'::timestamptz THEN interval '{int(off.total_seconds())} seconds'"
        for until, off in offsets
        if until is not None
    )
    last = f"interval '{int(offsets[-1][1].total_seconds())} seconds'"
    shift = f"CASE {whens} ELSE {last} END" if whens else last
    day_label = f"date_bin('1 day', s.sold_at + {shift}, timestamptz '2000-01-01 00:00:00+00')"
    sub_hour = {int(off.total_seconds()) % 3600 for _, off in offsets}
    if len(sub_hour) == 1:
        origin = datetime(2000, 1, 1, tzinfo=UTC) - timedelta(seconds=sub_hour.pop())
        hour_start = f"date_bin('1 hour', s.sold_at, '{origin.isoformat()}'::timestamptz)"
    else:  # a zone whose sub-hour offset changes (none we serve): the exact, slower form
        hour_start = f"s.sold_at - ({_LOC} - date_trunc('hour', {_LOC}))"
    return day_label, hour_start


def _offset(tz: ZoneInfo, epoch: int) -> timedelta:
    offset = datetime.fromtimestamp(epoch, UTC).astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def sales_days_sql(tz: ZoneInfo, lo: datetime, hi: datetime, *, fresh: bool = False, suffix: str = "") -> str:
    """Day buckets of the five sales families and hour buckets of the chain family for local days
    [%(lo)s, %(day_hi_at)s) (%(first_day)s..%(last_day)s), reading every raw row once, in one statement.

    A calendar of the local days drives the scan: for each day, that day's rows (through the sold_at
    index) feed five small hash tables, GROUPING SETS (device), (product), (hour), (slot) and (device,
    product, slot). Grouping a day at a time keeps the hash tables small enough to stay in the CPU cache whatever the history (and the
    memory bounded), needs no per-row local-day expression, and gives the planner exact group
    estimates, so it hashes instead of sorting. The chain's day buckets are the sums of its hour
    buckets (an hour lies in one local day). `fresh` (a full rebuild into emptied tables, or into the
    shadow tables named by `suffix`): plain inserts.

    Parameters: tz, lo/day_hi_at (the instants the first and the day after the last day start), hi
    (the end of the rows to read, already capped at the watermark), ingested (the ingestion mark).
    """
    _, hour_start = local_time_exprs(tz, lo, hi)
    # Bucket bounds from the calendar, not two time zone conversions per bucket row; the raw rows carry
    # their day's bounds, so the device and product buckets need no join back to the calendar.
    day_bounds = "c.starts_at, c.ends_at, x.d AS local_date, 0 AS local_hour"
    carried_bounds = "x.day_starts AS starts_at, x.day_ends AS ends_at, x.d AS local_date, 0 AS local_hour"
    ctes = [
        """
    days AS MATERIALIZED (
        SELECT d::date AS d, (d::timestamp AT TIME ZONE %(tz)s) AS starts_at,
               ((d + interval '1 day')::timestamp AT TIME ZONE %(tz)s) AS ends_at
        FROM generate_series(%(first_day)s::date, %(last_day)s::date, interval '1 day') AS d
    )""",
        f"""
    raw AS MATERIALIZED (
        SELECT c.d, c.starts_at AS day_starts, c.ends_at AS day_ends, y.h, y.device_id, y.product_id, y.slot_code, y.g,
               y.revenue, y.units, y.transactions
        FROM days AS c
        CROSS JOIN LATERAL (
            SELECT s.device_id, s.product_id, s.slot_code, {hour_start} AS h,
                   GROUPING(s.device_id, s.product_id, s.slot_code, {hour_start}) AS g,
                   SUM(s.amount) AS revenue, SUM(s.quantity) AS units, SUM(s.transactions) AS transactions
            FROM fleet_sale s
            WHERE s.sold_at >= c.starts_at AND s.sold_at < c.ends_at
              AND s.sold_at >= %(lo)s AND s.sold_at < %(hi)s AND s.ingested_at < %(ingested)s
            GROUP BY GROUPING SETS (
                (s.device_id), (s.product_id), ({hour_start}), (s.slot_code), (s.device_id, s.product_id, s.slot_code)
            )
        ) AS y
    )""",
        """
    chain_hour AS MATERIALIZED (
        SELECT 'hour' AS grain, x.h AS starts_at, x.h + interval '1 hour' AS ends_at,
               (x.h AT TIME ZONE %(tz)s)::date AS local_date, extract(hour FROM x.h AT TIME ZONE %(tz)s)::int AS local_hour,
               revenue, units, transactions
        FROM raw AS x WHERE g = 14
    )""",
        f"""
    chain_day AS (
        SELECT 'day' AS grain, {day_bounds}, x.revenue, x.units, x.transactions
        FROM (
            SELECT local_date AS d, SUM(revenue) AS revenue, SUM(units) AS units, SUM(transactions) AS transactions
            FROM chain_hour GROUP BY local_date
        ) AS x
        JOIN days AS c ON c.d = x.d
    )""",
        f"""
    device_day AS (
        SELECT 'day' AS grain, {carried_bounds}, x.device_id, x.revenue, x.units, x.transactions
        FROM raw AS x WHERE x.g = 7
    )""",
        f"""
    product_day AS (
        SELECT 'day' AS grain, {carried_bounds}, x.product_id, x.revenue, x.units, x.transactions
        FROM raw AS x WHERE x.g = 11
    )""",
        f"""
    slot_day AS (
        SELECT 'day' AS grain, {carried_bounds}, x.device_id, x.product_id, x.slot_code, x.revenue, x.units, x.transactions
        FROM raw AS x WHERE x.g = 1
    )""",
        f"""
    slot_code_day AS (
        SELECT 'day' AS grain, {carried_bounds}, x.slot_code, x.revenue, x.units, x.transactions
        FROM raw AS x WHERE x.g = 13
    )""",
        _upsert_and_prune(SALES_CHAIN, fresh=fresh, into=shadow(SALES_CHAIN, suffix), name="cd", source="chain_day", grain="day", lo="%(lo)s", hi="%(day_hi_at)s"),
        _upsert_and_prune(SALES_CHAIN, fresh=fresh, into=shadow(SALES_CHAIN, suffix), name="ch", source="chain_hour", grain="hour", lo="%(lo)s", hi="%(day_hi_at)s"),
        _upsert_and_prune(SALES_DEVICE, fresh=fresh, into=shadow(SALES_DEVICE, suffix), name="dd", source="device_day", grain="day", lo="%(lo)s", hi="%(day_hi_at)s"),
        _upsert_and_prune(SALES_PRODUCT, fresh=fresh, into=shadow(SALES_PRODUCT, suffix), name="pd", source="product_day", grain="day", lo="%(lo)s", hi="%(day_hi_at)s"),
        _upsert_and_prune(SALES_SLOT, fresh=fresh, into=shadow(SALES_SLOT, suffix), name="sd", source="slot_day", grain="day", lo="%(lo)s", hi="%(day_hi_at)s"),
        _upsert_and_prune(SALES_SLOT_CODE, fresh=fresh, into=shadow(SALES_SLOT_CODE, suffix), name="kd", source="slot_code_day", grain="day", lo="%(lo)s", hi="%(day_hi_at)s"),
    ]
    counts = ", ".join(f"(SELECT count(*) FROM {n}_up) + (SELECT count(*) FROM {n}_del)" for n in ("cd", "ch", "dd", "pd", "sd", "kd"))
    return "WITH " + ",".join(ctes) + f"\nSELECT {counts}"


def bookings_days_sql(*, fresh: bool = False, suffix: str = "") -> str:
    """Day buckets of bookings (by local start day, resource, status) for [%(day_lo)s, %(day_hi)s)."""
    ctes = [
        """
    booking_day AS (
        SELECT 'day' AS grain, (x.d::timestamp AT TIME ZONE %(tz)s) AS starts_at,
               ((x.d + 1)::timestamp AT TIME ZONE %(tz)s) AS ends_at, x.d AS local_date, 0 AS local_hour,
               x.resource_id, x.status, count(*) AS bookings, SUM(x.seconds) AS booked_seconds, SUM(x.amount) AS revenue
        FROM (
            SELECT (b.starts_at AT TIME ZONE %(tz)s)::date AS d, b.resource_id, b.status, b.amount,
                   extract(epoch FROM b.ends_at - b.starts_at) AS seconds
            FROM bookings_booking b
            WHERE b.starts_at >= %(lo)s AND b.starts_at < %(hi)s AND b.ingested_at < %(ingested)s
        ) AS x
        GROUP BY x.d, x.resource_id, x.status
    )""",
        _upsert_and_prune(BOOKINGS, fresh=fresh, into=shadow(BOOKINGS, suffix), name="bd", source="booking_day", grain="day", lo="%(lo)s", hi="%(day_hi_at)s"),
    ]
    return "WITH " + ",".join(ctes) + "\nSELECT (SELECT count(*) FROM bd_up) + (SELECT count(*) FROM bd_del)"


def coarse_sql(family: Family, grain: str, *, fresh: bool = False) -> str:
    """Week or month buckets of `family` re-derived from its day buckets, for the buckets starting in
    [%(coarse_lo)s, %(coarse_hi)s) (local dates, aligned to the grain)."""
    unit, step = {"week": ("week", "interval '7 days'"), "month": ("month", "interval '1 month'")}[grain]
    dims = "".join(f", t.{d}" for d in family.dims)
    sums = ", ".join(f"SUM(t.{m}) AS {m}" for m in family.metrics)
    source = f"""
    coarse AS (
        SELECT '{grain}' AS grain, (x.b::timestamp AT TIME ZONE %(tz)s) AS starts_at,
               ((x.b + {step})::timestamp AT TIME ZONE %(tz)s) AS ends_at, x.b AS local_date, 0 AS local_hour,
               {", ".join((*(f"x.{d}" for d in family.dims), *(f"x.{m}" for m in family.metrics)))}
        FROM (
            SELECT date_trunc('{unit}', t.local_date)::date AS b{dims}, {sums}
            FROM {family.table} AS t
            WHERE t.grain = 'day' AND t.starts_at >= %(coarse_lo_at)s AND t.starts_at < %(coarse_hi_at)s
            GROUP BY 1{"".join(f", {i + 2}" for i in range(len(family.dims)))}
        ) AS x
    )"""
    body = _upsert_and_prune(family, fresh=fresh, name="c", source="coarse", grain=grain, lo="%(coarse_lo_at)s", hi="%(coarse_hi_at)s")
    return f"WITH {source},{body}\nSELECT (SELECT count(*) FROM c_up) + (SELECT count(*) FROM c_del)"


def coarse_fresh_sql(family: Family, *, suffix: str = "", part: tuple[int, int] = (0, 1)) -> str:
    """Week AND month buckets of `family` from all its day buckets, in one pass over them (GROUPING SETS);
    for a full rebuild into emptied (or `suffix` shadow) tables, after the day buckets. `part` (k, n):
    only the buckets whose first dimension is k modulo n, so n connections can share the work."""
    table = shadow(family, suffix)
    k, n = part
    share = f" AND t.{family.dims[0]} %% {n} = {k}" if n > 1 and family.dims else ""
    dims = "".join(f", t.{d}" for d in family.dims)
    sums = ", ".join(f"SUM(t.{m}) AS {m}" for m in family.metrics)
    columns = ("grain", "starts_at", "ends_at", "local_date", "local_hour", *family.dims, *family.metrics)
    return f"""
    WITH coarse AS (
        SELECT date_trunc('week', t.local_date)::date AS w, date_trunc('month', t.local_date)::date AS m{dims}, {sums}
        FROM {table} AS t
        WHERE t.grain = 'day'{share}
        GROUP BY GROUPING SETS ((1{dims}), (2{dims}))
    ),
    rows AS (
        SELECT CASE WHEN x.w IS NULL THEN 'month' ELSE 'week' END AS grain, coalesce(x.w, x.m) AS b,
               CASE WHEN x.w IS NULL THEN interval '1 month' ELSE interval '7 days' END AS step,
               {", ".join((*(f"x.{d}" for d in family.dims), *(f"x.{m}" for m in family.metrics)))}
        FROM coarse AS x
    ),
    c_up AS (
        INSERT INTO {table} ({", ".join(columns)})
        SELECT grain, (b::timestamp AT TIME ZONE %(tz)s), ((b + step)::timestamp AT TIME ZONE %(tz)s), b, 0,
               {", ".join((*family.dims, *family.metrics))}
        FROM rows ORDER BY grain, b
        RETURNING 1
    )
    SELECT count(*) FROM c_up"""


def _day_ranges_sql(count: int, alias: str = "") -> str:
    col = f"{alias}starts_at"
    return " OR ".join(f"({col} >= %(r{i}_lo)s AND {col} < %(r{i}_hi)s)" for i in range(count))


def snapshot_days_sql(family: Family, index: int, ranges: int) -> str:
    """Keep the day buckets about to be recomputed, so the coarse buckets can move by the difference."""
    columns = ", ".join(("local_date", *family.dims, *family.metrics))
    return (
        f"CREATE TEMP TABLE rollup_old_{index} ON COMMIT DROP AS SELECT {columns} FROM {family.table}"
        f" WHERE grain = 'day' AND ({_day_ranges_sql(ranges)})"
    )


def coarse_delta_sql(family: Family, index: int, grain: str, ranges: int) -> str:
    """Move the week or month buckets by (new − old) of the recomputed day buckets: the hourly job's cost
    follows the days it recomputes, not how many days the month already has."""
    unit, step = {"week": ("week", "interval '7 days'"), "month": ("month", "interval '1 month'")}[grain]
    dims = "".join(f", {d}" for d in family.dims)
    keys = ("grain", "starts_at", *family.dims)
    columns = ("grain", "starts_at", "ends_at", "local_date", "local_hour", *family.dims, *family.metrics)
    return f"""
    WITH diff AS (
        SELECT date_trunc('{unit}', x.local_date)::date AS b{dims}, {", ".join(f"SUM(x.{m}) AS {m}" for m in family.metrics)}
        FROM (
            SELECT local_date{dims}, {", ".join(family.metrics)} FROM {family.table}
            WHERE grain = 'day' AND ({_day_ranges_sql(ranges)})
            UNION ALL
            SELECT local_date{dims}, {", ".join(f"-{m}" for m in family.metrics)} FROM rollup_old_{index}
        ) AS x
        GROUP BY 1{"".join(f", {i + 2}" for i in range(len(family.dims)))}
        HAVING {" OR ".join(f"SUM(x.{m}) <> 0" for m in family.metrics)}
    ),
    moved AS (
        INSERT INTO {family.table} AS t ({", ".join(columns)})
        SELECT '{grain}', (b::timestamp AT TIME ZONE %(tz)s), ((b + {step})::timestamp AT TIME ZONE %(tz)s), b, 0
               {dims}, {", ".join(family.metrics)}
        FROM diff
        ORDER BY b{dims}
        ON CONFLICT ({", ".join(keys)}) DO UPDATE
            SET {", ".join(f"{m} = t.{m} + EXCLUDED.{m}" for m in family.metrics)}
        RETURNING 1
    )
    SELECT count(*) FROM moved
    """


def coarse_prune_sql(family: Family) -> str:
    """Week and month buckets left without any sale or booking (every row counts at least one) go away."""
    count_metric = "bookings" if family is BOOKINGS else "units"
    return (
        f"DELETE FROM {family.table} WHERE grain IN ('week', 'month') AND {count_metric} = 0"
        " AND starts_at >= %(coarse_lo_at)s AND starts_at < %(coarse_hi_at)s"
    )
