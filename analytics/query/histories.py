"""Histories of customers and baskets: per-customer purchases and active months, baskets of one customer's day,
each product's last sale. Raw rows over their (customer, time) and (product, time) indexes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from analytics.filters import Filters
from analytics.periods import Period, local_midnight
from analytics.query import current_chain
from analytics.query.raw import booking_scope, fetch_tuples, sales_scope

__all__ = ["basket_items", "customer_active_months", "customer_history", "product_last_sale_dates"]


def product_last_sale_dates(*, product_ids: Sequence[int], before: date, filters: Filters) -> dict[int, date]:
    """Local date of each product's most recent sale before the end of local day `before` (any time in the past).

    One index probe per product (product, sold_at DESC), so the cost is independent of history size.
    """
    if not product_ids:
        return {}
    chain = current_chain()
    _, ends_at = Period(before, before).bounds(chain.tz)
    scope = sales_scope(filters)
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
    return {int(product_id): day for product_id, day in fetch_tuples(sql, params)}


# A basket key is customer id * BASKET_DAYS + the local day's number since 1970-01-01: one integer per
# (customer, local day), unique while day numbers stay below BASKET_DAYS (until the year 2243).
BASKET_DAYS = 100_000
EPOCH = date(1970, 1, 1)


def basket_items(*, period: Period, filters: Filters, max_rows: int = 2_000_000) -> list[tuple[int, int]]:
    """(basket, product id) pairs, a pair once per sale (the affinity counting drops repeats, in numpy, faster than
    the database hashes 200,000 pairs): a basket is one customer's purchases on one local day, keyed by
    customer id * BASKET_DAYS + the day's number since 1970-01-01.

    Sales without a customer cannot be tied to each other and are left out; the customer sales of the range are
    read from their (sold_at) index that carries customer, product and device.
    """
    chain = current_chain()
    starts_at, ends_at = period.bounds(chain.tz)
    scope = sales_scope(filters)
    where, params = scope.where, dict(scope.params)
    # The local day of a sale by its place among the days' first instants (no time zone arithmetic per row).
    day_starts = [local_midnight(day, chain.tz) for day in period.dates()]
    params.update(starts_at=starts_at, ends_at=ends_at, day_starts=day_starts, max_rows=max_rows, days=BASKET_DAYS,
                  day_before=(period.start - EPOCH).days - 1)
    sql = f"""
        SELECT s.customer_id * %(days)s + %(day_before)s + width_bucket(s.sold_at, %(day_starts)s::timestamptz[]),
               s.product_id
        FROM fleet_sale s{scope.joins}
        WHERE s.customer_id IS NOT NULL AND s.sold_at >= %(starts_at)s AND s.sold_at < %(ends_at)s {where}
        LIMIT %(max_rows)s
    """
    return fetch_tuples(sql, params)  # both bigint: psycopg returns Python ints


def customer_history(*, until: date, filters: Filters) -> list[dict[str, Any]]:
    """Per customer, everything up to the end of local day `until`: purchases are sales and non-cancelled bookings.

    Returns customer_id, external_ref, first_purchase, last_purchase (local dates), frequency
    (Σ sale transactions + bookings) and monetary (Σ sale amount + booking amount, Decimal).
    """
    chain = current_chain()
    _, ends_at = Period(until, until).bounds(chain.tz)
    scope, bookings = sales_scope(filters), booking_scope(filters)
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
        for customer_id, ref, first, last, frequency, monetary in fetch_tuples(sql, params)
    ]


def customer_active_months(*, period: Period, filters: Filters) -> list[tuple[int, date]]:
    """(customer id, first day of the local month) for every month of `period` in which the customer bought or booked.

    Purchases are sales with a customer and non-cancelled bookings; both are read through their
    (customer, time) indexes, so anonymous sales cost nothing.
    """
    chain = current_chain()
    starts_at, ends_at = period.bounds(chain.tz)
    scope, bookings = sales_scope(filters), booking_scope(filters)
    sales_where, sales_params, booking_where, booking_params = scope.where, scope.params, bookings.where, bookings.params
    months = _months(period)
    # The local month of a purchase by its place among the months' first instants (no time zone arithmetic per row).
    month_starts: list[datetime] = [local_midnight(month, chain.tz) for month in months]
    params = {**sales_params, **booking_params, "starts_at": starts_at, "ends_at": ends_at, "month_starts": month_starts}
    sql = f"""
        SELECT s.customer_id, width_bucket(s.sold_at, %(month_starts)s::timestamptz[])
        FROM fleet_sale s{scope.joins}
        WHERE s.customer_id IS NOT NULL AND s.sold_at >= %(starts_at)s AND s.sold_at < %(ends_at)s {sales_where}
        UNION
        SELECT b.customer_id, width_bucket(b.starts_at, %(month_starts)s::timestamptz[])
        FROM bookings_booking b
        JOIN bookings_resource r ON r.id = b.resource_id
        JOIN fleet_location l ON l.id = r.location_id
        WHERE b.customer_id IS NOT NULL AND b.status <> 'cancelled'
          AND b.starts_at >= %(starts_at)s AND b.starts_at < %(ends_at)s {booking_where}
    """
    return [(int(customer_id), months[bucket - 1]) for customer_id, bucket in fetch_tuples(sql, params)]


def _months(period: Period) -> list[date]:
    """The first day of every month that `period` touches, in order."""
    months = [period.start.replace(day=1)]
    while True:
        last = months[-1]
        following = date(last.year + last.month // 12, last.month % 12 + 1, 1)
        if following > period.end:
            return months
        months.append(following)
