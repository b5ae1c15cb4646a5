"""Helpers the analytics selectors share: the fleet in scope, safe division, truncation."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q, QuerySet

from analytics.filters import Filters
from analytics.periods import Period
from fleet.models import Device

ZERO = Decimal(0)
CENT = Decimal("0.01")


def ratio(numerator: float | Decimal | int, denominator: float | Decimal | int) -> float:
    """numerator / denominator as a float, 0 when the denominator is 0 (the product's rule)."""
    return float(numerator) / float(denominator) if denominator else 0.0


def money_quantize(value: Decimal) -> Decimal:
    """Money as presented: 2 decimals, half-up (only ever at the edge, never inside a computation)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money_ratio(numerator: Decimal, denominator: float | Decimal | int) -> Decimal:
    """Exact money / count, 0 when the count is 0; rounded only when presented."""
    return numerator / Decimal(denominator) if denominator else ZERO


def devices_in_scope(*, filters: Filters, period: Period) -> QuerySet[Device]:
    """Devices the device-level filters select that could sell in `period` (installed by its end, not retired before its start)."""
    devices = Device.objects.select_related("location", "device_type")
    # A venue filter selects no machines.
    return devices.filter(filters.q_devices()).filter(could_sell_in(period))


def could_sell_in(period: Period, prefix: str = "") -> Q:
    """The devices (through `prefix`, e.g. "device__") installed by the end of `period` and not retired before its start."""
    return (Q(**{f"{prefix}installed_at__isnull": True}) | Q(**{f"{prefix}installed_at__lte": period.end})) & (
        Q(**{f"{prefix}retired_at__isnull": True}) | Q(**{f"{prefix}retired_at__gte": period.start})
    )


def sales_filters_apply(filters: Filters) -> bool:
    """Venue filters (resource, resource type) select no sales."""
    return filters.selects_sales


def bookings_filters_apply(filters: Filters) -> bool:
    """Machine and product filters (device, device type, route, category, product) select no bookings."""
    return filters.selects_bookings


class Truncated(list[Any]):
    """The first rows of a longer list, carrying how many rows the whole list has (`total`)."""

    total: int

    def __init__(self, items: list[Any], total: int) -> None:
        super().__init__(items)
        self.total = total


def truncate(items: list[Any], limit: int | None) -> list[Any]:
    """The first `limit` rows (all without a limit); the answer keeps the full count as `.total`, which the
    report registry reports next to the page (analytics.reports.Report.page)."""
    return Truncated(items if limit is None else items[:limit], len(items))


def list_total(items: list[Any]) -> int:
    """How many rows the list had before `truncate` cut it (its length when it was never cut)."""
    return items.total if isinstance(items, Truncated) else len(items)
