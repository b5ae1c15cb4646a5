"""Query-layer reads the rollups cannot answer: per-customer histories, last-sale dates, baskets, stock since a fill.

Like the rest of the query layer these read raw rows with set-based SQL and hand back small,
already-aggregated results; callers never see individual sales. The per-device reads of asset-sales and the
slot revenue of product-sales keep the part of a range before the rollup marks cached and catch up with the
marks by reading only the rows in between (see _raw_grouped); money travels there as exact integers of 1/10,000.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from django.core.cache import cache
from django.db import connection

from analytics.filters import DEVICE_ROLLUP, PLANOGRAM, RAW_BOOKINGS, RAW_SALES, Filters, Scope
from analytics.periods import Period, local_midnight
from analytics.query import current_chain, sales_by
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


def _sales_scope(filters: Filters) -> Scope:
    """The filters over raw sales (s, d, l, p): raw rows carry every filter; a venue filter selects none."""
    scope = filters.scope(RAW_SALES)
    assert scope is not None
    return scope


def _booking_scope(filters: Filters) -> Scope:
    """The filters over raw bookings (b, r, l, always joined here): a machine or product filter selects none."""
    scope = filters.scope(RAW_BOOKINGS, joined=("r", "l"))
    assert scope is not None
    return scope


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
    scope = _sales_scope(filters)
    where, params = scope.where, dict(scope.params)
    params.update(products=list(product_ids), ends_at=ends_at, tz=chain.time_zone)
    sql = f"""
        SELECT x.id, (last.sold_at AT TIME ZONE %(tz)s)::date
        FROM unnest(%(products)s::bigint[]) AS x(id)
        CROSS JOIN LATERAL (
            SELECT s.sold_at FROM fleet_sale s{scope.joins}
            WHERE s.product_id = x.id AND s.sold_at < %(ends_at)s {where}
            ORDER BY s.sold_at DESC LIMIT 1
        ) AS last
    """
    return {int(product_id): day for product_id, day in _fetch(sql, params)}


# Money columns keep 4 decimal places, so sums travel and are cached as exact integers of 1/10,000.
MONEY_SCALE = 10_000
STABLE_CACHE_SECONDS = 2 * 3600

IntArray = npt.NDArray[np.int64]


def _dirty_signature() -> tuple[int, int, int]:
    """Which changed ranges ingestion has reported and no job has processed yet: any commit or job changes it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), COALESCE(SUM(id), 0), COALESCE(MAX(id), 0) FROM analytics_dirtyrange")
        count, total, last = cursor.fetchone()
    return int(count), int(total), int(last)


def _columns(sql: str, params: dict[str, Any], width: int, *, text_key: bool = False) -> list[npt.NDArray[Any]]:
    """A result as one array per column: int64, except a text first column when `text_key`."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        empty = [np.zeros(0, dtype=np.int64) for _ in range(width)]
        if text_key:
            empty[0] = np.zeros(0, dtype=object)
        return empty
    if text_key:
        matrix = np.array(rows, dtype=object).reshape(len(rows), width)
        return [matrix[:, 0].copy(), *(matrix[:, i].astype(np.int64) for i in range(1, width))]
    ints = np.array(rows, dtype=np.int64).reshape(len(rows), width)
    return [np.ascontiguousarray(ints[:, i]) for i in range(width)]


def _int_columns(sql: str, params: dict[str, Any], width: int) -> list[IntArray]:
    return _columns(sql, params, width)


def _sum_by_keys(parts: list[list[npt.NDArray[Any]]], *, keys: int, width: int) -> list[npt.NDArray[Any]]:
    """Concatenate column arrays and sum the non-key columns of equal keys (the first `keys` of `width` columns)."""
    parts = [part for part in parts if len(part[0])]
    if not parts:
        return [np.zeros(0, dtype=np.int64) for _ in range(width)]
    if len(parts) == 1:
        return parts[0]
    frame = pd.DataFrame({i: np.concatenate([part[i] for part in parts]) for i in range(width)})
    summed = frame.groupby(list(range(keys)), sort=False, as_index=False).sum()
    return [summed[i].to_numpy() for i in range(width)]


def _scaled_money(column: str) -> str:
    return f"(SUM({column}) * {MONEY_SCALE})::bigint"


def _to_money(scaled: int) -> Decimal:
    """An exact integer of 1/10,000 back to the Decimal the database would have returned (scale 4)."""
    return Decimal(int(scaled)).scaleb(-4)


def _raw_grouped(
    name: str, *, period: Period, filters: Filters, select: str, group: str, width: int,
    sums: dict[str, int], extra_params: dict[str, Any] | None = None, text_key: bool = False,
    mark: Watermark | None = None, full_read: Callable[[], list[npt.NDArray[Any]]] | None = None,
) -> list[npt.NDArray[Any]]:
    """`select` (`group` keys first, then integer sums) over the raw rows of `period`, grouped by `group`.

    The raw rows are cut at the rollup marks: the stable part (event time before W, ingested before I) and the
    live part (event time >= W, or ingested at or after I: the delta the rollup reads add too). The stable part is
    cached per range and question with the rollup version and marks it was read at. After a rollup job has moved
    the marks, only the rows between the old and the new marks are read and added (an hour of rows, not the
    range), and the result is used only if its totals equal the rollup buckets' (`sums` names the columns holding
    revenue, units, transactions): a change no mark or reported range shows (a restore, a regenerated chain)
    reads the range in full again. Without a watermark everything is live. `full_read` reads the stable part in
    full some other way (from rollup buckets, which hold exactly those rows); `mark` is the watermark to use.
    """
    chain = current_chain()
    lo, hi = period.bounds(chain.tz)
    scope = _sales_scope(filters)
    where, params = scope.where, dict(scope.params)
    params.update(extra_params or {}, range_lo=lo, range_hi=hi)
    keys = len(group.split(","))

    def read(*branches: str) -> list[npt.NDArray[Any]]:
        sql = " UNION ALL ".join(
            f"SELECT {select} FROM fleet_sale s{scope.joins} WHERE {branch}{where} GROUP BY {group}"
            for branch in branches
        )
        return _columns(sql, params, width, text_key=text_key)

    mark = mark or watermark()
    if mark is None:
        return read("s.sold_at >= %(range_lo)s AND s.sold_at < %(range_hi)s")
    live_clauses = _live_clauses(mark, params)
    live = read(*live_clauses) if live_clauses else None
    parts = [] if live is None else [live]
    if lo < mark.covered_until:

        def agrees(stable: list[npt.NDArray[Any]]) -> bool:
            rows = sales_by(period=period, filters=filters)
            want = {"revenue": 0, "units": 0, "transactions": 0}
            if rows:
                want = {
                    "revenue": int(Decimal(rows[0]["revenue"]) * MONEY_SCALE),
                    "units": int(rows[0]["units"]),
                    "transactions": int(rows[0]["transactions"]),
                }
            return all(
                int(stable[column].sum()) + (0 if live is None else int(live[column].sum())) == want[measure]
                for measure, column in sums.items()
            )

        params.update(stable_hi=min(hi, mark.covered_until), i=mark.ingested_until)
        parts.append(_stable_part(name, read, params, filters, select, group, keys, width, mark, agrees, full_read))
    return _sum_by_keys(parts, keys=keys, width=width)


def _live_clauses(mark: Watermark, params: dict[str, Any]) -> list[str]:
    """The raw rows of [range_lo, range_hi) no bucket and no stable part holds: event time >= W, or ingested at
    or after I (late data), as in analytics.query.rollup."""
    lo, hi = params["range_lo"], params["range_hi"]
    clauses = []
    if hi > mark.covered_until:
        params["tail_lo"] = max(lo, mark.covered_until)
        clauses.append("s.sold_at >= %(tail_lo)s AND s.sold_at < %(range_hi)s")
    if lo < mark.covered_until:
        params.update(late_hi=min(hi, mark.covered_until), late_i=mark.ingested_until)
        clauses.append("s.sold_at >= %(range_lo)s AND s.sold_at < %(late_hi)s AND s.ingested_at >= %(late_i)s")
    return clauses


def _stable_part(
    name: str,
    read: Callable[..., list[npt.NDArray[Any]]],
    params: dict[str, Any],
    filters: Filters,
    select: str,
    group: str,
    keys: int,
    width: int,
    mark: Watermark,
    agrees: Callable[[list[npt.NDArray[Any]]], bool],
    full_read: Callable[[], list[npt.NDArray[Any]]] | None = None,
) -> list[npt.NDArray[Any]]:
    """The raw rows of [range_lo, stable_hi) ingested before i, grouped: from the cache, advanced, or read in full."""
    question = {k: v for k, v in params.items() if k not in ("stable_hi", "i", "tail_lo", "late_hi", "late_i")}
    digest = hashlib.sha256(repr((select, group, _sales_scope(filters).joins, sorted(question.items()))).encode()).hexdigest()
    key = f"analytics-stable:v2:{name}:{digest[:32]}"
    signature = _dirty_signature()
    stable_hi, ingested = params["stable_hi"], params["i"]
    hit = cache.get(key)

    def keep(columns: list[npt.NDArray[Any]]) -> None:
        entry = {"version": mark.version, "stable_hi": stable_hi, "i": ingested, "dirty": signature, "columns": columns}
        cache.set(key, entry, STABLE_CACHE_SECONDS)

    if hit is not None and hit["dirty"] == signature and mark.version is not None:
        if hit.get("version") == mark.version and (hit["stable_hi"], hit["i"]) == (stable_hi, ingested):
            return list(hit["columns"])
        if hit["stable_hi"] <= stable_hi and hit["i"] <= ingested:
            # Only what moved into the stable part since: newer event times, and late rows ingested in between.
            params.update(old_hi=hit["stable_hi"], old_i=hit["i"])
            added = read(
                "s.sold_at >= %(old_hi)s AND s.sold_at < %(stable_hi)s AND s.ingested_at < %(i)s",
                "s.sold_at >= %(range_lo)s AND s.sold_at < %(old_hi)s AND s.ingested_at >= %(old_i)s"
                " AND s.ingested_at < %(i)s",
            )
            columns = _sum_by_keys([list(hit["columns"]), added], keys=keys, width=width)
            if agrees(columns):
                keep(columns)
                return columns
    if full_read is not None:
        columns = full_read()
    else:
        columns = read("s.sold_at >= %(range_lo)s AND s.sold_at < %(stable_hi)s AND s.ingested_at < %(i)s")
    if mark.version is not None and (hit is None or (hit["stable_hi"] <= stable_hi and hit["i"] <= ingested)):
        keep(columns)  # never back to older marks
    return columns


def device_top_products(*, period: Period, filters: Filters, top: int = 5) -> dict[int, list[dict[str, Any]]]:
    """Each device's `top` products by revenue in `period` (ties by SKU, in the database's collation).

    No rollup carries devices and products together, so the (device, product) sums come from the raw rows:
    those before the rollup marks cached as integer arrays and advanced as the marks move (see _raw_grouped),
    the live rest read on every call; the ranking runs vectorised over the summed pairs.
    """
    device, product, revenue, units = _raw_grouped(
        "device-products", period=period, filters=filters, width=4, group="s.device_id, s.product_id",
        sums={"revenue": 2, "units": 3},
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

    The part before the rollup marks is cached and advanced as the marks move, the live rest read on every call.
    """
    slots, revenue, units, transactions = _raw_grouped(
        "slots", period=period, filters=filters, width=4, group="s.slot_code", text_key=True,
        sums={"revenue": 1, "units": 2, "transactions": 3},
        select=f"s.slot_code, {_scaled_money('s.amount')}, SUM(s.quantity)::bigint, SUM(s.transactions)::bigint",
    )
    return [
        {"slot": slot, "revenue": _to_money(cents), "units": int(count), "transactions": int(done)}
        for slot, cents, count, done in zip(slots.tolist(), revenue.tolist(), units.tolist(), transactions.tolist(), strict=True)
    ]


class _BucketsMoved(Exception):
    """A rollup job committed between reading the watermark and reading the buckets."""


def device_daily_revenue(*, period: Period, filters: Filters) -> pd.DataFrame:
    """Each device's revenue per local day of `period`, for the days it sold: columns device_id (int64),
    day (int64, days since period.start), revenue (int64, exact, in 1/10,000 of the currency).

    What sales_by(by=["device", "day"]) answers, without 60,000 dicts: the part before the rollup marks read
    from the (day, device) buckets, cached and advanced with the marks like the raw stable parts (see
    _raw_grouped), plus the live delta from raw rows. A category filter (no rollup carries devices and products
    together) reads raw rows.
    """
    chain = current_chain()
    local = {"start": period.start, "tz": chain.time_zone}
    select = f"s.device_id, ((s.sold_at AT TIME ZONE %(tz)s)::date - %(start)s::date)::bigint, {_scaled_money('s.amount')}"
    read_buckets = filters.selects_sales and filters.carried_by(DEVICE_ROLLUP)
    for attempt in range(3):
        mark = watermark(fresh=attempt > 0)  # after a race, the watermark of the job that committed
        full_read = None
        if read_buckets and mark is not None:

            def full_read(mark: Watermark = mark) -> list[npt.NDArray[Any]]:
                buckets = _device_day_buckets(period, mark, filters, local)
                if buckets is None:
                    raise _BucketsMoved
                return buckets

        try:
            columns = _raw_grouped(
                "device-days", period=period, filters=filters, width=3, group="1, 2", select=select,
                extra_params=local, sums={"revenue": 2}, mark=mark, full_read=full_read,
            )
        except _BucketsMoved:
            continue
        return pd.DataFrame({"device_id": columns[0], "day": columns[1], "revenue": columns[2]})
    columns = _raw_grouped(
        "device-days-raw", period=period, filters=filters, width=3, group="1, 2", select=select,
        extra_params=local, sums={"revenue": 2},
    )
    return pd.DataFrame({"device_id": columns[0], "day": columns[1], "revenue": columns[2]})


def _device_day_buckets(
    period: Period, mark: Watermark, filters: Filters, local: dict[str, Any]
) -> list[IntArray] | None:
    """The (device, day) buckets of `period` before W, as arrays; None when a rollup job committed after `mark`
    was read (the buckets then hold rows the live delta of `mark` also counts)."""
    chain = current_chain()
    bucket_params: dict[str, Any] = {
        "start": local["start"], "starts": [local_midnight(day, chain.tz) for day in period.dates()], "w": mark.covered_until,
    }
    scope = filters.scope(DEVICE_ROLLUP)
    assert scope is not None  # the caller reads buckets only for filters the device rollup carries
    bucket_params.update(scope.params)
    joins, device_where = scope.joins, scope.where
    sql = f"""
        SELECT r.device_id, (r.local_date - %(start)s::date)::bigint, (r.revenue * {MONEY_SCALE})::bigint
        FROM analytics_salesdevicerollup r{joins}
        WHERE r.grain = 'day' AND r.starts_at = ANY(%(starts)s) AND r.starts_at < %(w)s{device_where}
    """
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
    return [np.ascontiguousarray(matrix[:, i]) for i in (1, 2, 3)]


def basket_items(*, period: Period, filters: Filters, max_rows: int = 2_000_000) -> list[tuple[str, int]]:
    """(basket, product id) pairs, each once: a basket is one customer's purchases on one local day.

    Sales without a customer cannot be tied to each other and are left out.
    """
    chain = current_chain()
    starts_at, ends_at = period.bounds(chain.tz)
    scope = _sales_scope(filters)
    where, params = scope.where, dict(scope.params)
    params.update(starts_at=starts_at, ends_at=ends_at, tz=chain.time_zone, max_rows=max_rows)
    sql = f"""
        SELECT DISTINCT s.customer_id::text || ':' || (s.sold_at AT TIME ZONE %(tz)s)::date::text, s.product_id
        FROM fleet_sale s{scope.joins}
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
    scope, bookings = _sales_scope(filters), _booking_scope(filters)
    sales_where, sales_params, booking_where, booking_params = scope.where, scope.params, bookings.where, bookings.params
    params = {**sales_params, **booking_params, "ends_at": ends_at, "tz": chain.time_zone}
    sql = f"""
        WITH purchases AS (
            SELECT s.customer_id, MIN(s.sold_at) AS first_at, MAX(s.sold_at) AS last_at,
                   SUM(s.transactions) AS frequency, SUM(s.amount) AS monetary
            FROM fleet_sale s{scope.joins}
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
    scope, bookings = _sales_scope(filters), _booking_scope(filters)
    sales_where, sales_params, booking_where, booking_params = scope.where, scope.params, bookings.where, bookings.params
    params = {**sales_params, **booking_params, "starts_at": starts_at, "ends_at": ends_at, "tz": chain.time_zone}
    sql = f"""
        SELECT s.customer_id, date_trunc('month', s.sold_at AT TIME ZONE %(tz)s)::date
        FROM fleet_sale s{scope.joins}
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
    scope = _booking_scope(filters)
    where, params = scope.where, dict(scope.params)
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
    scope = filters.scope(PLANOGRAM, joined=("d", "l", "p"))
    assert scope is not None  # planogram slots carry every sales filter
    params: dict[str, Any] = {"now": now, **scope.params}
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
        WHERE ps.valid_to IS NULL AND d.retired_at IS NULL{scope.where}
        ORDER BY d.asset, ps.slot_code
    """
    columns = (
        "slot_id", "device_id", "asset", "slot_code", "product_id", "sku", "product_name", "capacity", "par_level",
        "level_after", "filled_at", "sold_since",
    )
    return [dict(zip(columns, row, strict=True)) for row in _fetch(sql, params)]
