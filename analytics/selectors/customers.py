"""Customers: monthly first-time vs repeat cohorts, RFM segments, lifetime value and churn risk."""

from __future__ import annotations

import statistics
from decimal import Decimal
from typing import Any

import pandas as pd

from analytics.filters import Filters
from analytics.metrics.customers import (
    SEGMENT_AT_RISK,
    SEGMENT_CHAMPIONS,
    SEGMENT_HIBERNATING,
    SEGMENT_LOYAL,
    SEGMENT_NEW,
    churn_risk,
    customer_lifetime_value,
    first_time_vs_repeat,
    rfm_segments,
)
from analytics.periods import Period
from analytics.query.histories import customer_active_months, customer_history
from analytics.selectors._common import ZERO, money_ratio, truncate

SEGMENTS = (SEGMENT_CHAMPIONS, SEGMENT_LOYAL, SEGMENT_NEW, SEGMENT_AT_RISK, SEGMENT_HIBERNATING)
HIGH_CHURN_RISK = 0.5


def customer_analytics(*, period: Period, filters: Filters, limit: int | None = None) -> dict[str, Any]:
    """Cohorts over the months of `period`; RFM, lifetime value and churn as of `end` over each customer's history.

    A purchase is a sale (counted by its transactions) or a non-cancelled booking. A customer is
    first-time in the month of their first ever purchase and repeat in later months.
    """
    history = customer_history(until=period.end, filters=filters)
    frame = pd.DataFrame(
        history, columns=["customer_id", "external_ref", "first_purchase", "last_purchase", "frequency", "monetary"]
    )

    activity = customer_active_months(period=period, filters=filters)
    cohorts = first_time_vs_repeat(
        pd.DataFrame({"customer_id": frame["customer_id"], "first_month": frame["first_purchase"]}),
        pd.DataFrame(activity, columns=["customer_id", "month"]),
    )

    rows: list[dict[str, Any]] = []
    if len(frame):
        rfm = rfm_segments(frame, as_of=period.end)
        value = customer_lifetime_value(frame, as_of=period.end)
        churn = churn_risk(frame, as_of=period.end)
        for ref, first, last, r, v, c in zip(
            frame["external_ref"], frame["first_purchase"], frame["last_purchase"],
            rfm.itertuples(index=False), value.itertuples(index=False), churn.itertuples(index=False), strict=True,
        ):
            rows.append(
                {
                    "customer_id": int(r.customer_id),
                    "customer": ref,
                    "first_purchase": first,
                    "last_purchase": last,
                    "recency_days": int(r.recency_days),
                    "frequency": int(r.frequency),
                    "monetary": r.monetary,
                    "r_score": int(r.r_score),
                    "f_score": int(r.f_score),
                    "m_score": int(r.m_score),
                    "segment": r.segment,
                    "lifetime_value": v.lifetime_value,
                    "average_order_value": money_ratio(v.lifetime_value, int(r.frequency)),
                    "purchases_per_30_days": float(v.purchases_per_30_days),
                    "typical_gap_days": float(c.typical_gap_days),
                    "churn_risk": float(c.churn_risk),
                }
            )
    rows.sort(key=lambda r: (-r["monetary"], r["customer"]))

    total_value = sum((r["lifetime_value"] for r in rows), ZERO)
    segments = []
    for segment in SEGMENTS:
        members = [r for r in rows if r["segment"] == segment]
        segments.append(
            {
                "segment": segment,
                "customers": len(members),
                "monetary": sum((r["monetary"] for r in members), ZERO),
            }
        )
    values: list[Decimal] = sorted(r["lifetime_value"] for r in rows)
    return {
        "start": period.start,
        "end": period.end,
        "cohorts": [
            {"month": c.month, "first_time": int(c.first_time), "repeat": int(c.repeat), "active": int(c.active)}
            for c in cohorts.itertuples(index=False)
        ],
        "segments": segments,
        "lifetime_value": {
            "customers": len(rows),
            "total": total_value,
            "average": money_ratio(total_value, len(rows)),
            "median": statistics.median(values) if values else ZERO,
        },
        "churn": {
            "high_risk_customers": sum(1 for r in rows if r["churn_risk"] >= HIGH_CHURN_RISK),
            "average_risk": sum(r["churn_risk"] for r in rows) / len(rows) if rows else 0.0,
        },
        "rfm": truncate(rows, limit),
    }
