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
from analytics.query.stock_and_visits import slot_stock_since_fill
from analytics.selectors._common import ratio, sales_filters_apply, truncate
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


def slot_stock(*, filters: Filters, today: date | None = None) -> list[dict[str, Any]]:
    """Every slot in force: estimated stock = level after its last fill − units sold from it since (≥ 0).

    velocity = units sold from the slot over the last 14 local days (today included) / 14;
    days_until_empty = stock / velocity (None when nothing sold); risk: out (stock 0), high (≤ 2
    days), medium (≤ 7 days), low, or unknown (never filled).
    """
    if not sales_filters_apply(filters):
        return []
    today = today or local_today()
    window = Period.last_days(VELOCITY_DAYS, today).bounds(current_chain().tz)
    slots = slot_stock_since_fill(filters=filters, now=timezone.now(), window=window)
    rows: list[dict[str, Any]] = []
    for slot in slots:
        velocity = ratio(int(slot["window_units"]), VELOCITY_DAYS)
        stock = None if slot["level_after"] is None else max(0, int(slot["level_after"]) - int(slot["sold_since"]))
        days_until_empty = None if stock is None or velocity == 0 else stock / velocity
        rows.append(
            {
                "slot_id": slot["slot_id"],
                "device_id": slot["device_id"],
                "asset": slot["asset"],
                "slot": slot["slot_code"],
                "product_id": slot["product_id"],
                "sku": slot["sku"],
                "product_name": slot["product_name"],
                "capacity": slot["capacity"],
                "par_level": slot["par_level"],
                "last_fill_at": slot["filled_at"],
                "level_after_fill": slot["level_after"],
                "sold_since_fill": int(slot["sold_since"]),
                "estimated_stock": stock,
                "daily_velocity": velocity,
                "days_until_empty": days_until_empty,
                "risk": _risk(stock, days_until_empty),
            }
        )
    return rows


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
    today = local_today()
    slots = slot_stock(filters=filters, today=today)
    ordered = sorted(
        slots,
        key=lambda s: (RISK_ORDER[s["risk"]], s["days_until_empty"] if s["days_until_empty"] is not None else math.inf, s["asset"], s["slot"]),
    )
    summary = {risk: sum(1 for s in slots if s["risk"] == risk) for risk in RISK_ORDER}
    return {
        "as_of": timezone.now(),
        "today": today,
        "slots": truncate(ordered, limit),
        "risk_summary": summary,
        "pick_list": pick_list(route=route, slots=slots, today=today) if route is not None else None,
    }
