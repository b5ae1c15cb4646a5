"""Aggregations straight from the raw rows: the reference every rollup must equal, and the fallback
for dimensions no rollup carries (slot, customer, payment method)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from analytics.filters import RAW_BOOKINGS, RAW_SALES, Filters, Scope

_LOCAL = "(s.sold_at AT TIME ZONE %(tz)s)"
SALES_DIMENSIONS: dict[str, str] = {
    "device": "s.device_id",
    "product": "s.product_id",
    "location": "d.location_id",
    "region": "l.region",
    "city": "l.city",
    "device_type": "d.device_type_id",
    "category": "p.category_id",
    "slot": "s.slot_code",
    "customer": "s.customer_id",
    "payment_method": "s.payment_method",
    "day": f"{_LOCAL}::date",
    "week": f"date_trunc('week', {_LOCAL})::date",
    "month": f"date_trunc('month', {_LOCAL})::date",
    "weekday": f"extract(isodow from {_LOCAL})::int",
    "hour_of_day": f"extract(hour from {_LOCAL})::int",
}

_BLOCAL = "(b.starts_at AT TIME ZONE %(tz)s)"
BOOKING_DIMENSIONS: dict[str, str] = {
    "resource": "b.resource_id",
    "resource_type": "r.resource_type",
    "location": "r.location_id",
    "region": "l.region",
    "status": "b.status",
    "customer": "b.customer_id",
    "day": f"{_BLOCAL}::date",
    "week": f"date_trunc('week', {_BLOCAL})::date",
    "month": f"date_trunc('month', {_BLOCAL})::date",
    "weekday": f"extract(isodow from {_BLOCAL})::int",
    "hour_of_day": f"extract(hour from {_BLOCAL})::int",
}


def sales_by_raw(
    *, starts_at: datetime, ends_at: datetime, tz: str, filters: Filters, by: Sequence[str]
) -> list[dict[str, Any]]:
    """Σ amount, quantity and transactions of the sales in [starts_at, ends_at), grouped by `by`."""
    unknown = [dim for dim in by if dim not in SALES_DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown sales dimension(s): {', '.join(unknown)}")
    scope = filters.scope(RAW_SALES, need=("d", "l", "p"))
    assert scope is not None  # raw rows carry every filter
    params = {**scope.params, "starts_at": starts_at, "ends_at": ends_at, "tz": tz}
    select_dims = [f"{SALES_DIMENSIONS[dim]} AS {dim}" for dim in by]
    sql = f"""
        SELECT {", ".join([*select_dims, "SUM(s.amount) AS revenue", "SUM(s.quantity) AS units",
                            "SUM(s.transactions) AS transactions"])}
        FROM fleet_sale s{scope.joins}
        WHERE s.sold_at >= %(starts_at)s AND s.sold_at < %(ends_at)s{scope.where}
        {"GROUP BY " + ", ".join(str(i + 1) for i in range(len(by))) if by else ""}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [col[0] for col in cursor.description or []]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    if not by and rows and rows[0]["revenue"] is None:
        return []
    return rows


def bookings_by_raw(
    *, starts_at: datetime, ends_at: datetime, tz: str, filters: Filters, by: Sequence[str]
) -> list[dict[str, Any]]:
    """Bookings that start in [starts_at, ends_at), counted by status, with booked minutes and revenue.

    booked_minutes and revenue count every booking that was not cancelled (a no-show occupies its slot).
    """
    unknown = [dim for dim in by if dim not in BOOKING_DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown booking dimension(s): {', '.join(unknown)}")
    scope = filters.scope(RAW_BOOKINGS, joined=("r", "l"))
    assert scope is not None  # raw rows carry every filter
    params = {**scope.params, "starts_at": starts_at, "ends_at": ends_at, "tz": tz}
    select_dims = [f"{BOOKING_DIMENSIONS[dim]} AS {dim}" for dim in by]
    metrics = [
        "COUNT(*) AS bookings",
        "COUNT(*) FILTER (WHERE b.status = 'cancelled') AS cancelled",
        "COUNT(*) FILTER (WHERE b.status = 'no_show') AS no_shows",
        "COUNT(*) FILTER (WHERE b.status IN ('paid', 'completed')) AS paid_or_completed",
        "COALESCE(SUM(EXTRACT(EPOCH FROM (b.ends_at - b.starts_at)) / 60)"
        " FILTER (WHERE b.status <> 'cancelled'), 0)::numeric(14, 2) AS booked_minutes",
        "COALESCE(SUM(b.amount) FILTER (WHERE b.status <> 'cancelled'), 0) AS revenue",
    ]
    sql = f"""
        SELECT {", ".join([*select_dims, *metrics])}
        FROM bookings_booking b
        JOIN bookings_resource r ON r.id = b.resource_id
        JOIN fleet_location l ON l.id = r.location_id
        WHERE b.starts_at >= %(starts_at)s AND b.starts_at < %(ends_at)s{scope.where}
        {"GROUP BY " + ", ".join(str(i + 1) for i in range(len(by))) if by else ""}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [col[0] for col in cursor.description or []]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    if not by and rows and rows[0]["bookings"] == 0:
        return []
    return rows


def sales_scope(filters: Filters) -> Scope:
    """The filters over raw sales (s, d, l, p): raw rows carry every filter; a venue filter selects none."""
    scope = filters.scope(RAW_SALES)
    assert scope is not None
    return scope


def booking_scope(filters: Filters) -> Scope:
    """The filters over raw bookings (b, r, l, which the reader joins itself): a machine or product filter
    selects none."""
    scope = filters.scope(RAW_BOOKINGS, joined=("r", "l"))
    assert scope is not None
    return scope


def fetch_tuples(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def unpacked(column: bytes | memoryview | None, dtype: str) -> npt.NDArray[np.int64]:
    """A packed column (string_agg of int8send / int4send: big-endian integers, `dtype` ">i8" or ">i4") as int64;
    empty for NULL (no rows)."""
    return np.frombuffer(bytes(column or b""), dtype=dtype).astype(np.int64)
