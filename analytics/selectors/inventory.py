"""Estimated stock per slot from the last fill and the sales since, days until empty, out-of-stock risk, pick lists."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from typing import Any

from django.utils import timezone

from analytics.filters import Filters
from analytics.periods import Period
from analytics.query import current_chain, local_today
from analytics.query.stock_and_visits import SlotStock, slot_stock_since_fill
from analytics.selectors._common import Truncated, sales_filters_apply
from routes.models import Route, RouteRun

VELOCITY_DAYS = 14
HIGH_RISK_DAYS = 2
MEDIUM_RISK_DAYS = 7
RISK_ORDER = {"out": 0, "high": 1, "medium": 2, "unknown": 3, "low": 4}


def _risk(stock: int | None, days_until_empty: float | None) -> str:
    if stock is None:
        return "unknown"
    if stock == 0:
        return "out"
    if days_until_empty is not None and days_until_empty <= HIGH_RISK_DAYS:
        return "high"
    if days_until_empty is not None and days_until_empty <= MEDIUM_RISK_DAYS:
        return "medium"
    return "low"


def _estimate(slot: SlotStock) -> tuple[int | None, float, float | None, str]:
    """(estimated stock, daily velocity, days until empty, risk) of one slot in force.

    estimated stock = level after its last fill − units sold from it since (≥ 0); velocity = units sold
    from the slot over the last 14 local days (today included) / 14; days until empty = stock / velocity
    (None when nothing sold); risk: out (stock 0), high (≤ 2 days), medium (≤ 7 days), low, or unknown
    (never filled).
    """
    velocity = slot.window_units / VELOCITY_DAYS
    stock = None if slot.level_after is None else max(0, slot.level_after - slot.sold_since)
    days_until_empty = None if stock is None or velocity == 0 else stock / velocity
    return stock, velocity, days_until_empty, _risk(stock, days_until_empty)


def _row(slot: SlotStock, estimate: tuple[int | None, float, float | None, str]) -> dict[str, Any]:
    stock, velocity, days_until_empty, risk = estimate
    return {
        "slot_id": slot.slot_id,
        "device_id": slot.device_id,
        "asset": slot.asset,
        "slot": slot.slot_code,
        "product_id": slot.product_id,
        "sku": slot.sku,
        "product_name": slot.product_name,
        "capacity": slot.capacity,
        "par_level": slot.par_level,
        "last_fill_at": slot.filled_at,
        "level_after_fill": slot.level_after,
        "sold_since_fill": slot.sold_since,
        "estimated_stock": stock,
        "daily_velocity": velocity,
        "days_until_empty": days_until_empty,
        "risk": risk,
    }


def _slots_and_estimates(
    *, filters: Filters, today: date
) -> tuple[list[SlotStock], list[tuple[int | None, float, float | None, str]]]:
    if not sales_filters_apply(filters):
        return [], []
    window = Period.last_days(VELOCITY_DAYS, today).bounds(current_chain().tz)
    slots = slot_stock_since_fill(filters=filters, now=timezone.now(), window=window)
    return slots, [_estimate(slot) for slot in slots]


def pick_list(*, route: Route, slots: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """What to load for the route's next run: per slot, capacity − projected stock on the run's day (rounded up).

    projected stock = estimated stock − velocity × days until the run (≥ 0); a slot of unknown
    stock is planned as empty. The next run is the earliest unfinished run scheduled today or later
    (today when none is scheduled).
    """
    run = (
        RouteRun.objects.filter(route=route, scheduled_for__gte=today, finished_at__isnull=True)
        .order_by("scheduled_for")
        .first()
    )
    run_date = run.scheduled_for if run else today
    days_ahead = (run_date - today).days
    devices = set(route.stops.values_list("device_id", flat=True))
    items = []
    per_product: dict[str, dict[str, Any]] = defaultdict(lambda: {"units": 0})
    for slot in slots:
        if slot["device_id"] not in devices:
            continue
        stock = slot["estimated_stock"] or 0
        projected = max(0.0, stock - slot["daily_velocity"] * days_ahead)
        units = max(0, math.ceil(slot["capacity"] - projected - 1e-9))
        if units == 0:
            continue
        items.append(
            {
                "device_id": slot["device_id"],
                "asset": slot["asset"],
                "slot": slot["slot"],
                "sku": slot["sku"],
                "product_name": slot["product_name"],
                "projected_stock": projected,
                "units": units,
            }
        )
        product = per_product[slot["sku"]]
        product["sku"] = slot["sku"]
        product["product_name"] = slot["product_name"]
        product["units"] += units
    return {
        "route_id": route.id,
        "route": route.code,
        "run_id": run.id if run else None,
        "run_date": run_date,
        "items": items,
        "by_product": sorted(per_product.values(), key=lambda p: p["sku"]),
        "total_units": sum(item["units"] for item in items),
    }


def inventory(*, filters: Filters, route: Route | None = None, limit: int | None = None) -> dict[str, Any]:
    """The slots of slot_stock, most at risk first (out, high, medium, unknown, low; sooner empty first), the count
    per risk, and the route's pick list. Only the rows shown become dicts: 20,000 slots are ranked as tuples."""
    today = local_today()
    slots, estimates = _slots_and_estimates(filters=filters, today=today)
    order = sorted(
        range(len(slots)),
        key=lambda i: (
            RISK_ORDER[estimates[i][3]], math.inf if estimates[i][2] is None else estimates[i][2], slots[i].asset,
            slots[i].slot_code,
        ),
    )
    summary = dict.fromkeys(RISK_ORDER, 0)
    for estimate in estimates:
        summary[estimate[3]] += 1
    shown = order if limit is None else order[:limit]
    picked = []
    if route is not None:
        devices = set(route.stops.values_list("device_id", flat=True))
        picked = sorted(
            (_row(slot, estimate) for slot, estimate in zip(slots, estimates, strict=True) if slot.device_id in devices),
            key=lambda row: (row["asset"], row["slot"]),
        )
    return {
        "as_of": timezone.now(),
        "today": today,
        "slots": Truncated([_row(slots[i], estimates[i]) for i in shown], len(slots)),
        "risk_summary": summary,
        "pick_list": pick_list(route=route, slots=picked, today=today) if route is not None else None,
    }
