"""Customer metrics: RFM segments, lifetime value, churn risk and first-time/repeat cohorts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.metrics._common import (
    FloatArray,
    IntArray,
    as_date,
    decimal_series,
    decimal_values,
    distinct_sorted,
    float_values,
    half_rank_steps,
    require_columns,
    safe_divide,
    to_day_series,
)

SEGMENT_NEW = "New"
SEGMENT_CHAMPIONS = "Champions"
SEGMENT_AT_RISK = "At Risk"
SEGMENT_LOYAL = "Loyal"
SEGMENT_HIBERNATING = "Hibernating"

RFM_INPUT_COLUMNS = ["customer_id", "first_purchase", "last_purchase", "frequency", "monetary"]
RFM_COLUMNS = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
]

# The score a lone customer gets on every axis: with nobody to compare to, "average" is the only
# honest answer (and it is also what n equal customers get).
NEUTRAL_QUINTILE = 3


def _days_before(as_of: dt.date, dates: pd.Series) -> IntArray:
    """Whole days from each date to ``as_of`` (0 = same day)."""
    as_of_day = pd.Timestamp(as_date(as_of))
    return np.asarray((as_of_day - to_day_series(dates)).dt.days, dtype=np.int64)


def quintile_scores(values: FloatArray) -> IntArray:
    """Score each value 1..5 by the quintile of its percentile rank (higher value → higher score).

    pct = (average rank - 1) / (n - 1) ∈ [0, 1] (ties share the average rank); score =
    1 + ⌊5·pct⌋, capped at 5 — i.e. [0, .2) → 1, [.2, .4) → 2, …, [.8, 1] → 5. Computed in
    integers from the half-rank steps so a pct of exactly 0.2 is not pushed down by float error.
    Equal values share a score; all-equal values get 3. Small n: one value → 3; 2 values → 1 and 5;
    3 → 1, 3, 5; 4 → 1, 2, 4, 5 (the formula is applied as is; quintiles of fewer than five
    customers are coarse by nature).
    """
    count = len(values)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    if count == 1:
        return np.array([NEUTRAL_QUINTILE], dtype=np.int64)
    steps = half_rank_steps(values)  # = 2·(rank - 1), so pct = steps / (2(n - 1))
    scores = 1 + (5 * steps) // (2 * (count - 1))
    return np.minimum(scores, 5).astype(np.int64)


def rfm_segments(
    customers: pd.DataFrame,
    as_of: dt.date,
    new_customer_days: int = 30,
) -> pd.DataFrame:
    """Recency/frequency/monetary scores and a segment per customer.

    Input (one row per customer): ``customer_id``, ``first_purchase``, ``last_purchase`` (dates),
    ``frequency`` (number of purchases), ``monetary`` (Decimal total spent). ``as_of``: the date the
    segments describe.

    recency_days = as_of - last_purchase. Scores via :func:`quintile_scores`: R on -recency (more
    recent is better), F on frequency, M on monetary. Segment, first matching rule wins:
      1. New — first purchase less than ``new_customer_days`` ago (as_of - first_purchase < 30);
      2. Champions — R ≥ 4 and F ≥ 4;
      3. At Risk — R ≤ 2 and F ≥ 3 (bought often, not lately; checked before Loyal so a lapsed
         frequent buyer is flagged rather than reassuringly called loyal);
      4. Loyal — F ≥ 4, or R ≥ 3 and F ≥ 3;
      5. Hibernating — everyone else.
    M is reported but does not drive the segment (it mostly follows F here and is used for value).

    Output: ``customer_id``, ``recency_days`` (int), ``frequency`` (int), ``monetary`` (Decimal),
    ``r_score``, ``f_score``, ``m_score`` (int 1..5), ``segment`` (str); input order.
    """
    require_columns(customers, RFM_INPUT_COLUMNS, "customers")
    recency_days = _days_before(as_of, customers["last_purchase"])
    days_since_first = _days_before(as_of, customers["first_purchase"])
    frequency = float_values(customers["frequency"])
    r_score, f_score, m_score, segment = rfm_scores(
        recency_days, days_since_first, frequency, float_values(customers["monetary"]), new_customer_days=new_customer_days
    )
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "recency_days": recency_days,
            "frequency": frequency.astype(np.int64),
            "monetary": decimal_series(decimal_values(customers["monetary"])),
            "r_score": r_score,
            "f_score": f_score,
            "m_score": m_score,
            "segment": segment,
        },
        columns=RFM_COLUMNS,
    )


def rfm_scores(
    recency_days: IntArray, days_since_first: IntArray, frequency: FloatArray, monetary: FloatArray,
    *, new_customer_days: int = 30,
) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.object_]]:
    """The scores and segment of :func:`rfm_segments` from its numbers as arrays (one element per customer):
    (r_score, f_score, m_score, segment)."""
    r_score = quintile_scores(-recency_days.astype(np.float64))
    f_score = quintile_scores(frequency)
    m_score = quintile_scores(monetary)
    segment = np.select(
        [
            days_since_first < new_customer_days,
            (r_score >= 4) & (f_score >= 4),
            (r_score <= 2) & (f_score >= 3),
            (f_score >= 4) | ((r_score >= 3) & (f_score >= 3)),
        ],
        [SEGMENT_NEW, SEGMENT_CHAMPIONS, SEGMENT_AT_RISK, SEGMENT_LOYAL],
        default=SEGMENT_HIBERNATING,
    ).astype(object)
    return r_score, f_score, m_score, segment


LIFETIME_VALUE_COLUMNS = [
    "customer_id",
    "lifetime_value",
    "average_order_value",
    "tenure_days",
    "purchases_per_30_days",
]

# Tenure shorter than this is stretched to it before computing a purchase rate, so a customer who
# bought once yesterday is "1 purchase per 30 days", not "30 per 30 days".
MIN_RATE_WINDOW_DAYS = 30


def customer_lifetime_value(customers: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Historical lifetime value with its two factors per customer.

    Input: ``customer_id``, ``first_purchase`` (date), ``frequency`` (int), ``monetary`` (Decimal).

    lifetime_value = monetary (exact Decimal total spent to date); average_order_value =
    monetary / frequency (float, 0 when frequency = 0); tenure_days = as_of - first_purchase + 1
    (the first day counts); purchases_per_30_days = frequency / max(tenure_days, 30) * 30.

    Output: ``customer_id``, ``lifetime_value`` (Decimal), ``average_order_value`` (float),
    ``tenure_days`` (int), ``purchases_per_30_days`` (float); input order.
    """
    require_columns(customers, ["customer_id", "first_purchase", "frequency", "monetary"], "customers")
    frequency = float_values(customers["frequency"])
    tenure_days = _days_before(as_of, customers["first_purchase"]) + 1
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "lifetime_value": decimal_series(decimal_values(customers["monetary"])),
            "average_order_value": safe_divide(float_values(customers["monetary"]), frequency),
            "tenure_days": tenure_days,
            "purchases_per_30_days": purchase_rate(frequency, tenure_days),
        },
        columns=LIFETIME_VALUE_COLUMNS,
    )


def purchase_rate(frequency: FloatArray, tenure_days: IntArray) -> FloatArray:
    """Purchases per 30 days: frequency / max(tenure_days, 30) * 30 (see :func:`customer_lifetime_value`)."""
    rate_window = np.maximum(tenure_days, MIN_RATE_WINDOW_DAYS).astype(np.float64)
    return safe_divide(frequency, rate_window) * 30.0


CHURN_COLUMNS = ["customer_id", "recency_days", "typical_gap_days", "churn_risk"]


def churn_risk(
    customers: pd.DataFrame,
    as_of: dt.date,
    default_gap_days: float = 30.0,
) -> pd.DataFrame:
    """A 0-1 churn risk from how overdue each customer is against their own purchase rhythm.

    Input: ``customer_id``, ``first_purchase``, ``last_purchase`` (dates), ``frequency`` (int).

    typical_gap_days = (last_purchase - first_purchase) / (frequency - 1) for repeat customers,
    at least 1 day (several purchases on one day would otherwise divide by zero). One-time buyers
    have no rhythm of their own and get the median gap of this frame's repeat customers, or
    ``default_gap_days`` when there are none.
    overdue = recency_days / typical_gap_days; churn_risk = clip((overdue - 1) / 2, 0, 1): 0 while
    the customer is within one typical gap, rising linearly to 1 at three gaps.

    Output: ``customer_id``, ``recency_days`` (int), ``typical_gap_days`` (float), ``churn_risk``
    (float 0-1); input order.
    """
    require_columns(customers, ["customer_id", "first_purchase", "last_purchase", "frequency"], "customers")
    recency_days = _days_before(as_of, customers["last_purchase"])
    active_span_days = _days_before(as_of, customers["first_purchase"]) - recency_days
    typical_gap, risk = churn_scores(
        recency_days, active_span_days, float_values(customers["frequency"]), default_gap_days=default_gap_days
    )
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "recency_days": recency_days,
            "typical_gap_days": typical_gap,
            "churn_risk": risk,
        },
        columns=CHURN_COLUMNS,
    )


def churn_scores(
    recency_days: IntArray, active_span_days: IntArray, frequency: FloatArray, *, default_gap_days: float = 30.0
) -> tuple[FloatArray, FloatArray]:
    """(typical_gap_days, churn_risk) of :func:`churn_risk` from its numbers as arrays; active_span_days =
    last_purchase - first_purchase."""
    is_repeat = frequency >= 2
    own_gap = np.maximum(safe_divide(active_span_days.astype(np.float64), frequency - 1), 1.0)
    fallback_gap = float(np.median(own_gap[is_repeat])) if is_repeat.any() else default_gap_days
    typical_gap = np.where(is_repeat, own_gap, fallback_gap)
    overdue = safe_divide(recency_days.astype(np.float64), typical_gap)
    return typical_gap, np.clip((overdue - 1.0) / 2.0, 0.0, 1.0)


def _month_key(value: object) -> str:
    """A month-like value ("YYYY-MM", "YYYY-MM-DD", date, datetime, Timestamp, Period) → "YYYY-MM"."""
    if isinstance(value, (pd.Period, dt.date)):  # dt.date covers datetime and Timestamp
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value)
    parsed = pd.Timestamp(text if len(text) > 7 else f"{text}-01")
    return f"{parsed.year:04d}-{parsed.month:02d}"


COHORT_COLUMNS = ["month", "first_time", "repeat", "active"]


def first_time_vs_repeat(first_activity: pd.DataFrame, activity: pd.DataFrame) -> pd.DataFrame:
    """Per month, how many active customers were new and how many came back.

    Input ``first_activity``: ``customer_id``, ``first_month`` — the month of the customer's first
    ever purchase or booking (may predate the reporting range). Input ``activity``:
    ``customer_id``, ``month`` — one row per customer per month with any purchase or booking
    (duplicates count once). Months may be "YYYY-MM" strings, dates or Timestamps.

    A customer active in month m is first-time when m is their first month and repeat when m is
    later. The first month is the earlier of ``first_month`` and the customer's earliest row in
    ``activity`` (so inconsistent inputs cannot produce a repeat visit before the first one);
    customers missing from ``first_activity`` start at their earliest activity.

    Output, one row per month present in ``activity``, ascending: ``month`` ("YYYY-MM"),
    ``first_time``, ``repeat``, ``active`` (= first_time + repeat) as ints.
    """
    require_columns(first_activity, ["customer_id", "first_month"], "first_activity")
    require_columns(activity, ["customer_id", "month"], "activity")
    if activity.empty:
        return pd.DataFrame(columns=COHORT_COLUMNS)

    months, first_time, active = cohort_counts(
        first_activity["customer_id"].to_numpy(dtype=np.int64), _month_numbers(first_activity["first_month"]),
        activity["customer_id"].to_numpy(dtype=np.int64), _month_numbers(activity["month"]),
    )
    return pd.DataFrame(
        {
            "month": [f"{number // 12:04d}-{number % 12 + 1:02d}" for number in months.tolist()],
            "first_time": first_time,
            "repeat": active - first_time,
            "active": active,
        },
        columns=COHORT_COLUMNS,
    )


def _month_numbers(column: pd.Series) -> IntArray:
    """Month-like values (see :func:`_month_key`) → year * 12 + month - 1, converting each distinct value once."""
    codes, distinct = pd.factorize(column)
    numbers = np.array([int(key[:4]) * 12 + int(key[5:7]) - 1 for key in map(_month_key, distinct)], dtype=np.int64)
    return numbers[codes] if len(codes) else np.zeros(0, dtype=np.int64)


def cohort_counts(
    first_ids: IntArray, first_months: IntArray, active_ids: IntArray, active_months: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """The rule of :func:`first_time_vs_repeat` on month numbers (year * 12 + month - 1): per month present in the
    activity, ascending, (months, first_time, active). A customer's first month is the earlier of their declared
    one (`first_ids`, `first_months`) and their earliest activity; (customer, month) pairs count once."""
    if not len(active_ids):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    # One integer per (customer, month) pair, sorted by customer, then month (month numbers stay below 2**20).
    keys = distinct_sorted(active_ids * (1 << 20) + active_months)
    pair_customer, pair_month = keys >> 20, keys & ((1 << 20) - 1)
    starts = np.flatnonzero(np.r_[True, pair_customer[1:] != pair_customer[:-1]])
    customers, earliest = pair_customer[starts], pair_month[starts]  # each customer's earliest active month
    # Each customer's earliest declared month (scattered into their place); none declared: their earliest activity.
    declared = np.full(len(customers), np.iinfo(np.int64).max, dtype=np.int64)
    at = np.searchsorted(customers, first_ids)
    known = at < len(customers)
    known[known] = customers[at[known]] == first_ids[known]
    np.minimum.at(declared, at[known], first_months[known])
    first_month = np.minimum(earliest, declared)
    is_first = pair_month == np.repeat(first_month, np.diff(np.r_[starts, len(keys)]))
    months = distinct_sorted(pair_month)
    month_of_pair = np.searchsorted(months, pair_month)
    active = np.bincount(month_of_pair, minlength=len(months)).astype(np.int64)
    first_time = np.bincount(month_of_pair, weights=is_first, minlength=len(months)).astype(np.int64)
    return months, first_time, active
