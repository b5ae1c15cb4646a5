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
from analytics.selectors._common import ZERO, Truncated, money_ratio

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

    refs: list[str] = frame["external_ref"].tolist()
    monetary: list[Decimal] = []
    churn_values: list[float] = []
    rfm = value = churn = None
    if len(frame):
        rfm = rfm_segments(frame, as_of=period.end)
        value = customer_lifetime_value(frame, as_of=period.end)
        churn = churn_risk(frame, as_of=period.end)
        monetary = rfm["monetary"].tolist()
        churn_values = [float(x) for x in churn["churn_risk"].tolist()]
    # By monetary desc, then customer; only the rows shown become dicts (20,000 customers at a large chain).
    order = sorted(range(len(refs)), key=lambda i: (-monetary[i], refs[i]))
    shown = order if limit is None else order[:limit]
    rows: list[dict[str, Any]] = []
    if rfm is not None and value is not None and churn is not None and shown:
        rows = _rfm_rows(frame, rfm, value, churn, shown)

    lifetime: list[Decimal] = value["lifetime_value"].tolist() if value is not None else []
    segment_of: list[str] = rfm["segment"].tolist() if rfm is not None else []
    total_value = sum((lifetime[i] for i in order), ZERO)
    members = dict.fromkeys(SEGMENTS, 0)
    spent = dict.fromkeys(SEGMENTS, ZERO)
    for i in order:
        members[segment_of[i]] += 1
        spent[segment_of[i]] += monetary[i]
    segments = [{"segment": segment, "customers": members[segment], "monetary": spent[segment]} for segment in SEGMENTS]
    values: list[Decimal] = sorted(lifetime)
    customers = len(order)
    return {
        "start": period.start,
        "end": period.end,
        "cohorts": [
            {"month": c.month, "first_time": int(c.first_time), "repeat": int(c.repeat), "active": int(c.active)}
            for c in cohorts.itertuples(index=False)
        ],
        "segments": segments,
        "lifetime_value": {
            "customers": customers,
            "total": total_value,
            "average": money_ratio(total_value, customers),
            "median": statistics.median(values) if values else ZERO,
        },
        "churn": {
            "high_risk_customers": sum(1 for risk in churn_values if risk >= HIGH_CHURN_RISK),
            # Summed in the order of the list (by monetary), as the rows were.
            "average_risk": sum(churn_values[i] for i in order) / customers if customers else 0.0,
        },
        "rfm": Truncated(rows, customers),
    }


def _rfm_rows(
    frame: pd.DataFrame, rfm: pd.DataFrame, value: pd.DataFrame, churn: pd.DataFrame, shown: list[int]
) -> list[dict[str, Any]]:
    """The RFM list's rows for the customers at positions `shown` of the frames (all in input order)."""
    columns = {
        "customer_id": rfm["customer_id"].tolist(), "customer": frame["external_ref"].tolist(),
        "first_purchase": frame["first_purchase"].tolist(), "last_purchase": frame["last_purchase"].tolist(),
        "recency_days": rfm["recency_days"].tolist(), "frequency": rfm["frequency"].tolist(),
        "monetary": rfm["monetary"].tolist(), "r_score": rfm["r_score"].tolist(), "f_score": rfm["f_score"].tolist(),
        "m_score": rfm["m_score"].tolist(), "segment": rfm["segment"].tolist(),
        "lifetime_value": value["lifetime_value"].tolist(), "purchases_per_30_days": value["purchases_per_30_days"].tolist(),
        "typical_gap_days": churn["typical_gap_days"].tolist(), "churn_risk": churn["churn_risk"].tolist(),
    }
    rows = []
    for i in shown:
        frequency = int(columns["frequency"][i])
        rows.append(
            {
                "customer_id": int(columns["customer_id"][i]),
                "customer": columns["customer"][i],
                "first_purchase": columns["first_purchase"][i],
                "last_purchase": columns["last_purchase"][i],
                "recency_days": int(columns["recency_days"][i]),
                "frequency": frequency,
                "monetary": columns["monetary"][i],
                "r_score": int(columns["r_score"][i]),
                "f_score": int(columns["f_score"][i]),
                "m_score": int(columns["m_score"][i]),
                "segment": columns["segment"][i],
                "lifetime_value": columns["lifetime_value"][i],
                "average_order_value": money_ratio(columns["lifetime_value"][i], frequency),
                "purchases_per_30_days": float(columns["purchases_per_30_days"][i]),
                "typical_gap_days": float(columns["typical_gap_days"][i]),
                "churn_risk": float(columns["churn_risk"][i]),
            }
        )
    return rows
