"""Revenue grouped by a dimension of the machines (location … product) or of the venues (resource, resource type)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from analytics.filters import Filters
from analytics.periods import Period
from analytics.query import bookings_by, sales_by
from analytics.selectors._common import ZERO, bookings_filters_apply, ratio, sales_filters_apply, truncate
from bookings.models import Resource
from fleet.models import Category, DeviceType, Location, Product

SALES_GROUPS = ("location", "region", "device_type", "category", "product")
BOOKING_GROUPS = ("resource", "resource_type")
GROUP_BY_CHOICES = (*SALES_GROUPS, *BOOKING_GROUPS)


def _labels(group_by: str, ids: list[Any]) -> dict[Any, tuple[str, str]]:
    """group value → (key, name) as the API shows them: codes, SKUs and names instead of database ids."""
    if group_by == "location":
        return {i: (code, name) for i, code, name in Location.objects.filter(id__in=ids).values_list("id", "code", "name")}
    if group_by == "device_type":
        return {i: (name, name) for i, name in DeviceType.objects.filter(id__in=ids).values_list("id", "name")}
    if group_by == "category":
        return {i: (name, name) for i, name in Category.objects.filter(id__in=ids).values_list("id", "name")}
    if group_by == "product":
        return {i: (sku, name) for i, sku, name in Product.objects.filter(id__in=ids).values_list("id", "sku", "name")}
    if group_by == "resource":
        return {i: (code, name) for i, code, name in Resource.objects.filter(id__in=ids).values_list("id", "code", "name")}
    # region and resource_type are names already.
    return {value: (value or "", value or "(none)") for value in ids}


def revenue_by(*, period: Period, filters: Filters, group_by: str, limit: int | None = None) -> dict[str, Any]:
    """Sales (or, for resource groups, non-cancelled bookings) in `period` grouped by `group_by`, largest first.

    For bookings: revenue = Σ amount of non-cancelled bookings, units = transactions = their count.
    """
    if group_by not in GROUP_BY_CHOICES:
        raise ValueError(f"unknown group_by {group_by!r}")
    rows: list[dict[str, Any]] = []
    if group_by in SALES_GROUPS:
        raw = sales_by(period=period, filters=filters, by=[group_by]) if sales_filters_apply(filters) else []
        for row in raw:
            rows.append(
                {"id": row[group_by], "revenue": row["revenue"], "units": int(row["units"]), "transactions": int(row["transactions"])}
            )
    else:
        raw = bookings_by(period=period, filters=filters, by=[group_by]) if bookings_filters_apply(filters) else []
        for row in raw:
            taken = int(row["bookings"]) - int(row["cancelled"])
            if taken == 0 and not row["revenue"]:
                continue
            rows.append({"id": row[group_by], "revenue": Decimal(row["revenue"]), "units": taken, "transactions": taken})

    labels = _labels(group_by, [row["id"] for row in rows])
    total = sum((row["revenue"] for row in rows), ZERO)
    groups = []
    for row in rows:
        key, name = labels.get(row["id"], (str(row["id"]), str(row["id"])))
        groups.append(
            {
                "key": key,
                "name": name,
                "id": row["id"] if isinstance(row["id"], int) else None,
                "revenue": row["revenue"],
                "units": row["units"],
                "transactions": row["transactions"],
                "share": ratio(row["revenue"], total) if total > 0 else 0.0,
            }
        )
    groups.sort(key=lambda g: (-g["revenue"], g["key"]))
    return {
        "start": period.start,
        "end": period.end,
        "group_by": group_by,
        "total": {
            "revenue": total,
            "units": sum(g["units"] for g in groups),
            "transactions": sum(g["transactions"] for g in groups),
        },
        "groups": truncate(groups, limit),
    }
