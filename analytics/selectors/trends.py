"""Time patterns of one daily series: linear trend, weekly seasonality, 30-day forecast and its back-tested error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd

from analytics.filters import Filters
from analytics.metrics.timeseries import backtest, forecast, linear_trend, weekly_seasonality
from analytics.periods import Period
from analytics.query import bookings_by, local_today, sales_by
from analytics.selectors._common import bookings_filters_apply, sales_filters_apply

TREND_METRICS = ("revenue", "units", "transactions", "bookings")
FORECAST_DAYS = 30


def trends(*, period: Period, filters: Filters, metric: str = "revenue") -> dict[str, Any]:
    """The metric per local day of `period` (every day, 0 when nothing happened) and its statistics.

    bookings = non-cancelled bookings by start day. A range reaching today stops at yesterday (only
    complete days are modelled; `end` says which day was last). The forecast continues the day index past
    `end` for 30 days; the back-test refits on all but the last min(14, n // 3) days and measures
    MAE and MAPE on them.
    """
    if metric not in TREND_METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    # Only complete local days feed the model: today's partial day would drag trend and forecast down.
    yesterday = local_today() - timedelta(days=1)
    if period.start <= yesterday:
        period = Period(period.start, min(period.end, yesterday))
    per_day: dict[Any, float] = {}
    if metric == "bookings":
        if bookings_filters_apply(filters):
            for row in bookings_by(period=period, filters=filters, by=["day"]):
                per_day[row["day"]] = float(int(row["bookings"]) - int(row["cancelled"]))
    elif sales_filters_apply(filters):
        for row in sales_by(period=period, filters=filters, by=["day"]):
            per_day[row["day"]] = float(row[metric])
    days = list(period.dates())
    series = pd.DataFrame({"date": days, "value": [per_day.get(day, 0.0) for day in days]})
    fit = linear_trend(series)
    seasonality = weekly_seasonality(series)
    predicted = forecast(series, horizon_days=FORECAST_DAYS)
    error = backtest(series)
    return {
        "start": period.start,
        "end": period.end,
        "metric": metric,
        "series": [{"date": day, "value": per_day.get(day, 0.0)} for day in days],
        "trend": {"slope": fit.slope, "intercept": fit.intercept, "r_squared": fit.r_squared},
        "seasonality": [
            {"weekday": int(s.iso_weekday), "mean": float(s.mean_value), "factor": float(s.factor)}
            for s in seasonality.itertuples(index=False)
        ],
        "forecast": [
            {"date": f.date, "forecast": float(f.forecast), "lower": float(f.lower), "upper": float(f.upper)}
            for f in predicted.itertuples(index=False)
        ],
        "backtest": {"holdout_days": error.holdout_days, "mae": error.mae, "mape": error.mape},
    }
