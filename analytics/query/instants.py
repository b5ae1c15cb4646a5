"""Questions over instants rather than local dates: sales in an hour, and each device's last sale before an instant.

The rollups answer whole local days; an hour window or "how long has this machine been silent" is a
bounded read of the raw rows over the (sold_at) and (device, sold_at) indexes, so it stays cheap at
any history size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from analytics.filters import NO_FILTERS, Filters
from analytics.query import current_chain
from analytics.query.raw import bookings_by_raw, sales_by_raw


def sales_between(
    *, starts_at: datetime, ends_at: datetime, filters: Filters = NO_FILTERS, by: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Revenue, units and transactions of the sales in [starts_at, ends_at), grouped by `by` (SALES_DIMENSIONS)."""
    chain = current_chain()
    return sales_by_raw(starts_at=starts_at, ends_at=ends_at, tz=chain.time_zone, filters=filters, by=by)


def bookings_between(
    *, starts_at: datetime, ends_at: datetime, filters: Filters = NO_FILTERS, by: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Bookings that start in [starts_at, ends_at) (see bookings_by_raw), grouped by `by` (BOOKING_DIMENSIONS)."""
    chain = current_chain()
    return bookings_by_raw(starts_at=starts_at, ends_at=ends_at, tz=chain.time_zone, filters=filters, by=by)


def device_last_sales(*, before: datetime, filters: Filters = NO_FILTERS) -> dict[int, datetime | None]:
    """Each device in service at `before` (installed by then, not retired) → its latest sale before `before`
    (None when it never sold). One statement: a backward index probe of (device, sold_at) per device."""
    chain = current_chain()
    clauses = [
        "(d.installed_at IS NULL OR d.installed_at <= %(local_day)s)",
        "(d.retired_at IS NULL OR d.retired_at > %(local_day)s)",
    ]
    params: dict[str, Any] = {"before": before, "local_day": before.astimezone(chain.tz).date()}
    if filters.devices:
        clauses.append("d.id = ANY(%(devices)s)")
        params["devices"] = list(filters.devices)
    if filters.locations:
        clauses.append("d.location_id = ANY(%(locations)s)")
        params["locations"] = list(filters.locations)
    if filters.device_types:
        clauses.append("d.device_type_id = ANY(%(device_types)s)")
        params["device_types"] = list(filters.device_types)
    sql = f"""
        SELECT d.id, last.sold_at
        FROM fleet_device d
        LEFT JOIN LATERAL (
            SELECT s.sold_at FROM fleet_sale s
            WHERE s.device_id = d.id AND s.sold_at < %(before)s
            ORDER BY s.sold_at DESC LIMIT 1
        ) AS last ON true
        WHERE {" AND ".join(clauses)}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {int(device_id): sold_at for device_id, sold_at in cursor.fetchall()}
