"""The executive dashboard: KPIs for a range and the previous one, a daily series and top lists.

Every figure comes from the query layer (rollups + live delta), so its cost follows the number of
buckets in the range, not the number of sales in the history. Definitions (product.md, "Metric definitions"):

- revenue = sales_revenue + booking_revenue; sales_revenue = Σ sale amount; booking_revenue = Σ amount
  of the bookings that are not cancelled, by booking start time;
- avg_transaction_value = sales revenue / transactions; active_devices = devices with a sale in the range;
- revenue_run_rate = revenue of the month of the range's end, from its 1st through the range's end,
  / the elapsed days × days in that month; for a range that reaches today the elapsed days count today's
  elapsed local time as a fraction of today's length (23, 24 or 25 hours), before that whole days;
- bookings = bookings starting in the range (all statuses); no_show_rate = no-shows / bookings not
  cancelled; utilization = booked minutes of non-cancelled bookings / open minutes of the resources;
- nps = % promoters (9–10) − % detractors (0–6) of the NPS responses in the range, null without responses;
- change_pct = (current − previous) / previous × 100 per KPI, null when previous is 0 (or either is null).

Venue filters (resource, resource type) select no sales and machine filters (device, device type,
category) select no bookings or NPS responses. Money stays Decimal here; the view rounds it half-up to
cents when presenting.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils import timezone

from analytics.filters import NPS, Filters
from analytics.periods import Period, local_midnight
from analytics.query import Ranking, bookings_by, current_chain, open_minutes, sales_by, sales_count_distinct, sales_top
from analytics.query.marks import same_watermark
from analytics.selectors._common import bookings_filters_apply, sales_filters_apply

if TYPE_CHECKING:  # the registry imports this module
    from analytics.reports.rows import DashboardKpis

KPI_KEYS = (
    "revenue", "sales_revenue", "booking_revenue", "units", "transactions", "avg_transaction_value",
    "active_devices", "revenue_run_rate", "bookings", "no_show_rate", "utilization", "nps",
)


def _ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal:
    return Decimal(numerator) / Decimal(denominator) if denominator else Decimal(0)


def _month_to_date(end: date) -> Period:
    return Period(end.replace(day=1), end)


def elapsed_days(*, end: date, now: datetime, tz: Any) -> Decimal:
    """Days of the month of `end` elapsed from its 1st through `end`, for the run rate.

    A range that ends before today counts whole days (1st .. end). A range that reaches today (or later)
    counts the whole days before today and today's elapsed local time as a fraction of today's real length,
    so on a 23-hour DST day at 12:00 local (11 hours after midnight) today counts 11/23.
    """
    today = now.astimezone(tz).date()
    first = end.replace(day=1)
    if end < today:
        return Decimal((end - first).days + 1)
    if today < first:
        return Decimal(0)  # a month that has not begun
    # In UTC: Python subtracts two datetimes of one zone by their wall clocks, which would make every day 24 hours.
    midnight = local_midnight(today, tz).astimezone(UTC)
    next_midnight = local_midnight(today + timedelta(days=1), tz).astimezone(UTC)
    fraction = Decimal((now.astimezone(UTC) - midnight).total_seconds()) / Decimal((next_midnight - midnight).total_seconds())
    return Decimal((today - first).days) + fraction


def nps_score(scores: Sequence[int]) -> float | None:
    """% promoters (9–10) − % detractors (0–6); None without responses."""
    if not scores:
        return None
    promoters = sum(1 for score in scores if score >= 9)
    detractors = sum(1 for score in scores if score <= 6)
    return (promoters - detractors) * 100 / len(scores)


def _nps(*, period: Period, filters: Filters, tz: Any) -> float | None:
    """NPS of the responses given in `period`; responses belong to a location, so only location and region
    filters keep them (a machine or resource filter selects none)."""
    scope = filters.scope(NPS)
    assert scope is not None
    if scope.nothing:
        return None
    starts_at, ends_at = period.bounds(tz)
    sql = f"SELECT n.score FROM bookings_npsresponse n{scope.joins}"
    where = f"n.responded_at >= %(starts_at)s AND n.responded_at < %(ends_at)s{scope.where}"
    params: dict[str, Any] = {"starts_at": starts_at, "ends_at": ends_at, **scope.params}
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} WHERE {where}", params)
        return nps_score([int(row[0]) for row in cursor.fetchall()])


def _kpis(
    *, period: Period, filters: Filters, now: datetime, daily: Sequence[dict[str, Any]] | None = None,
    active_devices: int | None = None,
) -> DashboardKpis:
    chain = current_chain()
    with_sales, with_bookings = sales_filters_apply(filters), bookings_filters_apply(filters)
    if daily is None:
        daily = sales_by(period=period, filters=filters, by=["day"]) if with_sales else []

    sales_revenue = sum((Decimal(row["revenue"]) for row in daily), Decimal(0))
    units = sum(int(row["units"]) for row in daily)
    transactions = sum(int(row["transactions"]) for row in daily)
    if active_devices is None:
        active_devices = sales_count_distinct(period=period, filters=filters) if with_sales else 0

    booking_days = bookings_by(period=period, filters=filters, by=["day"]) if with_bookings else []
    bookings = sum(int(row["bookings"]) for row in booking_days)
    cancelled = sum(int(row["cancelled"]) for row in booking_days)
    no_shows = sum(int(row["no_shows"]) for row in booking_days)
    booked_minutes = sum((Decimal(row["booked_minutes"]) for row in booking_days), Decimal(0))
    booking_revenue = sum((Decimal(row["revenue"]) for row in booking_days), Decimal(0))
    not_cancelled = bookings - cancelled
    minutes_open = sum(open_minutes(period=period, filters=filters).values()) if bookings else 0

    mtd = _month_to_date(period.end)
    if mtd.start >= period.start:
        mtd_revenue = sum((Decimal(row["revenue"]) for row in daily if row["day"] >= mtd.start), Decimal(0))
        mtd_revenue += sum((Decimal(row["revenue"]) for row in booking_days if row["day"] >= mtd.start), Decimal(0))
    else:
        mtd_sales = sales_by(period=mtd, filters=filters) if with_sales else []
        mtd_bookings = bookings_by(period=mtd, filters=filters) if with_bookings else []
        mtd_revenue = sum((Decimal(row["revenue"]) for row in (*mtd_sales, *mtd_bookings)), Decimal(0))
    days_in_month = calendar.monthrange(period.end.year, period.end.month)[1]
    run_rate = _ratio(mtd_revenue, elapsed_days(end=period.end, now=now, tz=chain.tz)) * days_in_month

    return {
        "revenue": sales_revenue + booking_revenue,
        "sales_revenue": sales_revenue,
        "booking_revenue": booking_revenue,
        "units": units,
        "transactions": transactions,
        "avg_transaction_value": _ratio(sales_revenue, transactions),
        "active_devices": active_devices,
        "revenue_run_rate": run_rate,
        "bookings": bookings,
        "no_show_rate": float(_ratio(no_shows, not_cancelled)),
        "utilization": float(_ratio(booked_minutes, minutes_open)),
        "nps": _nps(period=period, filters=filters, tz=chain.tz),
    }


def _change_pct(current: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in KPI_KEYS:
        if previous[key] is None or current[key] is None:
            out[key] = None
            continue
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


def dashboard(*, period: Period, filters: Filters, limit: int = 10, now: datetime | None = None) -> dict[str, Any]:
    """The dashboard answer for `period` (inclusive local dates) and `filters`; top lists hold `limit` rows.
    `now` (default: the clock) decides how much of today has elapsed for the run rate."""
    with same_watermark():
        return _dashboard(period=period, filters=filters, limit=limit, now=now or timezone.now())


def _dashboard(*, period: Period, filters: Filters, limit: int, now: datetime) -> dict[str, Any]:
    chain = current_chain()
    with_sales = sales_filters_apply(filters)
    daily = sales_by(period=period, filters=filters, by=["day"]) if with_sales else []
    # One statement over the device buckets answers active devices, top devices and top locations.
    devices = (
        sales_top(period=period, filters=filters, by=["device", "location"], limit=limit)
        if with_sales else Ranking(groups=0, top={"device": [], "location": []})
    )
    kpis = _kpis(period=period, filters=filters, now=now, daily=daily, active_devices=devices.groups)
    previous = _kpis(period=period.previous(), filters=filters, now=now)

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
    top_products = sales_top(period=period, filters=filters, by=["product"], limit=limit).top["product"] if with_sales else []
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

