"""The 7×24 weekday-by-hour grid (ISO weekday, the chain's local clock) for sales, bookings and utilization."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from analytics.filters import Filters
from analytics.periods import Period
from analytics.query import bookings_by, sales_by
from analytics.query.occupancy import booked_minutes_by_weekday_hour
from analytics.selectors._common import bookings_filters_apply, money_quantize, ratio, sales_filters_apply
from bookings.models import OpeningHours

SALES_METRICS = ("revenue", "units", "transactions")
HEATMAP_METRICS = (*SALES_METRICS, "bookings", "utilization")


def _open_minutes_by_cell(*, period: Period, filters: Filters) -> dict[tuple[int, int], float]:
    """Open minutes of the resources in scope per (ISO weekday, local hour), summed over the days of `period`."""
    hours = OpeningHours.objects.filter(filters.q_resources(prefix="resource__"))
    days_per_weekday = Counter(day.isoweekday() for day in period.dates())
    cells: dict[tuple[int, int], float] = {}
    anchor = datetime(2000, 1, 3)  # any Monday: only wall-clock minutes are counted here
    for weekday, opens, closes in hours.values_list("weekday", "opens", "closes"):
        if not days_per_weekday.get(weekday):
            continue
        opened, closed = datetime.combine(anchor, opens), datetime.combine(anchor, closes)
        hour_start = datetime.combine(anchor, time(opens.hour))
        while hour_start < closed:
            hour_end = hour_start + timedelta(hours=1)
            minutes = (min(closed, hour_end) - max(opened, hour_start)).total_seconds() / 60
            if minutes > 0:
                key = (weekday, hour_start.hour)
                cells[key] = cells.get(key, 0.0) + minutes * days_per_weekday[weekday]
            hour_start = hour_end
    return cells


def heatmap(*, period: Period, filters: Filters, metric: str) -> dict[str, Any]:
    """All 168 cells {weekday 1–7, hour 0–23, value}; empty cells are 0.

    revenue/units/transactions: sales by local time of sale; bookings: non-cancelled bookings by
    local start hour; utilization: booked minutes falling in the cell / open minutes of the cell.
    """
    if metric not in HEATMAP_METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    values: dict[tuple[int, int], Any] = {}
    if metric in SALES_METRICS:
        if sales_filters_apply(filters):
            for row in sales_by(period=period, filters=filters, by=["weekday", "hour_of_day"]):
                values[(row["weekday"], row["hour_of_day"])] = row[metric]
        zero: Any = Decimal(0) if metric == "revenue" else 0
    elif metric == "bookings":
        if bookings_filters_apply(filters):
            for row in bookings_by(period=period, filters=filters, by=["weekday", "hour_of_day"]):
                values[(row["weekday"], row["hour_of_day"])] = int(row["bookings"]) - int(row["cancelled"])
        zero = 0
    else:
        if bookings_filters_apply(filters):
            booked = booked_minutes_by_weekday_hour(period=period, filters=filters)
            open_minutes = _open_minutes_by_cell(period=period, filters=filters)
            values = {cell: ratio(booked.get(cell, 0.0), minutes) for cell, minutes in open_minutes.items()}
        zero = 0.0
    if metric == "revenue":
        # A grid is chart input: every cell is a number, revenue rounded half-up to cents.
        values = {cell: float(money_quantize(value)) for cell, value in values.items()}
        zero = 0.0
    cells = [
        {"weekday": weekday, "hour": hour, "value": values.get((weekday, hour), zero)}
        for weekday in range(1, 8)
        for hour in range(24)
    ]
    peak = max(cells, key=lambda c: (c["value"], -c["weekday"], -c["hour"]))
    return {
        "start": period.start,
        "end": period.end,
        "metric": metric,
        "cells": cells,
        "peak": peak if peak["value"] else None,
    }
