"""Query-layer reads the rollups cannot answer: per-customer histories, last-sale dates, baskets, stock since a fill.

Like the rest of the query layer these read raw rows with set-based SQL and hand back small,
already-aggregated results; callers never see individual sales.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from analytics.filters import Filters
from analytics.periods import Period
from analytics.query import current_chain

__all__ = [
    "basket_items",
    "booked_minutes_by_weekday_hour",
    "customer_active_months",
    "customer_history",
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


def device_top_products(*, period: Period, filters: Filters, top: int = 5) -> dict[int, list[dict[str, Any]]]:
    """Each device's `top` products by revenue in `period` (ties by SKU), ranked inside the database.

    No rollup carries devices and products together, so this reads the raw rows of the range once
    (hash-aggregated first, then ranked: ranking inside the aggregation would sort every raw row);
    only the top rows per device leave the database.
    """
    chain = current_chain()
    starts_at, ends_at = period.bounds(chain.tz)
    where, params = _sales_clauses(filters)
    params.update(starts_at=starts_at, ends_at=ends_at, top=top)
    sql = f"""
        WITH per_pair AS MATERIALIZED (
            SELECT s.device_id, s.product_id, SUM(s.amount) AS revenue, SUM(s.quantity) AS units
            FROM fleet_sale s{_sales_joins(filters)}
            WHERE s.sold_at >= %(starts_at)s AND s.sold_at < %(ends_at)s {where}
            GROUP BY s.device_id, s.product_id
        )
        SELECT device_id, product_id, sku, name, revenue, units FROM (
            SELECT x.*, pr.sku, pr.name,
                   ROW_NUMBER() OVER (PARTITION BY x.device_id ORDER BY x.revenue DESC, pr.sku) AS position
            FROM per_pair x JOIN fleet_product pr ON pr.id = x.product_id
        ) ranked
        WHERE position <= %(top)s
        ORDER BY device_id, position
    """
    result: dict[int, list[dict[str, Any]]] = {}
    for device_id, product_id, sku, name, revenue, units in _fetch(sql, params):
        result.setdefault(int(device_id), []).append(
            {"product_id": int(product_id), "sku": sku, "name": name, "revenue": Decimal(revenue), "units": int(units)}
        )
    return result


def slot_revenue(*, period: Period, filters: Filters) -> list[dict[str, Any]]:
    """Revenue, units and transactions by slot code in `period`: sales_by(by=["slot"]) without the joins no filter needs."""
    chain = current_chain()
    starts_at, ends_at = period.bounds(chain.tz)
    where, params = _sales_clauses(filters)
    params.update(starts_at=starts_at, ends_at=ends_at)
    sql = f"""
        SELECT s.slot_code, SUM(s.amount), SUM(s.quantity), SUM(s.transactions)
        FROM fleet_sale s{_sales_joins(filters)}
        WHERE s.sold_at >= %(starts_at)s AND s.sold_at < %(ends_at)s {where}
        GROUP BY s.slot_code
    """
    return [
        {"slot": slot, "revenue": Decimal(revenue), "units": int(units), "transactions": int(transactions)}
        for slot, revenue, units, transactions in _fetch(sql, params)
    ]


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
