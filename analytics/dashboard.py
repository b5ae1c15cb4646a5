"""The executive dashboard: KPIs for a range and the previous one, a daily series and top lists.

Every figure comes from the query layer (rollups + live delta), so its cost follows the number of
buckets in the range, not the number of sales in the history. Definitions (product.md):

- avg_transaction_value = revenue / transactions; active_devices = devices with a sale in the range;
- revenue_run_rate = revenue of the month of the range's end, from its 1st through the range's end,
  / those elapsed days × days in that month (for a range ending today: month to date);
- bookings = bookings starting in the range (all statuses); no_show_rate = no-shows / bookings not
  cancelled; utilization = booked minutes of non-cancelled bookings / open minutes of the resources;
- change_pct = (current − previous) / previous × 100 per KPI, null when previous is 0.

Money stays Decimal here; the view rounds it half-up to cents when presenting.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection

from analytics.filters import Filters
from analytics.periods import Period
from analytics.query import bookings_by, current_chain, open_minutes, sales_by, sales_count_distinct, sales_top
from analytics.query.rollup import same_watermark

KPI_KEYS = (
    "revenue", "units", "transactions", "avg_transaction_value", "active_devices", "revenue_run_rate",
    "bookings", "no_show_rate", "utilization",
)


def _ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal:
    return Decimal(numerator) / Decimal(denominator) if denominator else Decimal(0)


def _month_to_date(end: date) -> Period:
    return Period(end.replace(day=1), end)


def _kpis(
    *, period: Period, filters: Filters, daily: Sequence[dict[str, Any]] | None = None, active_devices: int | None = None,
) -> dict[str, Any]:
    if daily is None:
        daily = sales_by(period=period, filters=filters, by=["day"])

    revenue = sum((Decimal(row["revenue"]) for row in daily), Decimal(0))
    units = sum(int(row["units"]) for row in daily)
    transactions = sum(int(row["transactions"]) for row in daily)
    if active_devices is None:
        active_devices = sales_count_distinct(period=period, filters=filters)

    mtd = _month_to_date(period.end)
    if mtd.start >= period.start:
        mtd_revenue = sum((Decimal(row["revenue"]) for row in daily if row["day"] >= mtd.start), Decimal(0))
    else:
        mtd_rows = sales_by(period=mtd, filters=filters)
        mtd_revenue = Decimal(mtd_rows[0]["revenue"]) if mtd_rows else Decimal(0)
    days_in_month = calendar.monthrange(period.end.year, period.end.month)[1]
    run_rate = _ratio(mtd_revenue, mtd.days) * days_in_month

    booking_rows = bookings_by(period=period, filters=filters)
    booking = booking_rows[0] if booking_rows else {}
    bookings = int(booking.get("bookings", 0))
    not_cancelled = bookings - int(booking.get("cancelled", 0))
    booked_minutes = Decimal(booking.get("booked_minutes", 0))
    minutes_open = sum(open_minutes(period=period, filters=filters).values()) if bookings else 0
    return {
        "revenue": revenue,
        "units": units,
        "transactions": transactions,
        "avg_transaction_value": _ratio(revenue, transactions),
        "active_devices": active_devices,
        "revenue_run_rate": run_rate,
        "bookings": bookings,
        "no_show_rate": float(_ratio(int(booking.get("no_shows", 0)), not_cancelled)),
        "utilization": float(_ratio(booked_minutes, minutes_open)),
    }


def _change_pct(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in KPI_KEYS:
        before, now = Decimal(str(previous[key])), Decimal(str(current[key]))
        out[key] = None if before == 0 else round(float((now - before) / before * 100), 2)
    return out


def _names(*, devices: list[int], products: list[int], locations: list[int]) -> dict[tuple[str, int], tuple[Any, ...]]:
    """Labels of the top rows, in one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 'd', d.id, d.asset, l.name, NULL FROM fleet_device d JOIN fleet_location l ON l.id = d.location_id
            WHERE d.id = ANY(%(devices)s)
            UNION ALL
            SELECT 'p', p.id, p.sku, p.name, c.name FROM fleet_product p LEFT JOIN fleet_category c ON c.id = p.category_id
            WHERE p.id = ANY(%(products)s)
            UNION ALL
            SELECT 'l', l.id, l.code, l.name, l.region FROM fleet_location l WHERE l.id = ANY(%(locations)s)
            """,
            {"devices": devices, "products": products, "locations": locations},
        )
        return {(kind, pk): tuple(rest) for kind, pk, *rest in cursor.fetchall()}


def _labels(names: dict[tuple[str, int], tuple[Any, ...]], kind: str, pk: int, fields: tuple[str, ...]) -> dict[str, Any]:
    values = names.get((kind, pk), (None, None, None))
    return dict(zip(fields, values, strict=False))


def dashboard(*, period: Period, filters: Filters, limit: int = 10) -> dict[str, Any]:
    """The dashboard answer for `period` (inclusive local dates) and `filters`; top lists hold `limit` rows."""
    with same_watermark():
        return _dashboard(period=period, filters=filters, limit=limit)


def _dashboard(*, period: Period, filters: Filters, limit: int) -> dict[str, Any]:
    chain = current_chain()
    daily = sales_by(period=period, filters=filters, by=["day"])
    # One statement over the device buckets answers active devices, top devices and top locations.
    devices = sales_top(period=period, filters=filters, by=["device", "location"], limit=limit)
    kpis = _kpis(period=period, filters=filters, daily=daily, active_devices=devices.groups)
    previous = _kpis(period=period.previous(), filters=filters)

    by_day = {row["day"]: row for row in daily}
    series = []
    for day in period.dates():
        row = by_day.get(day)
        series.append({
            "date": day,
            "revenue": Decimal(row["revenue"]) if row else Decimal(0),
            "units": int(row["units"]) if row else 0,
            "transactions": int(row["transactions"]) if row else 0,
        })

    top_devices = devices.top["device"]
    top_products = sales_top(period=period, filters=filters, by=["product"], limit=limit).top["product"]
    top_locations = devices.top["location"]
    names = _names(
        devices=[row["device"] for row in top_devices],
        products=[row["product"] for row in top_products],
        locations=[row["location"] for row in top_locations],
    )

    def metrics(row: dict[str, Any]) -> dict[str, Any]:
        return {"revenue": Decimal(row["revenue"]), "units": int(row["units"]), "transactions": int(row["transactions"])}

    return {
        "start": period.start,
        "end": period.end,
        "currency": chain.currency,
        "kpis": kpis,
        "previous": previous,
        "previous_start": period.previous().start,
        "previous_end": period.previous().end,
        "change_pct": _change_pct(kpis, previous),
        "series": series,
        "top_devices": [
            {"device_id": row["device"], **_labels(names, "d", row["device"], ("asset", "location_name")), **metrics(row)}
            for row in top_devices
        ],
        "top_products": [
            {"product_id": row["product"], **_labels(names, "p", row["product"], ("sku", "name", "category")), **metrics(row)}
            for row in top_products
        ],
        "top_locations": [
            {"location_id": row["location"], **_labels(names, "l", row["location"], ("code", "name", "region")),
             **metrics(row)}
            for row in top_locations
        ],
    }

