"""Asset (device) sales: per-device metrics, top products, performance score, fleet rank, summary and benchmarks."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from analytics.filters import Filters
from analytics.metrics.scoring import device_performance_scores, fleet_benchmarks
from analytics.periods import Period
from analytics.query import sales_by
from analytics.query.device_sales import MONEY_SCALE, device_daily_revenue, device_top_products
from analytics.query.marks import same_watermark
from analytics.selectors._common import ZERO, Truncated, devices_in_scope, money_ratio, sales_filters_apply
from fleet.models import Device

TOP_PRODUCTS = 5


def asset_sales(
    *, period: Period, filters: Filters, limit: int | None = None, top_products: bool = True, daily_series: bool = False
) -> dict[str, Any]:
    """Every device in scope (devices without sales included with zeros), ranked by performance score.

    `daily_series=True` adds each device's revenue for every day of the range (the daily trend itself,
    not only its slope). `top_products=False` skips the per-device best sellers, the one part no rollup answers (raw
    rows: the part before the rollup marks cached and advanced with them, see analytics.query.stable_parts); with a
    `limit`, only the page's devices are read.
    """
    with same_watermark():  # every figure from one rollup watermark, read once
        return _asset_sales(
            period=period, filters=filters, limit=limit, top_products=top_products, daily_series=daily_series
        )


def _asset_sales(
    *, period: Period, filters: Filters, limit: int | None, top_products: bool, daily_series: bool
) -> dict[str, Any]:
    devices = list(devices_in_scope(filters=filters, period=period).values("id", "asset", "location__name"))
    has_sales = sales_filters_apply(filters)
    totals = {row["device"]: row for row in sales_by(period=period, filters=filters, by=["device"])} if has_sales else {}
    # (device, day offset, revenue in 1/10,000) as arrays: 60,000 rows at 2,000 devices × 30 days, no dicts.
    daily = device_daily_revenue(period=period, filters=filters) if has_sales else None

    if filters.narrows_products:
        # "Devices selling this category": a category narrows the fleet to the machines that sold it.
        devices = [device for device in devices if device["id"] in totals]
    # A device with sales but outside the scope list (e.g. retired since) still belongs in the answer.
    known = {device["id"] for device in devices}
    missing = [device_id for device_id in totals if device_id not in known]
    if missing:
        devices += list(Device.objects.filter(id__in=missing).values("id", "asset", "location__name"))

    # Statistics (CV, slope) are floats anyway; exact money stays in the totals. n / 10,000 in float is the
    # correctly rounded value of the exact Decimal, the same float the Decimal itself would convert to.
    start = np.datetime64(period.start, "D")
    if daily is None or daily.empty:
        daily_frame = pd.DataFrame({"device_id": [], "date": np.array([], dtype="datetime64[ns]"), "revenue": []})
        first_day: dict[int, Any] = {}
        last_day: dict[int, Any] = {}
        active_days: dict[int, int] = {}
    else:
        daily_frame = pd.DataFrame(
            {
                "device_id": daily["device_id"].to_numpy(),
                "date": (start + daily["day"].to_numpy().astype("timedelta64[D]")).astype("datetime64[ns]"),
                "revenue": daily["revenue"].to_numpy() / float(MONEY_SCALE),
            }
        )
        per_device = daily.groupby("device_id")["day"].agg(["min", "max", "count"])
        first_day = {int(k): period.start + timedelta(days=int(v)) for k, v in per_device["min"].items()}
        last_day = {int(k): period.start + timedelta(days=int(v)) for k, v in per_device["max"].items()}
        active_days = {int(k): int(v) for k, v in per_device["count"].items()}
    fleet_daily = {row["day"]: row["revenue"] for row in sales_by(period=period, filters=filters, by=["day"])} if has_sales else {}

    frame = pd.DataFrame(
        {
            "device_id": [d["id"] for d in devices],
            "asset_number": [d["asset"] for d in devices],
            "revenue": [totals.get(d["id"], {}).get("revenue") or ZERO for d in devices],
            "units": [int(totals.get(d["id"], {}).get("units") or 0) for d in devices],
            "transactions": [int(totals.get(d["id"], {}).get("transactions") or 0) for d in devices],
        }
    )
    days = list(period.dates())
    scores = device_performance_scores(frame[["device_id", "asset_number", "revenue", "units"]], daily_frame, days)
    benchmarks = fleet_benchmarks(frame, period.days)

    best_sellers: dict[int, list[dict[str, Any]]] = {}
    if has_sales and top_products:
        scope = filters
        if limit is not None and limit < len(scores):
            # A page of the ranking: only its devices' best sellers are read (a device's list ignores the others).
            scope = replace(filters, devices=tuple(int(i) for i in scores["device_id"].head(limit)))
        best_sellers = device_top_products(period=period, filters=scope, top=TOP_PRODUCTS)

    by_id = {d["id"]: d for d in devices}
    series: dict[int, dict[Any, Decimal]] = {}
    if daily_series and daily is not None:
        for device_id, offset, scaled in zip(
            daily["device_id"].tolist(), daily["day"].tolist(), daily["revenue"].tolist(), strict=True
        ):
            series.setdefault(device_id, {})[period.start + timedelta(days=offset)] = Decimal(scaled).scaleb(-4)
    # Rows only for the devices shown (a page of 100 of 2,000); the summary's sums come from the frame.
    shown = scores if limit is None else scores.head(limit)
    rows: list[dict[str, Any]] = []
    for score in shown.itertuples(index=False):
        device_id = int(score.device_id)
        device = by_id[device_id]
        total = totals.get(device_id, {})
        revenue: Decimal = total.get("revenue") or ZERO
        units = int(total.get("units") or 0)
        transactions = int(total.get("transactions") or 0)
        rows.append(
            {
                "device_id": device_id,
                "asset": device["asset"],
                "location_name": device["location__name"],
                "total_revenue": revenue,
                "total_units": units,
                "total_transactions": transactions,
                "avg_transaction_value": money_ratio(revenue, transactions),
                "daily_revenue": money_ratio(revenue, period.days),
                "revenue_per_unit": money_ratio(revenue, units),
                "active_days": int(active_days.get(device_id, 0)),
                "first_sale": first_day.get(device_id),
                "last_sale": last_day.get(device_id),
                "top_products": best_sellers.get(device_id, []),
                **(
                    {"daily": [{"date": day, "revenue": series.get(device_id, {}).get(day, ZERO)} for day in days]}
                    if daily_series
                    else {}
                ),
                "daily_trend": float(score.daily_revenue_slope),
                "daily_revenue_cv": float(score.daily_revenue_cv),
                "score_components": {
                    "revenue": float(score.revenue_pct),
                    "consistency": float(score.consistency_pct),
                    "growth": float(score.growth_pct),
                    "efficiency": float(score.efficiency_pct),
                },
                "performance_score": float(score.score),
                "fleet_rank": int(score.fleet_rank),
                "percentile": float(score.fleet_percentile),
            }
        )

    total_revenue = sum(frame["revenue"].tolist(), ZERO)
    total_units = int(frame["units"].sum())
    total_transactions = int(frame["transactions"].sum())
    return {
        "start": period.start,
        "end": period.end,
        "days": period.days,
        "devices": Truncated(rows, len(scores)),
        "fleet_summary": {
            "device_count": benchmarks.device_count,
            "active_devices": len(totals),
            "total_revenue": total_revenue,
            "total_units": total_units,
            "total_transactions": total_transactions,
            "avg_transaction_value": money_ratio(total_revenue, total_transactions),
            "daily_revenue": money_ratio(total_revenue, period.days),
            "revenue_per_unit": money_ratio(total_revenue, total_units),
            "mean_revenue_per_device": money_ratio(total_revenue, len(scores)),
            "median_revenue_per_device": benchmarks.median_revenue_per_device,
        },
        "benchmarks": [
            {"metric": q.metric, "p25": float(q.p25), "median": float(q.median), "p75": float(q.p75)}
            for q in benchmarks.quartiles.itertuples(index=False)
        ],
        "daily": [{"date": day, "revenue": fleet_daily.get(day, ZERO)} for day in days],
    }
