"""Answer sales and booking questions from the rollup buckets plus the live delta from raw rows.

A range [start, end] of local dates is cut into the coarsest buckets that fit inside it: whole
months, then whole ISO weeks in what is left at either edge, then days (hours only for hour-of-day
questions). Buckets hold the raw rows before the watermark W that were ingested before the mark I;
the live delta adds the raw rows of the range with event time >= W (bounded: [max(start, W), end),
skipped when the range ends before W) and the rows ingested since I (late data, found through the
ingested_at index). Everything is summed in one SQL statement.

Questions no rollup family carries (customer, payment method, hours of devices or products) return
None, and the caller falls back to analytics.query.raw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from analytics.filters import (
    BOOKING_ROLLUP,
    CHAIN_ROLLUP,
    DEVICE_ROLLUP,
    PRODUCT_ROLLUP,
    RAW_BOOKINGS,
    RAW_SALES,
    SLOT_ROLLUP,
    AliasSet,
    Filters,
)
from analytics.periods import Period, local_midnight, next_month
from analytics.query.cache import BUCKETS
from analytics.query.marks import (
    Watermark,
    fetch_versioned,
    live_delta,
    pinned_fingerprints,
    read_at_marks,
    same_watermark,
    watermark,
)
from analytics.query.raw import BOOKING_DIMENSIONS, SALES_DIMENSIONS

__all__ = [  # the marks are re-exported for the callers that read them with the rollup questions
    "Ranking",
    "Watermark",
    "bookings_by_rollup",
    "decompose",
    "revenue_order",
    "sales_by_rollup",
    "sales_ranked_rollup",
    "same_watermark",
    "watermark",
]

TIME_DIMS = ("day", "week", "month", "weekday", "hour_of_day")

# Which dimensions and filters each sales family answers; the first family that covers a question wins.
_DEVICE_DIMS = {"device", "location", "region", "city", "device_type"}
_PRODUCT_DIMS = {"product", "category"}
_SLOT_DIMS = _DEVICE_DIMS | _PRODUCT_DIMS | {"slot"}


def decompose(start: date, end: date, grains: Sequence[str]) -> dict[str, list[date]]:
    """Cut [start, end] into bucket starts: whole months, whole ISO weeks at the edges, then days."""
    out: dict[str, list[date]] = {"month": [], "week": [], "day": []}
    segments = [(start, end)]
    if "month" in grains:
        first_month = start if start.day == 1 else next_month(start)
        month, rest = first_month, []
        while next_month(month) - timedelta(days=1) <= end:
            out["month"].append(month)
            month = next_month(month)
        if out["month"]:
            if start < first_month:
                rest.append((start, first_month - timedelta(days=1)))
            if month <= end:
                rest.append((month, end))
            segments = rest
    if "week" in grains:
        rest = []
        for seg_start, seg_end in segments:
            monday = seg_start + timedelta(days=(7 - seg_start.weekday()) % 7)
            week = monday
            weeks = []
            while week + timedelta(days=6) <= seg_end:
                weeks.append(week)
                week += timedelta(days=7)
            if weeks:
                out["week"].extend(weeks)
                if seg_start < monday:
                    rest.append((seg_start, monday - timedelta(days=1)))
                if week <= seg_end:
                    rest.append((week, seg_end))
            else:
                rest.append((seg_start, seg_end))
        segments = rest
    for seg_start, seg_end in segments:
        out["day"].extend(seg_start + timedelta(days=i) for i in range((seg_end - seg_start).days + 1))
    return out


def _grains_for(time_dims: set[str]) -> tuple[str, ...] | None:
    """The bucket grains whose local labels still determine every requested time dimension."""
    if "hour_of_day" in time_dims:
        return ("hour",)
    if time_dims & {"day", "weekday"} or {"week", "month"} <= time_dims:
        return ("day",)
    if "week" in time_dims:
        return ("week", "day")
    if "month" in time_dims:
        return ("month", "day")
    return ("month", "week", "day")


# Time dimensions from a bucket's local start (local_date, local_hour) and from a raw row's local time.
_BUCKET_TIME = {
    "day": "r.local_date",
    "week": "date_trunc('week', r.local_date)::date",
    "month": "date_trunc('month', r.local_date)::date",
    "weekday": "extract(isodow FROM r.local_date)::int",
    "hour_of_day": "r.local_hour",
}


# The aliases a dimension's column needs, in the rollup rows and in the raw rows.
_DIM_ALIASES = {"location": ("d",), "device_type": ("d",), "region": ("l",), "city": ("l",), "category": ("p",)}


def _dim_aliases(by: Sequence[str]) -> tuple[str, ...]:
    return tuple(alias for dim in by for alias in _DIM_ALIASES.get(dim, ()))


def _sales_family(by: Sequence[str], filters: Filters) -> tuple[str, AliasSet, dict[str, str], str] | None:
    """(table, alias set, dimension expressions over the rollup row `r`, kind) of the first rollup family that
    carries the question's dimensions and filters, or None (the caller reads raw rows)."""
    dims = {d for d in by if d not in TIME_DIMS}
    if not dims and not filters.active():
        return ("analytics_saleschainrollup", CHAIN_ROLLUP, {}, "chain")
    if "hour_of_day" in by:
        return None  # only the chain family keeps hours
    if dims == {"slot"} and not filters.active():
        return ("analytics_salesslotcoderollup", CHAIN_ROLLUP, {"slot": "r.slot_code"}, "slot_code")
    if dims <= _DEVICE_DIMS and filters.carried_by(DEVICE_ROLLUP):
        return (
            "analytics_salesdevicerollup",
            DEVICE_ROLLUP,
            {"device": "r.device_id", "location": "d.location_id", "region": "l.region", "city": "l.city",
             "device_type": "d.device_type_id"},
            "device",
        )
    if dims <= _PRODUCT_DIMS and filters.carried_by(PRODUCT_ROLLUP):
        return ("analytics_salesproductrollup", PRODUCT_ROLLUP, {"product": "r.product_id", "category": "p.category_id"}, "product")
    if dims <= _SLOT_DIMS and filters.carried_by(SLOT_ROLLUP):
        # Devices (or their places) with products (or categories), slots: the finest family, read last.
        return (
            "analytics_salesslotrollup",
            SLOT_ROLLUP,
            {"device": "r.device_id", "location": "d.location_id", "region": "l.region", "city": "l.city",
             "device_type": "d.device_type_id", "product": "r.product_id", "category": "p.category_id",
             "slot": "r.slot_code"},
            "slot",
        )
    return None


def _bucket_where(
    starts: dict[str, list[date]], grains: Sequence[str], period: Period, tz: ZoneInfo, mark: Watermark, params: dict[str, Any]
) -> str:
    params["w"] = mark.covered_until
    if grains == ("hour",):
        lo, hi = period.bounds(tz)
        params.update(hour_lo=lo, hour_hi=hi)
        return "r.grain = 'hour' AND r.starts_at >= %(hour_lo)s AND r.starts_at < %(hour_hi)s AND r.starts_at < %(w)s"
    parts = []
    for grain in ("month", "week", "day"):
        if starts.get(grain):
            params[f"b_{grain}"] = [local_midnight(d, tz) for d in starts[grain]]
            parts.append(f"(r.grain = '{grain}' AND r.starts_at = ANY(%(b_{grain})s))")
    if not parts:
        return "false"
    return "(" + " OR ".join(parts) + ") AND r.starts_at < %(w)s"


def _fetch(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [col[0] for col in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def sales_by_rollup(
    *, period: Period, tz: ZoneInfo, filters: Filters, by: Sequence[str], mark: Watermark | None,
    count_only: bool = False,
) -> list[dict[str, Any]] | None:
    """Like sales_by_raw, from buckets + live delta; None when no rollup family answers the question."""
    if mark is None:
        return None
    return read_at_marks(
        lambda at: _sales_by_rollup(period=period, tz=tz, filters=filters, by=by, mark=at, count_only=count_only),
        mark=mark,
    )


@dataclass(frozen=True)
class _SalesSql:
    """The two halves of a sales question: bucket rows and live-delta raw rows, each selecting `by`, then
    revenue, units and transactions."""

    by: list[str]
    bucket_rows: str  # bucket rows, one per bucket (not grouped)
    bucket_params: dict[str, Any]
    delta_rows: list[str]  # raw-row SELECTs of the live delta (none when the range ends before W)
    params: dict[str, Any]  # for both halves
    delta_where: list[str]  # the delta's conditions on fleet_sale s alone (no filters): see _answer

    @property
    def group(self) -> str:
        return f"GROUP BY {', '.join(str(i + 1) for i in range(len(self.by)))}" if self.by else ""

    @property
    def names(self) -> str:
        return "".join(f"{d}, " for d in self.by)

    def merged(self) -> str:
        """Buckets and delta summed per group, in one statement."""
        union = " UNION ALL ".join([self.bucket_rows, *self.delta_rows])
        return f"""
            SELECT {self.names}SUM(revenue) AS revenue, SUM(units)::bigint AS units,
                   SUM(transactions)::bigint AS transactions
            FROM ({union}) AS u ({self.names}revenue, units, transactions)
            {self.group}"""


def _sales_sql(
    *, period: Period, tz: ZoneInfo, filters: Filters, by: Sequence[str], mark: Watermark | None, keys_only: bool = False
) -> _SalesSql | None:
    """The question's SQL halves; `keys_only`: the rows select the dimensions alone (which groups exist)."""
    family = _sales_family(by, filters)
    if family is None or mark is None:
        return None
    table, aliases, dim_sql, kind = family
    grains = _grains_for({d for d in by if d in TIME_DIMS})
    assert grains is not None
    if grains == ("hour",) and kind != "chain":
        return None
    params: dict[str, Any] = {"tz": str(tz)}
    starts = decompose(period.start, period.end, grains) if grains != ("hour",) else {}

    bucket_dims = [f"{_BUCKET_TIME[d] if d in TIME_DIMS else dim_sql[d]} AS {d}" for d in by]
    raw_dims = [f"{SALES_DIMENSIONS[d]} AS {d}" for d in by]
    # Join the catalog only as far as the question needs: a join over every bucket row is most of the cost.
    rollup_scope = filters.scope(aliases, need=_dim_aliases(by))
    raw_scope = filters.scope(RAW_SALES, need=_dim_aliases(by))
    if rollup_scope is None or raw_scope is None:
        return None
    joins, filter_sql = rollup_scope.joins, rollup_scope.where
    params.update(rollup_scope.params, **raw_scope.params)

    columns = ", ".join([*bucket_dims, *(() if keys_only else ("r.revenue", "r.units", "r.transactions"))])
    where = _bucket_where(starts, grains, period, tz, mark, params)
    if grains == ("hour",) or where == "false":
        bucket_rows = f"SELECT {columns} FROM {table} r{joins} WHERE {where}{filter_sql}"
    else:
        # One index range per bucket start (an index-only scan each, no recheck of a long OR per row),
        # rather than one bitmap scan whose every row is tested against every start.
        # LATERAL: a nested loop over the few starts whatever the planner's estimates (a merge join would read
        # every bucket of the grain).
        bucket_rows = " UNION ALL ".join(
            f"SELECT x.* FROM unnest(%(b_{grain})s::timestamptz[]) AS b(starts_at) CROSS JOIN LATERAL ("
            f"SELECT {columns} FROM {table} r{joins}"
            f" WHERE r.grain = '{grain}' AND r.starts_at = b.starts_at AND r.starts_at < %(w)s{filter_sql}"
            " OFFSET 0) AS x"  # not pulled up into a join the planner may reorder
            for grain in ("month", "week", "day")
            if starts.get(grain)
        )
    bucket_params = dict(params)
    lo, hi = period.bounds(tz)
    branches = live_delta("s.sold_at", "s.ingested_at", lo=lo, hi=hi, mark=mark, params=params)
    delta_rows = [
        f"""SELECT {", ".join([*raw_dims, *(() if keys_only else ("s.amount", "s.quantity::bigint", "s.transactions::bigint"))])}
            FROM fleet_sale s{raw_scope.joins}
            WHERE {branch}{raw_scope.where}"""
        for branch in branches
    ]
    return _SalesSql(list(by), bucket_rows, bucket_params, delta_rows, params, branches)


def _sales_by_rollup(
    *, period: Period, tz: ZoneInfo, filters: Filters, by: Sequence[str], mark: Watermark | None,
    count_only: bool = False,
) -> list[dict[str, Any]] | None:
    q = _sales_sql(period=period, tz=tz, filters=filters, by=by, mark=mark, keys_only=count_only)
    if q is None or mark is None:
        return None
    if count_only:
        # Only how many groups exist: counted where the rows are, nothing but one number comes back.
        union = " UNION ".join(
            [f"SELECT {', '.join(by)} FROM ({q.bucket_rows}) AS b", *(f"SELECT {', '.join(by)} FROM ({d}) AS d"
                                                                     for d in q.delta_rows)]
        )
        (count,) = _answer(f"SELECT count(*) FROM ({union}) AS g", q.params, mark, q)
        return [{"n": int(count[0])}]
    delta: list[dict[str, Any]] = []
    if q.delta_rows:
        delta = _fetch(
            f"""
            SELECT {q.names}SUM(revenue) AS revenue, SUM(units)::bigint AS units, SUM(transactions)::bigint AS transactions
            FROM ({" UNION ALL ".join(q.delta_rows)}) AS u ({q.names}revenue, units, transactions)
            {q.group}
            """,
            q.params,
        )
    bucket_sql = f"""
        SELECT {q.names}SUM(revenue) AS revenue, SUM(units)::bigint AS units, SUM(transactions)::bigint AS transactions
        FROM ({q.bucket_rows}) AS b ({q.names}revenue, units, transactions)
        {q.group}"""
    # Bucket rows are fresh objects (built here or unpickled from the cache), so they are summed into in
    # place; only the live delta's few rows are looked up by key.
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    columns = [*by, "revenue", "units", "transactions"]
    # The bucket part alone: cached per version (tuples pickle several times faster than a dict per row).
    bucket_rows = _answer(bucket_sql, q.bucket_params, mark)
    width = len(by)
    for values in bucket_rows:
        if values[-3] is not None:
            merged[values[:width]] = dict(zip(columns, values, strict=True))
    for row in delta:
        if row["revenue"] is None:
            continue
        key = tuple(row[d] for d in by)
        into = merged.get(key)
        if into is None:
            merged[key] = dict(row)
        else:
            into["revenue"] += row["revenue"]
            into["units"] += row["units"]
            into["transactions"] += row["transactions"]
    return list(merged.values())


@dataclass(frozen=True)
class Ranking:
    """How many groups of the first dimension have sales, and per dimension its `limit` best rows by revenue
    (ties: smallest key first), each {dimension: key, revenue, units, transactions}."""

    groups: int
    top: dict[str, list[dict[str, Any]]]


# Dimensions that are a column of the first dimension's own row.
_ATTRIBUTES = {"device": {"location": "location_id", "device_type": "device_type_id"}, "product": {"category": "category_id"}}


def sales_ranked_rollup(
    *, period: Period, tz: ZoneInfo, filters: Filters, by: Sequence[str], limit: int, mark: Watermark | None
) -> Ranking | None:
    """The top rows per dimension of `by` (the first the finest; the others determined by it, e.g. a device's
    location), ranked in the database: buckets and live delta are summed and ranked in one statement, so
    only the winners come back, not a row per device."""
    attributes = _ATTRIBUTES.get(by[0], {})
    late_join = all(dim in attributes for dim in by[1:])
    if mark is None or _sales_family(by[:1] if late_join else by, filters) is None:
        return None

    def read(at: Watermark | None) -> Ranking | None:
        # A device's location (a product's category) is joined to the summed groups, not to every bucket row.
        q = _sales_sql(period=period, tz=tz, filters=filters, by=by[:1] if late_join else by, mark=at)
        if q is None or at is None:
            return None
        merged = q.merged()
        if late_join and len(by) > 1:
            table = {"device": "fleet_device", "product": "fleet_product"}[by[0]]
            merged = (
                f"SELECT g.{by[0]}, {', '.join(f'a.{attributes[dim]} AS {dim}' for dim in by[1:])},"
                f" g.revenue, g.units, g.transactions FROM ({merged}) AS g JOIN {table} a ON a.id = g.{by[0]}"
            )
        parts = ["(SELECT -1 AS part, NULL AS key, NULL::numeric AS revenue, NULL::bigint AS units,"
                 " count(*)::bigint AS transactions FROM m)"]
        # m is grouped by the first dimension already: its rows are ranked as they are.
        parts.append(f"(SELECT 0, {by[0]}, revenue, units, transactions FROM m ORDER BY 3 DESC, 2 LIMIT %(rank_limit)s)")
        parts += [
            f"(SELECT {i}, {dim}, SUM(revenue), SUM(units)::bigint, SUM(transactions)::bigint"
            f" FROM m GROUP BY {dim} ORDER BY 3 DESC, 2 LIMIT %(rank_limit)s)"
            for i, dim in enumerate(by[1:], start=1)
        ]
        sql = f"WITH m AS MATERIALIZED ({merged}) " + " UNION ALL ".join(parts)
        rows = _answer(sql, {**q.params, "rank_limit": limit}, at, q)
        top: dict[str, list[dict[str, Any]]] = {dim: [] for dim in by}
        groups = 0
        for part, key, revenue, units, transactions in rows:
            if part < 0:
                groups = int(transactions)
            else:
                top[by[part]].append({by[part]: key, "revenue": revenue, "units": units, "transactions": transactions})
        for dim, ranked in top.items():  # UNION ALL does not keep each part's order
            ranked.sort(key=revenue_order(dim))
        return Ranking(groups=groups, top=top)

    return read_at_marks(read, mark=mark)


def revenue_order(dim: str) -> Callable[[dict[str, Any]], tuple[Any, Any]]:
    """Sort key of a ranking: highest revenue first, ties by the smallest `dim` value."""
    return lambda row: (-row["revenue"], row[dim])


def _answer(sql: str, params: dict[str, Any], mark: Watermark, q: _SalesSql | None = None) -> list[tuple[Any, ...]]:
    """The rows of a statement over buckets and (with `q`) the live delta of `q`, cached until either changes.

    The buckets cannot change until a rollup job moves the version; the live delta's raw rows are
    fingerprinted on every call (their count and the sum of a 64-bit hash of each whole row, over the
    delta's time bounds without the question's filters: a superset, so any change of a row that could
    count changes the key). One indexed read of the recent rows instead of the whole question; a new
    sale, a late one, a correction or a deletion makes a new key.
    """
    def key(fingerprint: str) -> str:
        return BUCKETS.key(mark.version, digest_of=(sql, sorted(params.items()), fingerprint))

    if mark.version is None:
        return fetch_versioned(sql, params, mark)
    hit = BUCKETS.get(key(_delta_fingerprint(q) if q is not None else ""))
    if hit is not None:
        return list(hit)
    # Stored under the fingerprint read in the same statement (one snapshot) as the answer itself.
    found = _fingerprint_sql(q) if q is not None else None
    extra = f"({found[0]})" if found else "''"
    fingerprint, rows = fetch_versioned(sql, {**params, **(found[1] if found else {})}, mark, extra=extra)
    BUCKETS.set(key(str(fingerprint)), rows)
    return rows


def _fingerprint_sql(q: _SalesSql) -> tuple[str, dict[str, Any]] | None:
    if not q.delta_where:
        return None
    sql = (
        "SELECT count(*) || ':' || coalesce(sum(hashtextextended(s::text, 0)::numeric), 0) FROM fleet_sale s"
        f" WHERE {' OR '.join(f'({branch})' for branch in q.delta_where)}"
    )
    return sql, {name: value for name, value in q.params.items() if f"%({name})s" in sql}


def _delta_fingerprint(q: _SalesSql) -> str:
    """See _answer; the questions of one page (same_watermark) over the same range share one reading for
    their cache lookups."""
    found = _fingerprint_sql(q)
    if found is None:
        return ""
    sql, params = found
    key = (sql, tuple(sorted(params.items())))
    pinned = pinned_fingerprints()
    if pinned is not None and key in pinned:
        return pinned[key]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fingerprint = str(cursor.fetchone()[0])
    if pinned is not None:
        pinned[key] = fingerprint
    return fingerprint


_BOOKING_FAMILY_DIMS = {
    "resource": "r.resource_id",
    "resource_type": "res.resource_type",
    "location": "res.location_id",
    "region": "l.region",
    "status": "r.status",
}


def bookings_by_rollup(
    *, period: Period, tz: ZoneInfo, filters: Filters, by: Sequence[str], mark: Watermark | None
) -> list[dict[str, Any]] | None:
    """Like bookings_by_raw, from buckets + live delta; None for customer or hour-of-day questions."""
    if mark is None or any(d not in _BOOKING_FAMILY_DIMS and d not in TIME_DIMS for d in by) or "hour_of_day" in by:
        return None
    grains = _grains_for({d for d in by if d in TIME_DIMS})
    assert grains is not None
    params: dict[str, Any] = {"tz": str(tz)}
    starts = decompose(period.start, period.end, grains)
    bucket_dims = [f"{_BUCKET_TIME[d] if d in TIME_DIMS else _BOOKING_FAMILY_DIMS[d]} AS {d}" for d in by]
    raw_dims = [f"{BOOKING_DIMENSIONS[d]} AS {d}" for d in by]
    rollup_scope = filters.scope(BOOKING_ROLLUP, joined=("res", "l"))
    raw_scope = filters.scope(RAW_BOOKINGS, joined=("r", "l"))
    if rollup_scope is None or raw_scope is None:
        return None
    params.update(rollup_scope.params, **raw_scope.params)
    selects = [
        f"""SELECT {", ".join([*bucket_dims, "r.status", "r.bookings", "r.booked_seconds", "r.revenue"])}
            FROM analytics_bookingrollup r
            JOIN bookings_resource res ON res.id = r.resource_id
            JOIN fleet_location l ON l.id = res.location_id
            WHERE {_bucket_where(starts, grains, period, tz, mark, params)}{rollup_scope.where}"""
    ]
    lo, hi = period.bounds(tz)
    for branch in live_delta("b.starts_at", "b.ingested_at", lo=lo, hi=hi, mark=mark, params=params):
        selects.append(
            f"""SELECT {", ".join([*raw_dims, "b.status", "1::bigint",
                                   "extract(epoch FROM b.ends_at - b.starts_at)", "b.amount"])}
            FROM bookings_booking b
            JOIN bookings_resource r ON r.id = b.resource_id
            JOIN fleet_location l ON l.id = r.location_id
            WHERE {branch}{raw_scope.where}"""
        )
    names = "".join(f"{d}, " for d in by)
    group = f"GROUP BY {', '.join(str(i + 1) for i in range(len(by)))}" if by else ""
    sql = f"""
        SELECT {names}
            COALESCE(SUM(n), 0) AS bookings,
            COALESCE(SUM(n) FILTER (WHERE st = 'cancelled'), 0) AS cancelled,
            COALESCE(SUM(n) FILTER (WHERE st = 'no_show'), 0) AS no_shows,
            COALESCE(SUM(n) FILTER (WHERE st IN ('paid', 'completed')), 0) AS paid_or_completed,
            COALESCE(SUM(secs) FILTER (WHERE st <> 'cancelled') / 60, 0)::numeric(14, 2) AS booked_minutes,
            COALESCE(SUM(amt) FILTER (WHERE st <> 'cancelled'), 0) AS revenue
        FROM ({" UNION ALL ".join(selects)}) AS u ({names}st, n, secs, amt)
        {group}
    """
    rows = _fetch(sql, params)
    for row in rows:
        for key in ("bookings", "cancelled", "no_shows", "paid_or_completed"):
            row[key] = int(row[key])
    if not by and rows and rows[0]["bookings"] == 0:
        return []
    return rows
