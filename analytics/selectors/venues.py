"""Venue resources: occupancy (utilization), no-shows and the daily no-show trend."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd

from analytics.filters import Filters
from analytics.metrics.timeseries import linear_trend
from analytics.periods import Period
from analytics.query import bookings_by, open_minutes
from analytics.selectors._common import ZERO, bookings_filters_apply, ratio, truncate
from bookings.models import Resource


def _counts(row: dict[str, Any] | None) -> dict[str, Any]:
    row = row or {}
    bookings = int(row.get("bookings") or 0)
    cancelled = int(row.get("cancelled") or 0)
    no_shows = int(row.get("no_shows") or 0)
    return {
        "bookings": bookings,
        "cancelled": cancelled,
        "no_shows": no_shows,
        "no_show_rate": ratio(no_shows, bookings - cancelled),
        "booked_minutes": float(row.get("booked_minutes") or 0),
        "revenue": Decimal(row.get("revenue") or ZERO),
    }


def utilization(*, period: Period, filters: Filters, limit: int | None = None) -> dict[str, Any]:
    """Per resource in scope (resources without bookings included): bookings by start time, no-shows, occupancy.

    no_show_rate = no-shows / bookings not cancelled; utilization = booked minutes of non-cancelled
    bookings / open minutes in the range (0 when the resource never opens).
    """
    applies = bookings_filters_apply(filters)
    resources = Resource.objects.select_related("location").filter(filters.q_resources())
    resource_rows = list(resources.values("id", "code", "name", "resource_type", "location__name")) if applies else []
    per_resource = {row["resource"]: row for row in bookings_by(period=period, filters=filters, by=["resource"])} if applies else {}
    opened = open_minutes(period=period, filters=filters) if applies else {}

    rows: list[dict[str, Any]] = []
    for resource in resource_rows:
        counts = _counts(per_resource.get(resource["id"]))
        minutes = opened.get(resource["id"], 0)
        rows.append(
            {
                "resource_id": resource["id"],
                "code": resource["code"],
                "name": resource["name"],
                "resource_type": resource["resource_type"],
                "location_name": resource["location__name"],
                **counts,
                "open_minutes": minutes,
                "utilization": ratio(counts["booked_minutes"], minutes),
            }
        )
    rows.sort(key=lambda r: (-r["utilization"], r["code"]))

    total_bookings = sum(r["bookings"] for r in rows)
    total_cancelled = sum(r["cancelled"] for r in rows)
    total_no_shows = sum(r["no_shows"] for r in rows)
    total_booked = sum(r["booked_minutes"] for r in rows)
    total_open = sum(r["open_minutes"] for r in rows)
    total = {
        "bookings": total_bookings,
        "cancelled": total_cancelled,
        "no_shows": total_no_shows,
        "no_show_rate": ratio(total_no_shows, total_bookings - total_cancelled),
        "booked_minutes": total_booked,
        "open_minutes": total_open,
        "utilization": ratio(total_booked, total_open),
        "revenue": sum((r["revenue"] for r in rows), ZERO),
    }

    by_day = {row["day"]: row for row in bookings_by(period=period, filters=filters, by=["day"])} if applies else {}
    trend = []
    for day in period.dates():
        counts = _counts(by_day.get(day))
        trend.append({"date": day, "bookings": counts["bookings"], "no_shows": counts["no_shows"], "no_show_rate": counts["no_show_rate"]})
    fit = linear_trend(pd.DataFrame({"date": [t["date"] for t in trend], "value": [t["no_show_rate"] for t in trend]}))
    return {
        "start": period.start,
        "end": period.end,
        "resources": truncate(rows, limit),
        "total": total,
        "no_show_trend": trend,
        "no_show_trend_slope": fit.slope,
    }
