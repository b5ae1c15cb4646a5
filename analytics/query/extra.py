"""Query-layer reads the rollups cannot answer: per-customer histories, last-sale dates, baskets, stock since a fill.

Like the rest of the query layer these read raw rows with set-based SQL and hand back small,
already-aggregated results; callers never see individual sales.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from django.core.cache import cache
from django.db import connection

from analytics.filters import Filters
from analytics.periods import Period, local_midnight
from analytics.query import current_chain
from analytics.query.rollup import Watermark, watermark

__all__ = [
    "basket_items",
    "booked_minutes_by_weekday_hour",
    "customer_active_months",
    "customer_history",
    "device_daily_revenue",
    "device_top_products",
    "product_last_sale_dates",
    "slot_revenue",
    "slot_stock_since_fill",
    "visit_serviced_revenue",
]


def _sales_clauses(filters: Filters) -> tuple[str, dict[str, Any]]:
    """SQL conditions (aliases s = sale, d = device, l = location, p = product) for the sales filters."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for name, column, values in (
        ("f_locations", "d.location_id", filters.locations),
        ("f_devices", "s.device_id", filters.devices),
        ("f_device_types", "d.device_type_id", filters.device_types),
        ("f_categories", "p.category_id", filters.categories),
        ("f_regions", "l.region", filters.regions),
    ):
        if values:
            clauses.append(f"{column} = ANY(%({name})s)")
            params[name] = list(values)
    # Venue filters have no meaning for sales: a resource or resource-type filter excludes them all.
    if filters.resources or filters.resource_types:
        clauses.append("FALSE")
    return "".join(f" AND {clause}" for clause in clauses), params


def _booking_clauses(filters: Filters) -> tuple[str, dict[str, Any]]:
    """SQL conditions (aliases b = booking, r = resource, l = location) for the booking filters."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for name, column, values in (
        ("f_locations", "r.location_id", filters.locations),
        ("f_regions", "l.region", filters.regions),
        ("f_resources", "b.resource_id", filters.resources),
        ("f_resource_types", "r.resource_type", filters.resource_types),
    ):
        if values:
            clauses.append(f"{column} = ANY(%({name})s)")
            params[name] = list(values)
    # Device-level filters have no meaning for bookings: a device/category filter excludes them all.
    if filters.devices or filters.device_types or filters.categories:
        clauses.append("FALSE")
    return "".join(f" AND {clause}" for clause in clauses), params


def _fetch(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def product_last_sale_dates(*, product_ids: Sequence[int], before: date, filters: Filters) -> dict[int, date]:
    """Local date of each product's most recent sale before the end of local day `before` (any time in the past).

    One index probe per product (product, sold_at DESC), so the cost is independent of history size.
    """
    if not product_ids:
        return {}
    chain = current_chain()
    _, ends_at = Period(before, before).bounds(chain.tz)
    where, params = _sales_clauses(filters)
    params.update(products=list(product_ids), ends_at=ends_at, tz=chain.time_zone)
    sql = f"""
        SELECT x.id, (last.sold_at AT TIME ZONE %(tz)s)::date
        FROM unnest(%(products)s::bigint[]) AS x(id)
        CROSS JOIN LATERAL (
            SELECT s.sold_at FROM fleet_sale s{_sales_joins(filters)}
            WHERE s.product_id = x.id AND s.sold_at < %(ends_at)s {where}
            ORDER BY s.sold_at DESC LIMIT 1
        ) AS last
    """
    return {int(product_id): day for product_id, day in _fetch(sql, params)}


def _sales_joins(filters: Filters) -> str:
    """Only the joins the filters need: at 10M sales, each needless join costs a third of the scan."""
    joins = ""
    if filters.locations or filters.device_types or filters.regions:
        joins += " JOIN fleet_device d ON d.id = s.device_id JOIN fleet_location l ON l.id = d.location_id"
    if filters.categories:
        joins += " JOIN fleet_product p ON p.id = s.product_id"
    return joins


# Money columns keep 4 decimal places, so sums travel and are cached as exact integers of 1/10,000.
MONEY_SCALE = 10_000
STABLE_CACHE_SECONDS = 2 * 3600

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class _RawSplit:
    """The raw rows of a range cut at the rollup marks: a stable part, cached, and a live part, read each time.

    Stable: event time before W and ingested before I. Those rows only change through ingestion that
    reports a DirtyRange (DEX re-derivation, backfills) or through a rollup job (which moves the
    version), and both are part of the cache key, so a cached stable part always equals the raw rows.
    Live: event time >= W, or ingested at or after I (late data): the same delta the rollup reads add.
    Without a watermark (rollups never built) everything is live and nothing is cached.
    """

    stable: str | None
    live: list[str]
    params: dict[str, Any]
    key: str | None


def _raw_split(period: Period, mark: Watermark | None) -> _RawSplit:
    chain = current_chain()
    lo, hi = period.bounds(chain.tz)
    params: dict[str, Any] = {"range_lo": lo, "range_hi": hi}
    if mark is None:
        return _RawSplit(None, ["s.sold_at >= %(range_lo)s AND s.sold_at < %(range_hi)s"], params, None)
    live = []
    stable = None
    if hi > mark.covered_until:
        params["tail_lo"] = max(lo, mark.covered_until)
        live.append("s.sold_at >= %(tail_lo)s AND s.sold_at < %(range_hi)s")
    if lo < mark.covered_until:
        params.update(stable_hi=min(hi, mark.covered_until), i=mark.ingested_until)
        stable = "s.sold_at >= %(range_lo)s AND s.sold_at < %(stable_hi)s AND s.ingested_at < %(i)s"
        live.append("s.sold_at >= %(range_lo)s AND s.sold_at < %(stable_hi)s AND s.ingested_at >= %(i)s")
    key = None
    if mark.version is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM analytics_dirtyrange")
            dirty = cursor.fetchone()[0]
        key = f"{mark.version}:{dirty}"
    return _RawSplit(stable, live, params, key)


def _cache_key(name: str, version_key: str, sql: str, params: dict[str, Any]) -> str:
    digest = hashlib.sha256(repr((sql, sorted(params.items()))).encode()).hexdigest()[:32]
    return f"analytics-stable:{name}:{version_key}:{digest}"


def _cached(key: str | None, compute: Callable[[], Any]) -> Any:
    """`compute()`, kept in the (tenant-prefixed) cache under `key` when there is one."""
    if key is None:
        return compute()
    hit = cache.get(key)
    if hit is not None:
        return hit
    value = compute()
    cache.set(key, value, STABLE_CACHE_SECONDS)
    return value


def _int_columns(sql: str, params: dict[str, Any], columns: int) -> list[IntArray]:
    """An all-integer result as one int64 array per column (no per-row Python objects kept)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return [np.zeros(0, dtype=np.int64) for _ in range(columns)]
    matrix = np.array(rows, dtype=np.int64).reshape(len(rows), columns)
    return [np.ascontiguousarray(matrix[:, i]) for i in range(columns)]


def _scaled_money(column: str) -> str:
    return f"(SUM({column}) * {MONEY_SCALE})::bigint"


def _to_money(scaled: int) -> Decimal:
    """An exact integer of 1/10,000 back to the Decimal the database would have returned (scale 4)."""
    return Decimal(int(scaled)).scaleb(-4)


def _raw_grouped(
    name: str, *, period: Period, filters: Filters, select: str, group: str, columns: int,
    extra_params: dict[str, Any] | None = None,
) -> list[IntArray]:
    """`select` (integer columns, `group` keys first) over the raw rows of `period`, grouped by `group`: the stable
    part cached, the live part read now, the two summed by key (every non-key column is a sum)."""
    split = _raw_split(period, watermark())
    where, params = _sales_clauses(filters)
    params.update(split.params)
    params.update(extra_params or {})
    joins = _sales_joins(filters)
    keys = len(group.split(","))
    parts: list[list[IntArray]] = []
    if split.stable is not None:
        stable_sql = f"SELECT {select} FROM fleet_sale s{joins} WHERE {split.stable}{where} GROUP BY {group}"
        key = None if split.key is None else _cache_key(name, split.key, stable_sql, params)
        parts.append(_cached(key, lambda: _int_columns(stable_sql, params, columns)))
    if split.live:
        live_sql = " UNION ALL ".join(
            f"SELECT {select} FROM fleet_sale s{joins} WHERE {branch}{where} GROUP BY {group}" for branch in split.live
        )
        parts.append(_int_columns(live_sql, params, columns))
    return _sum_by_keys(parts, keys=keys, width=columns)


def device_top_products(*, period: Period, filters: Filters, top: int = 5) -> dict[int, list[dict[str, Any]]]:
    """Each device's `top` products by revenue in `period` (ties by SKU, in the database's collation).

    No rollup carries devices and products together, so the (device, product) sums come from the raw rows:
    those before the rollup marks once per rollup version (cached, as integer arrays), the live rest on
    every call; the ranking runs vectorised over the summed pairs.
    """
    device, product, revenue, units = _raw_grouped(
        "device-products", period=period, filters=filters, columns=4, group="s.device_id, s.product_id",
        select=f"s.device_id, s.product_id, {_scaled_money('s.amount')}, SUM(s.quantity)::bigint",
    )
    if len(device) == 0:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, sku, name, (rank() OVER (ORDER BY sku))::bigint FROM fleet_product WHERE id = ANY(%s)",
            [np.unique(product).tolist()],
        )
        catalog = {row[0]: row for row in cursor.fetchall()}
    product_ids = np.array(sorted(catalog), dtype=np.int64)
    sku_rank = np.array([catalog[i][3] for i in product_ids.tolist()], dtype=np.int64)
    ranks = sku_rank[np.searchsorted(product_ids, product)]
    order = np.lexsort((ranks, -revenue, device))
    device, product, revenue, units = device[order], product[order], revenue[order], units[order]
    first = np.flatnonzero(np.r_[True, device[1:] != device[:-1]])
    position = np.arange(len(device)) - np.repeat(first, np.diff(np.r_[first, len(device)]))
    keep = np.flatnonzero(position < top)
    result: dict[int, list[dict[str, Any]]] = {}
    for device_id, product_id, cents, count in zip(
        device[keep].tolist(), product[keep].tolist(), revenue[keep].tolist(), units[keep].tolist(), strict=True
    ):
        _, sku, name, _ = catalog[product_id]
        result.setdefault(device_id, []).append(
            {"product_id": product_id, "sku": sku, "name": name, "revenue": _to_money(cents), "units": count}
        )
    return result


def slot_revenue(*, period: Period, filters: Filters) -> list[dict[str, Any]]:
    """Revenue, units and transactions by slot code in `period`: sales_by(by=["slot"]) without the joins no filter needs.

    The part before the rollup marks is cached per rollup version, the live rest read on every call.
    """
    mark = watermark()
    split = _raw_split(period, mark)
    where, params = _sales_clauses(filters)
    params.update(split.params)
    joins = _sales_joins(filters)
    select = f"SELECT s.slot_code, {_scaled_money('s.amount')}, SUM(s.quantity)::bigint, SUM(s.transactions)::bigint"
    totals: dict[str, list[int]] = {}

    def add(rows: list[tuple[Any, ...]]) -> None:
        for slot, revenue, units, transactions in rows:
            into = totals.setdefault(slot, [0, 0, 0])
            into[0] += int(revenue)
            into[1] += int(units)
            into[2] += int(transactions)

    if split.stable is not None:
        stable_sql = f"{select} FROM fleet_sale s{joins} WHERE {split.stable}{where} GROUP BY s.slot_code"
        key = None if split.key is None else _cache_key("slots", split.key, stable_sql, params)
        add(_cached(key, lambda: _fetch(stable_sql, params)))
    for branch in split.live:
        add(_fetch(f"{select} FROM fleet_sale s{joins} WHERE {branch}{where} GROUP BY s.slot_code", params))
    return [
        {"slot": slot, "revenue": _to_money(revenue), "units": units, "transactions": transactions}
        for slot, (revenue, units, transactions) in totals.items()
    ]


def device_daily_revenue(*, period: Period, filters: Filters) -> pd.DataFrame:
    """Each device's revenue per local day of `period`, for the days it sold: columns device_id (int64),
    day (int64, days since period.start), revenue (int64, exact, in 1/10,000 of the currency).

    What sales_by(by=["device", "day"]) answers, without 60,000 dicts: the (day, device) buckets before the
    watermark, read once per rollup version and cached as arrays, plus the live delta from raw rows.
    A category filter (no rollup carries devices and products together) or a chain without rollups reads
    raw rows (the part before the marks cached the same way).
    """
    chain = current_chain()
    local = {"start": period.start, "tz": chain.time_zone}
    select = f"s.device_id, ((s.sold_at AT TIME ZONE %(tz)s)::date - %(start)s::date)::bigint, {_scaled_money('s.amount')}"
    columns: list[IntArray] | None = None
    if not (filters.categories or filters.resources or filters.resource_types):
        for _ in range(3):
            mark = watermark()
            if mark is None:
                break
            buckets = _device_day_buckets(period, mark, filters, local)
            if buckets is None:
                continue  # a rollup job committed meanwhile: read again from its watermark
            split = _raw_split(period, mark)
            where, params = _sales_clauses(filters)
            params.update(split.params, **local)
            parts = [buckets]
            if split.live:
                live_sql = " UNION ALL ".join(
                    f"SELECT {select} FROM fleet_sale s{_sales_joins(filters)} WHERE {branch}{where} GROUP BY 1, 2"
                    for branch in split.live
                )
                parts.append(_int_columns(live_sql, params, 3))
            columns = _sum_by_keys(parts, keys=2, width=3)
            break
    if columns is None:
        columns = _raw_grouped(
            "device-days", period=period, filters=filters, columns=3, group="1, 2", select=select, extra_params=local
        )
    return pd.DataFrame({"device_id": columns[0], "day": columns[1], "revenue": columns[2]})


def _sum_by_keys(parts: list[list[IntArray]], *, keys: int, width: int) -> list[IntArray]:
    """Concatenate column arrays and sum the non-key columns of equal keys (the first `keys` of `width` columns)."""
    parts = [part for part in parts if len(part[0])]
    if not parts:
        return [np.zeros(0, dtype=np.int64) for _ in range(width)]
    if len(parts) == 1:
        return parts[0]
    frame = pd.DataFrame({i: np.concatenate([part[i] for part in parts]) for i in range(width)})
    summed = frame.groupby(list(range(keys)), sort=False, as_index=False).sum()
    return [summed[i].to_numpy(dtype=np.int64) for i in range(width)]


def _device_day_buckets(
    period: Period, mark: Watermark, filters: Filters, local: dict[str, Any]
) -> list[IntArray] | None:
    """The (device, day) buckets of `period` before W, as arrays, cached per rollup version; None when a rollup job
    committed after `mark` was read (the buckets then hold rows the live delta of `mark` also counts)."""
    chain = current_chain()
    bucket_params: dict[str, Any] = {
        "start": local["start"], "starts": [local_midnight(day, chain.tz) for day in period.dates()], "w": mark.covered_until,
    }
    device_where = ""
    for name, column, values in (
        ("f_locations", "d.location_id", filters.locations),
        ("f_devices", "r.device_id", filters.devices),
        ("f_device_types", "d.device_type_id", filters.device_types),
        ("f_regions", "l.region", filters.regions),
    ):
        if values:
            device_where += f" AND {column} = ANY(%({name})s)"
            bucket_params[name] = list(values)
    joins = ""
    if filters.locations or filters.device_types or filters.regions:
        joins = " JOIN fleet_device d ON d.id = r.device_id JOIN fleet_location l ON l.id = d.location_id"
    sql = f"""
        SELECT r.device_id, (r.local_date - %(start)s::date)::bigint, (r.revenue * {MONEY_SCALE})::bigint
        FROM analytics_salesdevicerollup r{joins}
        WHERE r.grain = 'day' AND r.starts_at = ANY(%(starts)s) AND r.starts_at < %(w)s{device_where}
    """
    key = None if mark.version is None else _cache_key("device-day-buckets", str(mark.version), sql, bucket_params)
    if key is not None:
        hit = cache.get(key)
        if hit is not None:
            return list(hit)
    with connection.cursor() as cursor:
        # The statement reads the version itself, so the rows are known to belong to `mark`.
        cursor.execute(
            "SELECT (SELECT (extract(epoch FROM updated_at) * 1000000)::bigint FROM analytics_rollupwatermark"
            f" WHERE id = 1), b.* FROM ({sql}) AS b",
            bucket_params,
        )
        rows = cursor.fetchall()
        if rows:
            version = rows[0][0]
        else:
            cursor.execute("SELECT (extract(epoch FROM updated_at) * 1000000)::bigint FROM analytics_rollupwatermark WHERE id = 1")
            row = cursor.fetchone()
            version = row[0] if row else None
    if version != mark.version:
        return None
    matrix = np.array(rows, dtype=np.int64).reshape(len(rows), 4)
    columns = [np.ascontiguousarray(matrix[:, i]) for i in (1, 2, 3)]
    if key is not None:
        cache.set(key, columns, STABLE_CACHE_SECONDS)
    return columns


def basket_items(*, period: Period, filters: Filters, max_rows: int = 2_000_000) -> list[tuple[str, int]]:
    """(basket, product id) pairs, each once: a basket is one customer's purchases on one local day.

    Sales without a customer cannot be tied to each other and are left out.
    """
    chain = current_chain()
    starts_at, ends_at = period.bounds(chain.tz)
    where, params = _sales_clauses(filters)
    params.update(starts_at=starts_at, ends_at=ends_at, tz=chain.time_zone, max_rows=max_rows)
    sql = f"""
        SELECT DISTINCT s.customer_id::text || ':' || (s.sold_at AT TIME ZONE %(tz)s)::date::text, s.product_id
        FROM fleet_sale s{_sales_joins(filters)}
        WHERE s.customer_id IS NOT NULL AND s.sold_at >= %(starts_at)s AND s.sold_at < %(ends_at)s {where}
        LIMIT %(max_rows)s
    """
    return [(basket, int(product_id)) for basket, product_id in _fetch(sql, params)]


def customer_history(*, until: date, filters: Filters) -> list[dict[str, Any]]:
    """Per customer, everything up to the end of local day `until`: purchases are sales and non-cancelled bookings.

    Returns customer_id, external_ref, first_purchase, last_purchase (local dates), frequency
    (Σ sale transactions + bookings) and monetary (Σ sale amount + booking amount, Decimal).
    """
    chain = current_chain()
    _, ends_at = Period(until, until).bounds(chain.tz)
    sales_where, sales_params = _sales_clauses(filters)
    booking_where, booking_params = _booking_clauses(filters)
    params = {**sales_params, **booking_params, "ends_at": ends_at, "tz": chain.time_zone}
    sql = f"""
        WITH purchases AS (
            SELECT s.customer_id, MIN(s.sold_at) AS first_at, MAX(s.sold_at) AS last_at,
                   SUM(s.transactions) AS frequency, SUM(s.amount) AS monetary
            FROM fleet_sale s{_sales_joins(filters)}
            WHERE s.customer_id IS NOT NULL AND s.sold_at < %(ends_at)s {sales_where}
            GROUP BY s.customer_id
            UNION ALL
            SELECT b.customer_id, MIN(b.starts_at), MAX(b.starts_at), COUNT(*), SUM(b.amount)
            FROM bookings_booking b
            JOIN bookings_resource r ON r.id = b.resource_id
            JOIN fleet_location l ON l.id = r.location_id
            WHERE b.customer_id IS NOT NULL AND b.status <> 'cancelled' AND b.starts_at < %(ends_at)s {booking_where}
            GROUP BY b.customer_id
        )
        SELECT c.id, c.external_ref, (MIN(x.first_at) AT TIME ZONE %(tz)s)::date,
               (MAX(x.last_at) AT TIME ZONE %(tz)s)::date, SUM(x.frequency)::bigint, SUM(x.monetary)
        FROM purchases x JOIN fleet_customer c ON c.id = x.customer_id
        GROUP BY c.id, c.external_ref
        ORDER BY c.external_ref
    """
    return [
        {
            "customer_id": int(customer_id),
            "external_ref": ref,
            "first_purchase": first,
            "last_purchase": last,
            "frequency": int(frequency),
            "monetary": Decimal(monetary),
        }
        for customer_id, ref, first, last, frequency, monetary in _fetch(sql, params)
    ]


def customer_active_months(*, period: Period, filters: Filters) -> list[tuple[int, date]]:
    """(customer id, first day of the local month) for every month of `period` in which the customer bought or booked.

    Purchases are sales with a customer and non-cancelled bookings; both are read through their
    (customer, time) indexes, so anonymous sales cost nothing.
    """
    chain = current_chain()
    starts_at, ends_at = period.bounds(chain.tz)
    sales_where, sales_params = _sales_clauses(filters)
    booking_where, booking_params = _booking_clauses(filters)
    params = {**sales_params, **booking_params, "starts_at": starts_at, "ends_at": ends_at, "tz": chain.time_zone}
    sql = f"""
        SELECT s.customer_id, date_trunc('month', s.sold_at AT TIME ZONE %(tz)s)::date
        FROM fleet_sale s{_sales_joins(filters)}
        WHERE s.customer_id IS NOT NULL AND s.sold_at >= %(starts_at)s AND s.sold_at < %(ends_at)s {sales_where}
        UNION
        SELECT b.customer_id, date_trunc('month', b.starts_at AT TIME ZONE %(tz)s)::date
        FROM bookings_booking b
        JOIN bookings_resource r ON r.id = b.resource_id
        JOIN fleet_location l ON l.id = r.location_id
        WHERE b.customer_id IS NOT NULL AND b.status <> 'cancelled'
          AND b.starts_at >= %(starts_at)s AND b.starts_at < %(ends_at)s {booking_where}
    """
    return [(int(customer_id), month) for customer_id, month in _fetch(sql, params)]


def booked_minutes_by_weekday_hour(*, period: Period, filters: Filters) -> dict[tuple[int, int], float]:
    """Minutes of non-cancelled bookings (starting in `period`) that fall in each local (ISO weekday, hour) cell.

    A booking is split over the local clock hours it overlaps, so a 90-minute booking from 18:00
    puts 60 minutes in hour 18 and 30 in hour 19. Local wall-clock time, as opening hours are.
    """
    chain = current_chain()
    starts_at, ends_at = period.bounds(chain.tz)
    where, params = _booking_clauses(filters)
    params.update(starts_at=starts_at, ends_at=ends_at, tz=chain.time_zone)
    sql = f"""
        WITH local AS (
            SELECT (b.starts_at AT TIME ZONE %(tz)s) AS ls, (b.ends_at AT TIME ZONE %(tz)s) AS le
            FROM bookings_booking b
            JOIN bookings_resource r ON r.id = b.resource_id
            JOIN fleet_location l ON l.id = r.location_id
            WHERE b.status <> 'cancelled' AND b.starts_at >= %(starts_at)s AND b.starts_at < %(ends_at)s {where}
        )
        SELECT extract(isodow FROM h)::int, extract(hour FROM h)::int,
               SUM(EXTRACT(EPOCH FROM (LEAST(le, h + interval '1 hour') - GREATEST(ls, h))) / 60)
        FROM local
        CROSS JOIN LATERAL generate_series(date_trunc('hour', ls), le - interval '1 microsecond', interval '1 hour') AS h
        GROUP BY 1, 2
    """
    return {(int(weekday), int(hour)): float(minutes) for weekday, hour, minutes in _fetch(sql, params)}


def visit_serviced_revenue(*, visit_ids: Sequence[int]) -> dict[int, Decimal]:
    """Revenue each visited machine took since its previous completed service visit, up to this (completed) visit.

    A machine's first recorded service has no window and is left out (its revenue counts as 0).
    """
    if not visit_ids:
        return {}
    sql = """
        WITH visits AS (
            SELECT v.id, v.device_id, v.visited_at,
                   LAG(v.visited_at) OVER (PARTITION BY v.device_id ORDER BY v.visited_at, v.id) AS previous_at
            FROM routes_servicevisit v
            WHERE v.completed AND v.device_id IN (SELECT device_id FROM routes_servicevisit WHERE id = ANY(%(visits)s))
        )
        SELECT x.id, COALESCE(SUM(s.amount), 0)
        FROM visits x
        LEFT JOIN fleet_sale s ON s.device_id = x.device_id AND s.sold_at <= x.visited_at
             AND (x.previous_at IS NULL OR s.sold_at > x.previous_at)
        WHERE x.id = ANY(%(visits)s) AND x.previous_at IS NOT NULL
        GROUP BY x.id
    """
    return {int(visit_id): Decimal(revenue) for visit_id, revenue in _fetch(sql, {"visits": list(visit_ids)})}


def slot_stock_since_fill(*, filters: Filters, now: datetime) -> list[dict[str, Any]]:
    """Every slot of the planograms in force: its last fill (level_after, when) and the units sold from it since.

    Units sold since = Σ quantity of the device's sales with that slot code after the fill's visit
    and up to `now`. A slot never filled has level_after and filled_at None.
    """
    clauses: list[str] = []
    params: dict[str, Any] = {"now": now}
    for name, column, values in (
        ("f_locations", "d.location_id", filters.locations),
        ("f_devices", "ps.device_id", filters.devices),
        ("f_device_types", "d.device_type_id", filters.device_types),
        ("f_categories", "p.category_id", filters.categories),
        ("f_regions", "l.region", filters.regions),
    ):
        if values:
            clauses.append(f" AND {column} = ANY(%({name})s)")
            params[name] = list(values)
    sql = f"""
        SELECT ps.id, ps.device_id, d.asset, ps.slot_code, ps.product_id, p.sku, p.name, ps.capacity, ps.par_level,
               lf.level_after, lf.visited_at,
               CASE WHEN lf.visited_at IS NULL THEN 0 ELSE COALESCE((
                   SELECT SUM(s.quantity) FROM fleet_sale s
                   WHERE s.device_id = ps.device_id AND s.slot_code = ps.slot_code
                     AND s.sold_at > lf.visited_at AND s.sold_at <= %(now)s
               ), 0) END
        FROM fleet_planogramslot ps
        JOIN fleet_device d ON d.id = ps.device_id
        JOIN fleet_location l ON l.id = d.location_id
        JOIN fleet_product p ON p.id = ps.product_id
        LEFT JOIN LATERAL (
            SELECT f.level_after, v.visited_at FROM routes_slotfill f
            JOIN routes_servicevisit v ON v.id = f.visit_id
            WHERE f.slot_id = ps.id AND v.visited_at <= %(now)s
            ORDER BY v.visited_at DESC, v.id DESC LIMIT 1
        ) lf ON TRUE
        WHERE ps.valid_to IS NULL AND d.retired_at IS NULL {"".join(clauses)}
        ORDER BY d.asset, ps.slot_code
    """
    columns = (
        "slot_id", "device_id", "asset", "slot_code", "product_id", "sku", "product_name", "capacity", "par_level",
        "level_after", "filled_at", "sold_since",
    )
    return [dict(zip(columns, row, strict=True)) for row in _fetch(sql, params)]
