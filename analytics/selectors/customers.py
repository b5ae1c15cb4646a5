"""Customers: monthly first-time vs repeat cohorts, RFM segments, lifetime value and churn risk."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from analytics.filters import Filters
from analytics.metrics.customers import (
    SEGMENT_AT_RISK,
    SEGMENT_CHAMPIONS,
    SEGMENT_HIBERNATING,
    SEGMENT_LOYAL,
    SEGMENT_NEW,
    churn_scores,
    cohort_counts,
    purchase_rate,
    rfm_scores,
)
from analytics.periods import Period
from analytics.query.histories import EPOCH, Histories, customer_active_months, customer_history
from analytics.selectors._common import ZERO, Truncated, money_ratio

SEGMENTS = (SEGMENT_CHAMPIONS, SEGMENT_LOYAL, SEGMENT_NEW, SEGMENT_AT_RISK, SEGMENT_HIBERNATING)
HIGH_CHURN_RISK = 0.5


def customer_analytics(*, period: Period, filters: Filters, limit: int | None = None) -> dict[str, Any]:
    """Cohorts over the months of `period`; RFM, lifetime value and churn as of `end` over each customer's history.

    A purchase is a sale (counted by its transactions) or a non-cancelled booking. A customer is
    first-time in the month of their first ever purchase and repeat in later months. The metrics run on
    the histories' columns (numpy); only the rows shown become dicts (20,000 customers at a large chain).
    """
    history = customer_history(until=period.end, filters=filters)
    as_of = (period.end - EPOCH).days
    recency = as_of - history.last_days
    since_first = as_of - history.first_days
    frequency = history.frequency.astype(np.float64)
    r_score, f_score, m_score, segment = rfm_scores(
        recency, since_first, frequency, history.monetary_e4.astype(np.float64)
    )
    rate = purchase_rate(frequency, since_first + 1)
    typical_gap, risk = churn_scores(recency, since_first - recency, frequency)

    active_customers, active_months = customer_active_months(period=period, filters=filters)
    months, first_time, active = cohort_counts(
        history.customer_ids, _months_of_days(history.first_days), active_customers, active_months
    )

    customers = len(history)
    # By monetary desc, then customer (the histories come by external reference, code point by code point).
    order = np.lexsort((np.arange(customers), -history.monetary_e4))
    shown = order if limit is None else order[:limit]
    rows = [
        _rfm_row(history, i, recency=recency, segment=segment, scores=(r_score, f_score, m_score), rate=rate,
                 typical_gap=typical_gap, risk=risk)
        for i in shown.tolist()
    ]
    code_of = {name: code for code, name in enumerate(SEGMENTS)}
    codes = np.fromiter((code_of[name] for name in segment.tolist()), dtype=np.int64, count=customers)
    members = np.bincount(codes, minlength=len(SEGMENTS)).tolist()
    spent = [int(history.monetary_e4[codes == code].sum()) for code in range(len(SEGMENTS))]
    values = np.sort(history.monetary_e4)
    total_value = _money(int(history.monetary_e4.sum()))
    median = ZERO
    if customers:
        middle = customers // 2
        median = _money(int(values[middle])) if customers % 2 else _money(int(values[middle - 1]) + int(values[middle])) / 2
    return {
        "start": period.start,
        "end": period.end,
        "cohorts": [
            {"month": f"{number // 12:04d}-{number % 12 + 1:02d}", "first_time": new, "repeat": count - new, "active": count}
            for number, new, count in zip(months.tolist(), first_time.tolist(), active.tolist(), strict=True)
        ],
        "segments": [
            {"segment": name, "customers": members[code], "monetary": _money(spent[code])}
            for code, name in enumerate(SEGMENTS)
        ],
        "lifetime_value": {
            "customers": customers,
            "total": total_value,
            "average": money_ratio(total_value, customers),
            "median": median,
        },
        "churn": {
            "high_risk_customers": int((risk >= HIGH_CHURN_RISK).sum()),
            # Summed in the order of the list (by monetary), as the rows were.
            "average_risk": sum(risk[order].tolist()) / customers if customers else 0.0,
        },
        "rfm": Truncated(rows, customers),
    }


def _money(e4: int) -> Decimal:
    return Decimal(e4).scaleb(-4)


def _months_of_days(days: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Day numbers since 1970-01-01 → year * 12 + month - 1 of their month."""
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    return months + 1970 * 12


def _rfm_row(
    history: Histories, i: int, *, recency: npt.NDArray[np.int64], segment: npt.NDArray[np.object_],
    scores: tuple[npt.NDArray[np.int64], ...], rate: npt.NDArray[np.float64], typical_gap: npt.NDArray[np.float64],
    risk: npt.NDArray[np.float64],
) -> dict[str, Any]:
    """The RFM list's row of the customer at position `i` of the histories."""
    frequency = int(history.frequency[i])
    monetary = _money(int(history.monetary_e4[i]))
    return {
        "customer_id": int(history.customer_ids[i]),
        "customer": history.refs[i],
        "first_purchase": EPOCH + timedelta(days=int(history.first_days[i])),
        "last_purchase": EPOCH + timedelta(days=int(history.last_days[i])),
        "recency_days": int(recency[i]),
        "frequency": frequency,
        "monetary": monetary,
        "r_score": int(scores[0][i]),
        "f_score": int(scores[1][i]),
        "m_score": int(scores[2][i]),
        "segment": segment[i],
        "lifetime_value": monetary,
        "average_order_value": money_ratio(monetary, frequency),
        "purchases_per_30_days": float(rate[i]),
        "typical_gap_days": float(typical_gap[i]),
        "churn_risk": float(risk[i]),
    }
