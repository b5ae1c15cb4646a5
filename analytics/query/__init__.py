"""The query layer: every metric question ("this measure, for this chain, range and filters") goes through here.

API views, dashboards and exports call these functions and never aggregate raw rows themselves.
Money comes back as exact `Decimal`; rounding happens only when presented.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from analytics.filters import NO_FILTERS, Filters
from analytics.periods import Period
from analytics.query.raw import BOOKING_DIMENSIONS, SALES_DIMENSIONS, bookings_by_raw, sales_by_raw
from analytics.query.rollup import (
    Ranking,
    bookings_by_rollup,
    revenue_order,
    sales_by_rollup,
    sales_ranked_rollup,
    watermark,
)
from chains.models import Chain
from chains.tenancy import require_chain

__all__ = [
    "BOOKING_DIMENSIONS",
    "SALES_DIMENSIONS",
    "Ranking",
    "SalesTotals",
    "bookings_by",
    "current_chain",
    "funnel_events",
    "local_today",
    "open_minutes",
    "sales_by",
    "sales_count_distinct",
    "sales_top",
    "sales_totals",
]


def current_chain() -> Chain:
    """The chain whose schema this connection is in; analytics never runs in the public schema."""
    schema = require_chain("an analytics query")
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Chain):
        return tenant
    # schema_context() sets a stand-in without the chain's fields; load the real one.
    chain = Chain.objects.get(schema_name=schema)
    connection.tenant = chain  # type: ignore[attr-defined]
    return chain


def local_today(chain: Chain | None = None) -> date:
    chain = chain or current_chain()
    return timezone.now().astimezone(chain.tz).date()


@dataclass(frozen=True)
class SalesTotals:
    revenue: Decimal
    units: int
    transactions: int


def sales_by(
    *, period: Period, filters: Filters = NO_FILTERS, by: Sequence[str] = (), use_rollups: bool = True
) -> list[dict[str, Any]]:
    """Revenue, units and transactions in `period`, grouped by the dimensions in `by` (see SALES_DIMENSIONS).

    Time dimensions are local to the chain: day, week (ISO, Monday), month, weekday (ISO 1–7), hour_of_day.
    Answered from the rollups plus the live delta (analytics.query.rollup) where a rollup family carries
    the dimensions and filters (devices with products and slots: the slot family); otherwise (customer,
    payment method, the hours of devices or products) from the raw rows. `use_rollups=False` forces the raw reference.
    """
    chain = current_chain()
    unknown = [dim for dim in by if dim not in SALES_DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown sales dimension(s): {', '.join(unknown)}")
    if use_rollups:
        rows = sales_by_rollup(period=period, tz=chain.tz, filters=filters, by=by, mark=watermark())
        if rows is not None:
            return rows
    starts_at, ends_at = period.bounds(chain.tz)
    return sales_by_raw(starts_at=starts_at, ends_at=ends_at, tz=chain.time_zone, filters=filters, by=by)


def sales_count_distinct(*, period: Period, filters: Filters = NO_FILTERS, dim: str = "device") -> int:
    """How many distinct values of `dim` (e.g. active devices) have sales in `period`; right for any range,
    because it counts the groups of the summed buckets, never adds counts across buckets."""
    chain = current_chain()
    if dim not in SALES_DIMENSIONS:
        raise ValueError(f"unknown sales dimension: {dim}")
    rows = sales_by_rollup(period=period, tz=chain.tz, filters=filters, by=[dim], mark=watermark(), count_only=True)
    if rows is not None:
        return int(rows[0]["n"])
    return len(sales_by(period=period, filters=filters, by=[dim], use_rollups=False))


def sales_top(*, period: Period, filters: Filters = NO_FILTERS, by: Sequence[str], limit: int) -> Ranking:
    """The `limit` best rows by revenue (ties: smallest key) of each dimension in `by`, and how many values of
    the first have sales. The first dimension is the finest; the others must follow from it (a device's
    location, region or city; a product's category), so their sums are sums of its groups.

    Ranked where the rows are (analytics.query.rollup.sales_ranked_rollup): a dashboard's top ten
    of 2,000 devices costs one statement and ten rows, not 2,000 rows summed and sorted in Python.
    """
    chain = current_chain()
    if not by or any(dim not in SALES_DIMENSIONS for dim in by):
        raise ValueError(f"sales_top needs known dimensions, got {list(by)}")
    ranked = sales_ranked_rollup(period=period, tz=chain.tz, filters=filters, by=by, limit=limit, mark=watermark())
    if ranked is not None:
        return ranked
    rows = sales_by(period=period, filters=filters, by=by, use_rollups=False)
    return rank_rows(rows, by=by, limit=limit)


def rank_rows(rows: Sequence[dict[str, Any]], *, by: Sequence[str], limit: int) -> Ranking:
    """sales_top over rows already grouped by `by` (the raw fallback, and the reference in tests)."""
    top: dict[str, list[dict[str, Any]]] = {}
    for dim in by:
        sums: dict[Any, dict[str, Any]] = {}
        for row in rows:
            into = sums.setdefault(row[dim], {dim: row[dim], "revenue": Decimal(0), "units": 0, "transactions": 0})
            into["revenue"] += Decimal(row["revenue"])
            into["units"] += int(row["units"])
            into["transactions"] += int(row["transactions"])
        top[dim] = sorted(sums.values(), key=revenue_order(dim))[:limit]
    return Ranking(groups=len({row[by[0]] for row in rows}), top=top)


def sales_totals(*, period: Period, filters: Filters = NO_FILTERS) -> SalesTotals:
    rows = sales_by(period=period, filters=filters)
    if not rows:
        return SalesTotals(Decimal(0), 0, 0)
    row = rows[0]
    return SalesTotals(Decimal(row["revenue"]), int(row["units"]), int(row["transactions"]))


def bookings_by(
    *, period: Period, filters: Filters = NO_FILTERS, by: Sequence[str] = (), use_rollups: bool = True
) -> list[dict[str, Any]]:
    """Bookings by start time in `period`: bookings, cancelled, no_shows, paid_or_completed, booked_minutes, revenue."""
    chain = current_chain()
    unknown = [dim for dim in by if dim not in BOOKING_DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown booking dimension(s): {', '.join(unknown)}")
    if use_rollups:
        rows = bookings_by_rollup(period=period, tz=chain.tz, filters=filters, by=by, mark=watermark())
        if rows is not None:
            return rows
    starts_at, ends_at = period.bounds(chain.tz)
    return bookings_by_raw(starts_at=starts_at, ends_at=ends_at, tz=chain.time_zone, filters=filters, by=by)


def open_minutes(*, period: Period, filters: Filters = NO_FILTERS) -> dict[int, int]:
    """Minutes each resource is open in `period`, from its weekly opening hours in local time (DST-aware)."""
    from bookings.models import OpeningHours

    chain = current_chain()
    # A machine or product filter selects no resource.
    hours = OpeningHours.objects.select_related("resource", "resource__location").filter(
        filters.q_resources(prefix="resource__")
    )
    by_weekday: dict[int, list[tuple[int, Any, Any]]] = {}
    minutes: dict[int, int] = {}
    for row in hours:
        by_weekday.setdefault(row.weekday, []).append((row.resource_id, row.opens, row.closes))
        minutes.setdefault(row.resource_id, 0)
    for day in period.dates():
        for resource_id, opens, closes in by_weekday.get(day.isoweekday(), ()):
            opened = datetime.combine(day, opens, tzinfo=chain.tz)
            closed = datetime.combine(day, closes, tzinfo=chain.tz)
            minutes[resource_id] += int((closed - opened).total_seconds() // 60)
    return minutes


def funnel_events(*, period: Period, filters: Filters = NO_FILTERS) -> list[tuple[str, str, datetime]]:
    """(session_id, step, occurred_at) of the funnel events in `period`; sessions are counted by the caller.

    Distinct sessions do not add across buckets, so the funnel is always computed from raw rows over an index.
    """
    from bookings.models import FunnelEvent

    chain = current_chain()
    starts_at, ends_at = period.bounds(chain.tz)
    events = FunnelEvent.objects.filter(occurred_at__gte=starts_at, occurred_at__lt=ends_at)
    return list(events.values_list("session_id", "step", "occurred_at"))
