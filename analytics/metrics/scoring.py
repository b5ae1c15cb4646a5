"""Device performance score, fleet ranking and fleet benchmarks from per-device aggregates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from analytics.metrics._common import (
    FloatArray,
    decimal_series,
    decimal_values,
    device_day_matrix,
    float_values,
    half_rank_steps,
    percentile_rank,
    require_columns,
    safe_divide,
    to_day_index,
)

# Component weights of the performance score, in percent (they sum to 100). Kept as integers so
# the score can be computed exactly from integer half-rank steps (see device_performance_scores).
REVENUE_WEIGHT = 40
CONSISTENCY_WEIGHT = 25
GROWTH_WEIGHT = 20
EFFICIENCY_WEIGHT = 15

SCORE_COLUMNS = [
    "revenue",
    "units",
    "revenue_per_unit",
    "daily_revenue_cv",
    "daily_revenue_slope",
    "revenue_pct",
    "consistency_pct",
    "growth_pct",
    "efficiency_pct",
    "score",
    "fleet_rank",
    "fleet_percentile",
]

BENCHMARK_METRICS = [
    "revenue",
    "units",
    "transactions",
    "avg_transaction_value",
    "avg_daily_revenue",
]


def _key_columns(device_totals: pd.DataFrame) -> list[str]:
    """``device_id`` plus ``asset_number`` when the caller supplied it (it breaks rank ties)."""
    return ["device_id", "asset_number"] if "asset_number" in device_totals.columns else ["device_id"]


def _daily_revenue_cv(daily_matrix: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per row: (reported CV, CV used for ranking).

    CV = population std / |mean| of the row (|mean| so refund-heavy devices with a negative mean do
    not look "extra consistent"). A zero mean reports 0 (division-by-zero rule) but ranks as +inf,
    i.e. least consistent: otherwise a device that sold nothing would be the most consistent one.
    """
    day_count = daily_matrix.shape[1]
    if day_count == 0:
        zeros = np.zeros(daily_matrix.shape[0], dtype=np.float64)
        return zeros, np.full(daily_matrix.shape[0], np.inf)
    means = np.abs(daily_matrix.mean(axis=1))
    stds = daily_matrix.std(axis=1, ddof=0)
    reported = safe_divide(stds, means)
    for_ranking = np.where(means == 0, np.inf, reported)
    return reported, for_ranking


def _daily_revenue_slope(daily_matrix: FloatArray) -> FloatArray:
    """Per row: least-squares slope of revenue vs day index 0..D-1 (revenue per day per day).

    slope = Σ (x - x̄)(y - ȳ) / Σ (x - x̄)²; with fewer than two days the slope is 0.
    """
    day_count = daily_matrix.shape[1]
    if day_count < 2:
        return np.zeros(daily_matrix.shape[0], dtype=np.float64)
    centred_x = np.arange(day_count, dtype=np.float64) - (day_count - 1) / 2.0
    # Σ (x - x̄) ȳ = 0, so y need not be centred.
    slopes: FloatArray = (daily_matrix @ centred_x) / float(centred_x @ centred_x)
    return slopes


def device_performance_scores(
    device_totals: pd.DataFrame,
    daily_revenue: pd.DataFrame,
    days: Sequence[dt.date],
) -> pd.DataFrame:
    """Score every device 0-100 against its fleet and rank the fleet.

    Input ``device_totals`` (one row per device): ``device_id``, ``revenue`` (Decimal or float),
    ``units`` (int); optional ``asset_number`` (tie-breaker for the rank, passed through).
    Input ``daily_revenue``: ``device_id``, ``date``, ``revenue`` — one row per device and day with
    sales; days of ``days`` without a row count as 0, rows outside ``days`` or for devices missing
    from ``device_totals`` are ignored. ``days``: every day of the range (order irrelevant).

    Output, one row per device, sorted by ``fleet_rank``: the key column(s), ``revenue`` (Decimal,
    exact), ``units`` (int), ``revenue_per_unit`` (float, revenue / units, 0 when units = 0),
    ``daily_revenue_cv`` (float, population std / |mean| of the daily series, 0 when the mean is 0),
    ``daily_revenue_slope`` (float, least-squares slope of daily revenue vs day index),
    ``revenue_pct``, ``consistency_pct``, ``growth_pct``, ``efficiency_pct`` (floats 0-100),
    ``score`` (float 0-100), ``fleet_rank`` (int, 1 = best), ``fleet_percentile`` (float 0-100).

    Formula: score = 0.40·revenue_pct + 0.25·consistency_pct + 0.20·growth_pct
    + 0.15·efficiency_pct, where each component is the device's percentile rank within the fleet
    (:func:`analytics.metrics._common.percentile_rank`: (average rank - 1)/(n - 1)·100, ties share
    the average rank, a single device gets 100) of: total revenue (higher is better), daily-revenue
    CV (LOWER is better; a device with zero mean daily revenue ranks as least consistent), slope
    (higher is better) and revenue per unit (higher is better).
    ``fleet_rank`` orders by score descending, equal scores by ``asset_number`` (or ``device_id``)
    ascending, so ranks are 1..n without gaps. ``fleet_percentile`` is the percentile rank of the
    score by the same method (equal scores share it).
    """
    require_columns(device_totals, ["device_id", "revenue", "units"], "device_totals")
    require_columns(daily_revenue, ["device_id", "date", "revenue"], "daily_revenue")
    key_columns = _key_columns(device_totals)
    if device_totals["device_id"].duplicated().any():
        raise ValueError("device_totals must have one row per device_id")

    result = device_totals[key_columns].reset_index(drop=True)
    device_count = len(result)
    if device_count == 0:
        return pd.DataFrame(columns=[*key_columns, *SCORE_COLUMNS])

    revenue = float_values(device_totals["revenue"])
    units = float_values(device_totals["units"])
    revenue_per_unit = safe_divide(revenue, units)
    daily_matrix = device_day_matrix(daily_revenue, pd.Index(device_totals["device_id"]), to_day_index(days))
    reported_cv, cv_for_ranking = _daily_revenue_cv(daily_matrix)
    slope = _daily_revenue_slope(daily_matrix)

    # Negating the CV turns "low is good" into "high is good" for the shared ranking.
    steps = {
        "revenue": half_rank_steps(revenue),
        "consistency": half_rank_steps(-cv_for_ranking),
        "growth": half_rank_steps(slope),
        "efficiency": half_rank_steps(revenue_per_unit),
    }
    # pct = 100·step / (2(n-1)), so weighted_steps / (2(n-1)) is the weighted score and
    # weighted_steps is an exact integer: equal scores compare equal.
    weighted_steps = (
        REVENUE_WEIGHT * steps["revenue"]
        + CONSISTENCY_WEIGHT * steps["consistency"]
        + GROWTH_WEIGHT * steps["growth"]
        + EFFICIENCY_WEIGHT * steps["efficiency"]
    )
    # A lone device has no fleet to be compared with: 100, like each of its components.
    score = np.array([100.0]) if device_count == 1 else weighted_steps / (2.0 * (device_count - 1))

    result["revenue"] = decimal_series(decimal_values(device_totals["revenue"]))
    result["units"] = units.astype(np.int64)
    result["revenue_per_unit"] = revenue_per_unit
    result["daily_revenue_cv"] = reported_cv
    result["daily_revenue_slope"] = slope
    result["revenue_pct"] = percentile_rank(revenue)
    result["consistency_pct"] = percentile_rank(-cv_for_ranking)
    result["growth_pct"] = percentile_rank(slope)
    result["efficiency_pct"] = percentile_rank(revenue_per_unit)
    result["score"] = score
    result["_weighted_steps"] = weighted_steps
    result["fleet_percentile"] = percentile_rank(weighted_steps.astype(np.float64))

    tie_breaker = key_columns[-1]
    result = result.sort_values(
        ["_weighted_steps", tie_breaker], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)
    result["fleet_rank"] = np.arange(1, device_count + 1, dtype=np.int64)
    return result[[*key_columns, *SCORE_COLUMNS]]


@dataclass(frozen=True)
class FleetBenchmarks:
    """Fleet-wide quartiles and summary for a date range.

    ``quartiles`` columns: ``metric`` (one of ``BENCHMARK_METRICS``), ``p25``, ``median``, ``p75``
    (floats). Summary money: ``total_revenue`` is an exact Decimal sum; the per-device mean and
    median are floats like every other statistic here.
    """

    quartiles: pd.DataFrame
    device_count: int
    total_revenue: Decimal
    mean_revenue_per_device: float
    median_revenue_per_device: float


def fleet_benchmarks(device_totals: pd.DataFrame, day_count: int) -> FleetBenchmarks:
    """Quartiles of the per-device metrics across the fleet, plus a fleet summary.

    Input ``device_totals`` (one row per device, devices without sales included with zeros):
    ``device_id``, ``revenue`` (Decimal or float), ``units``, ``transactions``.
    ``day_count``: number of days in the range.

    Per device: avg_transaction_value = revenue / transactions, avg_daily_revenue =
    revenue / day_count (both 0 on a zero denominator). Quartiles use linear interpolation between
    order statistics (numpy's default, = Excel PERCENTILE.INC): p25, median, p75 of revenue, units,
    transactions, avg_transaction_value and avg_daily_revenue across devices. An empty fleet gives
    zero quartiles and a zero summary.

    Output: :class:`FleetBenchmarks` (``quartiles`` rows in ``BENCHMARK_METRICS`` order).
    """
    require_columns(device_totals, ["device_id", "revenue", "units", "transactions"], "device_totals")
    revenue = float_values(device_totals["revenue"])
    transactions = float_values(device_totals["transactions"])
    per_device = {
        "revenue": revenue,
        "units": float_values(device_totals["units"]),
        "transactions": transactions,
        "avg_transaction_value": safe_divide(revenue, transactions),
        "avg_daily_revenue": safe_divide(revenue, np.full(len(revenue), float(day_count))),
    }
    rows = []
    for metric in BENCHMARK_METRICS:
        values = per_device[metric]
        if len(values) == 0:
            p25, median, p75 = 0.0, 0.0, 0.0
        else:
            p25, median, p75 = (float(q) for q in np.percentile(values, [25.0, 50.0, 75.0]))
        rows.append({"metric": metric, "p25": p25, "median": median, "p75": p75})

    device_count = len(device_totals)
    return FleetBenchmarks(
        quartiles=pd.DataFrame(rows, columns=["metric", "p25", "median", "p75"]),
        device_count=device_count,
        total_revenue=sum(decimal_values(device_totals["revenue"]), Decimal(0)),
        mean_revenue_per_device=float(revenue.mean()) if device_count else 0.0,
        median_revenue_per_device=float(np.median(revenue)) if device_count else 0.0,
    )
