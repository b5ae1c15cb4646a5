"""Locations and geography: per-location performance with coordinates for maps, and region/city roll-ups."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import numpy as np

from analytics.filters import Filters
from analytics.metrics._common import percentile_rank
from analytics.periods import Period
from analytics.query import bookings_by, sales_by
from analytics.selectors._common import (
    ZERO,
    bookings_filters_apply,
    devices_in_scope,
    money_ratio,
    sales_filters_apply,
    truncate,
)
from fleet.models import Location


def location_performance(*, period: Period, filters: Filters, limit: int | None = None) -> dict[str, Any]:
    """Per location: sales (machines) + non-cancelled bookings (venues), devices, active devices, percentile.

    revenue = sales revenue + booking revenue; percentile = percentile rank of revenue among the
    locations listed (0–100, ties share); revenue_per_device = sales revenue / devices.
    """
    locations = Location.objects.filter(filters.q_locations())
    kinds = filters.kinds()
    if "machine" in kinds:
        locations = locations.filter(devices__in=devices_in_scope(filters=filters, period=period)).distinct()
    if "venue" in kinds:
        from bookings.models import Resource

        resources = Resource.objects.filter(filters.q_resources())
        locations = locations.filter(resources__in=resources).distinct()
    location_rows = list(
        locations.values("id", "code", "name", "city", "region", "country", "latitude", "longitude", "venue_type")
    )

    # One pass over the device buckets: a location's sales are its devices' sums, its active devices their count.
    sales: dict[int, dict[str, Any]] = {}
    active: dict[int, int] = defaultdict(int)
    if sales_filters_apply(filters):
        for row in sales_by(period=period, filters=filters, by=["location", "device"]):
            active[row["location"]] += 1
            into = sales.setdefault(row["location"], {"revenue": ZERO, "units": 0, "transactions": 0})
            into["revenue"] += row["revenue"]
            into["units"] += int(row["units"])
            into["transactions"] += int(row["transactions"])
    bookings = (
        {row["location"]: row for row in bookings_by(period=period, filters=filters, by=["location"])}
        if bookings_filters_apply(filters)
        else {}
    )
    device_counts: dict[int, int] = defaultdict(int)
    for location_id in devices_in_scope(filters=filters, period=period).values_list("location_id", flat=True):
        device_counts[location_id] += 1

    if filters.narrows_products:
        # A category or product narrows the map to the locations that sold it.
        location_rows = [location for location in location_rows if location["id"] in sales]
    rows: list[dict[str, Any]] = []
    for location in location_rows:
        sale = sales.get(location["id"], {})
        booking = bookings.get(location["id"], {})
        sales_revenue: Decimal = sale.get("revenue") or ZERO
        booking_revenue = Decimal(booking.get("revenue") or ZERO)
        devices = device_counts.get(location["id"], 0)
        rows.append(
            {
                "location_id": location["id"],
                "code": location["code"],
                "name": location["name"],
                "city": location["city"],
                "region": location["region"],
                "country": location["country"],
                "venue_type": location["venue_type"],
                "latitude": None if location["latitude"] is None else float(location["latitude"]),
                "longitude": None if location["longitude"] is None else float(location["longitude"]),
                "revenue": sales_revenue + booking_revenue,
                "sales_revenue": sales_revenue,
                "booking_revenue": booking_revenue,
                "units": int(sale.get("units") or 0),
                "transactions": int(sale.get("transactions") or 0),
                "bookings": int(booking.get("bookings") or 0) - int(booking.get("cancelled") or 0),
                "devices": devices,
                "active_devices": active.get(location["id"], 0),
                "revenue_per_device": money_ratio(sales_revenue, devices),
            }
        )
    pct = percentile_rank(np.array([float(r["revenue"]) for r in rows], dtype=np.float64))
    for row, value in zip(rows, pct, strict=True):
        row["percentile"] = float(value)
    rows.sort(key=lambda r: (-r["revenue"], r["code"]))

    def roll_up(field: str) -> list[dict[str, Any]]:
        groups: dict[str, dict[str, Any]] = {}
        for row in rows:
            group = groups.setdefault(
                row[field], {"name": row[field], "locations": 0, "revenue": ZERO, "units": 0, "transactions": 0, "bookings": 0}
            )
            group["locations"] += 1
            for key in ("revenue", "units", "transactions", "bookings"):
                group[key] += row[key]
        return sorted(groups.values(), key=lambda g: (-g["revenue"], g["name"]))

    return {
        "start": period.start,
        "end": period.end,
        "locations": truncate(rows, limit),
        "regions": roll_up("region"),
        "cities": roll_up("city"),
    }
