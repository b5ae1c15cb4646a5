"""Histories of customers and baskets: per-customer purchases and active months, baskets of one customer's day,
each product's last sale. Raw rows over their (customer, time) and (product, time) indexes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from analytics.filters import Filters
from analytics.metrics._common import distinct_sorted
from analytics.models import BasketDaySeries, CustomerHistoryRollup
from analytics.periods import Period, local_midnight, next_third, third_start
from analytics.query import current_chain
from analytics.query.marks import Watermark, fetch_versioned, live_delta, read_at_marks
from analytics.query.raw import booking_scope, fetch_tuples, sales_scope, unpacked

__all__ = ["HeldBaskets", "Histories", "basket_items", "customer_active_months", "customer_history", "held_basket_counts", "product_last_sale_dates"]


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
IntArray = npt.NDArray[np.int64]
CUSTOMER_HISTORIES = CustomerHistoryRollup._meta.db_table
BASKET_DAY_SERIES = BasketDaySeries._meta.db_table
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)  # before any sale: the lower bound of "all history"


def basket_items(*, period: Period, filters: Filters, max_rows: int = 2_000_000) -> tuple[IntArray, IntArray]:
    """(baskets, product ids): two aligned arrays, a pair once per sale (the affinity counting drops repeats, in numpy, faster than
    the database hashes 200,000 pairs): a basket is one customer's purchases on one local day, keyed by
    customer id * BASKET_DAYS + the day's number since 1970-01-01.

    Sales without a customer cannot be tied to each other and are left out; the customer sales of the range are
    read from their (sold_at) index that carries customer, product and device, and travel as two arrays in one
    row (parsed in C: a row per sale costs two Python tuples' worth of objects more).
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
        SELECT array_agg(basket), array_agg(product_id) FROM (
            SELECT s.customer_id * %(days)s + %(day_before)s + width_bucket(s.sold_at, %(day_starts)s::timestamptz[])
                   AS basket, s.product_id
            FROM fleet_sale s{scope.joins}
            WHERE s.customer_id IS NOT NULL AND s.sold_at >= %(starts_at)s AND s.sold_at < %(ends_at)s {where}
            LIMIT %(max_rows)s
        ) AS items
    """
    baskets, products = fetch_tuples(sql, params)[0]
    return np.array(baskets or [], dtype=np.int64), np.array(products or [], dtype=np.int64)


@dataclass(frozen=True)
class HeldBaskets:
    """What the basket days (analytics.rollups.baskets) hold of a period: the counts of its whole days before the
    watermark without late sales, as (product_a, product_b, baskets) rows of an n × 3 array (a row a day: the
    same pair repeats over days, its counts are their sum), and the rest of the period as ranges of whole days for
    basket_items (every basket is a customer's day, so none is split)."""

    counts: npt.NDArray[np.int64]
    raw: list[Period]


def held_basket_counts(*, period: Period, filters: Filters) -> HeldBaskets | None:
    """The basket days' part of `period` and the days left to read raw; None with filters (the basket days have
    no devices or products) or before the first rollup job: the caller reads every basket raw."""
    if filters.active():
        return None
    chain = current_chain()

    def read(mark: Watermark | None) -> HeldBaskets | None:
        if mark is None:
            return None
        held_end = min(period.end, mark.covered_until.astimezone(chain.tz).date() - timedelta(days=1))
        if held_end < period.start:
            return HeldBaskets(np.zeros((0, 3), dtype=np.int64), [period])
        held = Period(period.start, held_end)
        lo, hi = held.bounds(chain.tz)
        params = {"lo": lo, "hi": hi, "i": mark.ingested_until, "tz": chain.time_zone, "first": held.start,
                  "last": held.end}
        # Days with customer sales ingested since the last job (through the ingested_at index): read raw, whole.
        late = """(SELECT COALESCE(array_agg(DISTINCT (s.sold_at AT TIME ZONE %(tz)s)::date), '{}') FROM fleet_sale s
                   WHERE s.ingested_at >= %(i)s AND s.customer_id IS NOT NULL AND s.sold_at >= %(lo)s AND s.sold_at < %(hi)s)"""
        # The days' rows as three packed columns in one row (big-endian integers), from the days packed by the jobs
        # (a row a day: 30 rows, not 57,000), not summed by pair: the caller's counting adds repeated pairs anyway,
        # and grouping 57,000 rows into 36,000 pairs took the database 17 ms.
        sql = f"""
            SELECT string_agg(product_a, ''), string_agg(product_b, ''), string_agg(baskets, '')
            FROM {BASKET_DAY_SERIES}
            WHERE local_date >= %(first)s AND local_date <= %(last)s AND local_date <> ALL({late}::date[])
        """
        late_days, rows = fetch_versioned(sql, params, mark, extra=late)
        raw = [Period(day, day) for day in sorted(late_days)]
        if held_end < period.end:
            raw.append(Period(held_end + timedelta(days=1), period.end))
        counts = np.stack([unpacked(column, ">i8") for column in rows[0]], axis=1)
        return HeldBaskets(counts, raw)

    return read_at_marks(read)


@dataclass(frozen=True)
class Histories:
    """Customer histories as columns, one element per customer (by external reference): local dates as day
    numbers since 1970-01-01, money as exact integers of 1/10,000."""

    customer_ids: IntArray
    refs: list[str]
    first_days: IntArray
    last_days: IntArray
    frequency: IntArray  # Σ sale transactions + bookings
    monetary_e4: IntArray  # Σ sale amount + booking amount, × 10,000

    def __len__(self) -> int:
        return len(self.refs)


def customer_history(*, until: date, filters: Filters) -> Histories:
    """Per customer, everything up to the end of local day `until`: purchases are sales and non-cancelled bookings.

    Without filters the history up to the last whole third of a month before `until`'s end (and before the rollup
    watermark) is one row per customer (analytics.rollups.customers), the rest raw rows; with filters, all raw.
    """
    chain = current_chain()
    _, ends_at = Period(until, until).bounds(chain.tz)
    scope, bookings = sales_scope(filters), booking_scope(filters)
    params = {**scope.params, **bookings.params, "ends_at": ends_at, "tz": chain.time_zone, "epoch": EPOCH}
    booking_part = f"""
            SELECT b.customer_id, MIN(b.starts_at), MAX(b.starts_at), COUNT(*), (SUM(b.amount) * 10000)::bigint
            FROM bookings_booking b
            JOIN bookings_resource r ON r.id = b.resource_id
            JOIN fleet_location l ON l.id = r.location_id
            WHERE b.customer_id IS NOT NULL AND b.status <> 'cancelled' AND b.starts_at < %(ends_at)s {bookings.where}
            GROUP BY b.customer_id"""

    def from_thirds(held: Watermark, params: dict[str, Any]) -> str:
        branches = live_delta("s.sold_at", "s.ingested_at", lo=EARLIEST, hi=ends_at, mark=held, params=params)
        raw = [f"""
            SELECT s.customer_id, MIN(s.sold_at), MAX(s.sold_at), SUM(s.transactions), (SUM(s.amount) * 10000)::bigint
            FROM fleet_sale s WHERE s.customer_id IS NOT NULL AND {branch}
            GROUP BY s.customer_id""" for branch in branches]
        return _history_sql("\n            UNION ALL".join([*raw, booking_part]), held=f"""
            SELECT m.customer_id, m.first_at, m.last_at, m.transactions, m.amount_e4
            FROM {CUSTOMER_HISTORIES} m WHERE m.starts_on = %(last_third)s""")

    rows = _from_thirds(filters=filters, until=until, params=params, build=from_thirds)
    if rows is None:
        rows = fetch_tuples(_history_sql(f"""
            SELECT s.customer_id, MIN(s.sold_at), MAX(s.sold_at), SUM(s.transactions), (SUM(s.amount) * 10000)::bigint
            FROM fleet_sale s{scope.joins}
            WHERE s.customer_id IS NOT NULL AND s.sold_at < %(ends_at)s {scope.where}
            GROUP BY s.customer_id
            UNION ALL{booking_part}"""), params)
    (ids, refs, first_days, last_days, frequency, monetary_e4), = rows
    refs = refs or []
    order = np.argsort(np.array(refs, dtype=str), kind="stable")  # by external reference, code point by code point
    return Histories(
        customer_ids=unpacked(ids, ">i8")[order], refs=[refs[i] for i in order.tolist()],
        first_days=unpacked(first_days, ">i4")[order], last_days=unpacked(last_days, ">i4")[order],
        frequency=unpacked(frequency, ">i8")[order], monetary_e4=unpacked(monetary_e4, ">i8")[order],
    )


def _history_sql(purchases: str, held: str = "") -> str:
    """Per customer, from `purchases` (rows of customer id, first and last instant, purchases, amount × 10,000)
    and `held` (the same, at most one row per customer: a third's histories): `purchases` summed by customer id,
    then joined to `held` (a full join: 20,000 held rows meet a few thousand sums instead of all going through one
    more aggregate), so only the customers' totals meet the customer table and the time zone. One row of packed
    columns (big-endian integers; the references as a JSON array), in the same order: one aggregate node feeds
    them all; 20,000 rows of six values cost more to parse than to read."""
    totals = """
            SELECT customer_id, MIN(first_at) AS first_at, MAX(last_at) AS last_at, SUM(frequency) AS frequency,
                   SUM(amount_e4) AS amount_e4
            FROM purchases GROUP BY customer_id"""
    if held:
        totals = f"""
            SELECT COALESCE(m.customer_id, p.customer_id), LEAST(m.first_at, p.first_at), GREATEST(m.last_at, p.last_at),
                   COALESCE(m.transactions, 0) + COALESCE(p.frequency, 0), COALESCE(m.amount_e4, 0) + COALESCE(p.amount_e4, 0)
            FROM ({held}
            ) AS m (customer_id, first_at, last_at, transactions, amount_e4)
            FULL JOIN ({totals}
            ) AS p ON p.customer_id = m.customer_id"""
    return f"""
        SELECT string_agg(int8send(h.id), ''), json_agg(h.ref), string_agg(int4send(h.first_day), ''),
               string_agg(int4send(h.last_day), ''), string_agg(int8send(h.frequency), ''),
               string_agg(int8send(h.amount_e4), '')
        FROM (
        WITH purchases (customer_id, first_at, last_at, frequency, amount_e4) AS ({purchases}
        ),
        totals (customer_id, first_at, last_at, frequency, amount_e4) AS ({totals}
        )
        SELECT c.id, c.external_ref, (x.first_at AT TIME ZONE %(tz)s)::date - %(epoch)s::date,
               (x.last_at AT TIME ZONE %(tz)s)::date - %(epoch)s::date, x.frequency::bigint, x.amount_e4::bigint
        FROM totals x JOIN fleet_customer c ON c.id = x.customer_id
        ) AS h (id, ref, first_day, last_day, frequency, amount_e4)
    """


def _from_thirds(
    *, filters: Filters, until: date, params: dict[str, Any], build: Callable[[Watermark, dict[str, Any]], str]
) -> list[tuple[Any, ...]] | None:
    """Rows of the statement `build(held, params)` that reads the customer histories of the thirds of a month that
    end by %(held_until)s (the last one starts on %(last_third)s) and the raw sales they do not hold (`held`: marks
    for analytics.query.marks.live_delta, covered_until the instant %(held_until)s starts), checked against the
    rollup version. %(held_until)s is the start of the third that holds the end of `until`, or of the watermark's
    if earlier. None with filters (the histories have no devices or products) or before the first rollup job: the
    caller reads raw rows."""
    if filters.active():
        return None
    tz = current_chain().tz

    def read(mark: Watermark | None) -> list[tuple[Any, ...]] | None:
        if mark is None:
            return None
        held_until = third_start(min(until + timedelta(days=1), mark.covered_until.astimezone(tz).date()))
        local_params = {**params, "held_until": held_until, "last_third": third_start(held_until - timedelta(days=1))}
        held = Watermark(local_midnight(held_until, tz), mark.ingested_until)
        return fetch_versioned(build(held, local_params), local_params, mark)

    return read_at_marks(read)


def customer_active_months(*, period: Period, filters: Filters) -> tuple[IntArray, IntArray]:
    """(customer ids, month numbers): every month of `period` in which the customer bought or booked, once, as two
    aligned arrays sorted by customer, then month; a month number is year * 12 + month - 1 of the local month.

    Purchases are sales with a customer and non-cancelled bookings. Without filters, a month's part of the period
    up to the end of the last third of a month the customer histories hold answers from their rows (one per
    customer); the rest, and with filters all, from raw rows, read through their (sold_at) and (customer, time)
    indexes, so anonymous sales cost nothing. The pairs travel packed in one row (a row of a date each cost more
    to parse than to read) and repeat across the parts: numpy drops the repeats.
    """
    chain = current_chain()
    starts_at, ends_at = period.bounds(chain.tz)
    scope, bookings = sales_scope(filters), booking_scope(filters)
    months = _months(period)
    # The local month of a purchase by its place among the months' first instants (no time zone arithmetic per row).
    month_starts: list[datetime] = [local_midnight(month, chain.tz) for month in months]
    params = {**scope.params, **bookings.params, "starts_at": starts_at, "ends_at": ends_at, "month_starts": month_starts,
              "months": [_month_number(month) for month in months]}
    month_of = "(%(months)s::int[])[width_bucket({instant}, %(month_starts)s::timestamptz[])]"
    booking_part = f"""
        SELECT b.customer_id, {month_of.format(instant="b.starts_at")}
        FROM bookings_booking b
        JOIN bookings_resource r ON r.id = b.resource_id
        JOIN fleet_location l ON l.id = r.location_id
        WHERE b.customer_id IS NOT NULL AND b.status <> 'cancelled'
          AND b.starts_at >= %(starts_at)s AND b.starts_at < %(ends_at)s {bookings.where}"""

    def packed(pairs: str) -> str:
        return f"""
        SELECT string_agg(int8send(active.customer_id), ''), string_agg(int4send(active.month), '')
        FROM ({pairs}
        ) AS active (customer_id, month)"""

    def from_thirds(held: Watermark, params: dict[str, Any]) -> str:
        branches = live_delta("s.sold_at", "s.ingested_at", lo=starts_at, hi=ends_at, mark=held, params=params)
        raw = "".join(f"""
        UNION ALL
        SELECT s.customer_id, {month_of.format(instant="s.sold_at")}
        FROM fleet_sale s WHERE s.customer_id IS NOT NULL AND {branch}""" for branch in branches)
        # Per month, its last third the histories hold (ending by %(held_until)s): a customer bought in the month's
        # part of the period up to that third's end when their last sale as of the third is in it.
        probes: list[tuple[date, date, datetime]] = []
        for month in months:
            held_thirds = [
                third for third in (month, month.replace(day=11), month.replace(day=21))
                if starts_at < local_midnight(next_third(third), chain.tz) and next_third(third) <= params["held_until"]
            ]
            if held_thirds:
                probes.append((held_thirds[-1], month, max(starts_at, local_midnight(month, chain.tz))))
        params.update(probe_thirds=[p[0] for p in probes], probe_months=[_month_number(p[1]) for p in probes],
                      probe_since=[p[2] for p in probes])
        return packed(f"""
        SELECT m.customer_id, p.month
        FROM unnest(%(probe_thirds)s::date[], %(probe_months)s::int[], %(probe_since)s::timestamptz[])
             AS p(third, month, since)
        JOIN {CUSTOMER_HISTORIES} m ON m.starts_on = p.third
        WHERE m.last_at >= p.since{raw}
        UNION ALL{booking_part}""")

    rows = _from_thirds(filters=filters, until=period.end, params=params, build=from_thirds)
    if rows is None:
        rows = fetch_tuples(packed(f"""
        SELECT s.customer_id, {month_of.format(instant="s.sold_at")}
        FROM fleet_sale s{scope.joins}
        WHERE s.customer_id IS NOT NULL AND s.sold_at >= %(starts_at)s AND s.sold_at < %(ends_at)s {scope.where}
        UNION ALL{booking_part}"""), params)
    (customers, month_numbers), = rows
    # One integer per (customer, month) pair (month numbers stay below 2**20), sorted and once each.
    keys = distinct_sorted(unpacked(customers, ">i8") * (1 << 20) + unpacked(month_numbers, ">i4"))
    return keys >> 20, keys & ((1 << 20) - 1)


def _month_number(month: date) -> int:
    return month.year * 12 + month.month - 1


def _months(period: Period) -> list[date]:
    """The first day of every month that `period` touches, in order."""
    months = [period.start.replace(day=1)]
    while True:
        last = months[-1]
        following = date(last.year + last.month // 12, last.month % 12 + 1, 1)
        if following > period.end:
            return months
        months.append(following)
