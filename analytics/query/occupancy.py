"""Occupancy by the clock: minutes of non-cancelled bookings in each local (weekday, hour) cell."""

from __future__ import annotations

from analytics.filters import Filters
from analytics.periods import Period
from analytics.query import current_chain
from analytics.query.raw import booking_scope, fetch_tuples

__all__ = ["booked_minutes_by_weekday_hour"]


def booked_minutes_by_weekday_hour(*, period: Period, filters: Filters) -> dict[tuple[int, int], float]:
    """Minutes of non-cancelled bookings (starting in `period`) that fall in each local (ISO weekday, hour) cell.

    A booking is split over the local clock hours it overlaps, so a 90-minute booking from 18:00
    puts 60 minutes in hour 18 and 30 in hour 19. Local wall-clock time, as opening hours are.
    """
    chain = current_chain()
    starts_at, ends_at = period.bounds(chain.tz)
    scope = booking_scope(filters)
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
    return {(int(weekday), int(hour)): float(minutes) for weekday, hour, minutes in fetch_tuples(sql, params)}
