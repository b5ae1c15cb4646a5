"""Daily time series: linear trend, weekly seasonality, 30-day forecast and back-test error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.metrics._common import (
    FloatArray,
    float_values,
    require_columns,
    to_day_series,
    to_python_dates,
)

# Two-sided 95 % quantile of the normal distribution, for the forecast interval.
Z_95 = 1.959963984540054
DEFAULT_HORIZON_DAYS = 30
MAX_HOLDOUT_DAYS = 14

FORECAST_COLUMNS = ["date", "forecast", "lower", "upper"]
SEASONALITY_COLUMNS = ["iso_weekday", "mean_value", "factor", "detrended_factor"]


@dataclass(frozen=True)
class TrendFit:
    """Least-squares line value = intercept + slope · day_index (day 0 = first day)."""

    slope: float
    intercept: float
    r_squared: float


@dataclass(frozen=True)
class BacktestResult:
    """Forecast error on the last ``holdout_days`` days when fitted on the days before them.

    ``mae`` is in the series' unit; ``mape`` is a percentage over days with a non-zero actual.
    """

    holdout_days: int
    mae: float
    mape: float


def complete_daily_series(daily: pd.DataFrame, value_column: str = "value") -> tuple[pd.DatetimeIndex, FloatArray]:
    """Input ``date`` + ``value_column`` rows → (every day from first to last, values).

    Duplicate dates are summed and missing days between the first and last date are 0 (a day
    without sales had no revenue). Empty input → empty index and array.
    """
    require_columns(daily, ["date", value_column], "daily")
    if daily.empty:
        return pd.DatetimeIndex([], dtype="datetime64[ns]"), np.zeros(0, dtype=np.float64)
    per_day = pd.Series(float_values(daily[value_column]), index=to_day_series(daily["date"]).to_numpy())
    per_day = per_day.groupby(level=0).sum()
    all_days = pd.date_range(per_day.index.min(), per_day.index.max(), freq="D").astype("datetime64[ns]")
    values = per_day.reindex(all_days, fill_value=0.0).to_numpy(dtype=np.float64)
    return all_days, values


def _fit_trend(values: FloatArray) -> TrendFit:
    count = len(values)
    if count == 0:
        return TrendFit(slope=0.0, intercept=0.0, r_squared=0.0)
    mean_value = float(values.mean())
    if count == 1:
        return TrendFit(slope=0.0, intercept=mean_value, r_squared=0.0)
    day_index = np.arange(count, dtype=np.float64)
    centred_x = day_index - day_index.mean()
    slope = float(centred_x @ (values - mean_value)) / float(centred_x @ centred_x)
    intercept = mean_value - slope * float(day_index.mean())
    residuals = values - (intercept + slope * day_index)
    total_sum_of_squares = float(((values - mean_value) ** 2).sum())
    # A constant series has nothing to explain: r² = 0 by the division-by-zero rule.
    r_squared = 1.0 - float((residuals**2).sum()) / total_sum_of_squares if total_sum_of_squares else 0.0
    return TrendFit(slope=slope, intercept=intercept, r_squared=r_squared)


def linear_trend(daily: pd.DataFrame, value_column: str = "value") -> TrendFit:
    """Least-squares linear trend of a daily series.

    Input: ``date``, ``value_column`` (gaps filled with 0, see :func:`complete_daily_series`).
    x = day index 0..n-1, slope = Σ(x - x̄)(y - ȳ) / Σ(x - x̄)² (per day), intercept = ȳ - slope·x̄,
    r² = 1 - SS_res / SS_tot (0 when SS_tot = 0, i.e. a constant series).
    Empty → all zeros; one point → slope 0, intercept = that value, r² 0.
    """
    _, values = complete_daily_series(daily, value_column)
    return _fit_trend(values)


def _trend_values(trend: TrendFit, day_positions: FloatArray) -> FloatArray:
    values: FloatArray = trend.intercept + trend.slope * day_positions
    return values


def _weekday_means_and_factors(days: pd.DatetimeIndex, values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(mean value per weekday, mean value per weekday / overall mean), index 0 = Monday.

    The factor is 1 for an unobserved weekday and for all weekdays when the overall mean is 0.
    """
    weekday_means = np.zeros(7, dtype=np.float64)
    factors = np.ones(7, dtype=np.float64)
    if len(values) == 0:
        return weekday_means, factors
    overall_mean = float(values.mean())
    weekdays = np.asarray(days.day_of_week, dtype=np.int64)  # Monday = 0
    for weekday in range(7):
        on_weekday = weekdays == weekday
        if not on_weekday.any():
            continue
        weekday_means[weekday] = float(values[on_weekday].mean())
        if overall_mean != 0:
            factors[weekday] = weekday_means[weekday] / overall_mean
    return weekday_means, factors


def _detrended_weekday_factors(days: pd.DatetimeIndex, values: FloatArray, trend: TrendFit) -> FloatArray:
    """Per weekday (0 = Monday): mean actual / mean trend value on that weekday.

    Dividing by the trend instead of the overall mean keeps a trend from leaking into the factors
    (in a growing series the last weekday of the history would otherwise look "strong" and the
    forecast would count the growth twice). 1 for an unobserved weekday or a trend mean <= 0.
    """
    factors = np.ones(7, dtype=np.float64)
    if len(values) == 0:
        return factors
    weekdays = np.asarray(days.day_of_week, dtype=np.int64)
    fitted_trend = _trend_values(trend, np.arange(len(values), dtype=np.float64))
    for weekday in range(7):
        on_weekday = weekdays == weekday
        if not on_weekday.any():
            continue
        trend_mean = float(fitted_trend[on_weekday].mean())
        if trend_mean > 0:
            factors[weekday] = float(values[on_weekday].mean()) / trend_mean
    return factors


def weekly_seasonality(daily: pd.DataFrame, value_column: str = "value") -> pd.DataFrame:
    """Weekday factors of a daily series.

    Input: ``date``, ``value_column`` (gaps filled with 0).
    factor(w) = mean of the values on ISO weekday w / mean of all values (the product definition).
    detrended_factor(w) = mean of the values on weekday w / mean of the linear trend on the same
    days — what :func:`forecast` multiplies the trend by; equal to ``factor`` when there is no
    trend. Both are 1 (neutral, deliberately not the usual division-by-zero 0, because they
    multiply a forecast) for a weekday with no observations, and ``factor`` is 1 for every weekday
    when the overall mean is 0 (``detrended_factor`` when that weekday's trend mean is <= 0).

    Output: 7 rows ``iso_weekday`` (1 = Monday ... 7 = Sunday), ``mean_value``, ``factor``,
    ``detrended_factor`` (floats).
    """
    days, values = complete_daily_series(daily, value_column)
    weekday_means, factors = _weekday_means_and_factors(days, values)
    return pd.DataFrame(
        {
            "iso_weekday": np.arange(1, 8, dtype=np.int64),
            "mean_value": weekday_means,
            "factor": factors,
            "detrended_factor": _detrended_weekday_factors(days, values, _fit_trend(values)),
        },
        columns=SEASONALITY_COLUMNS,
    )


def _forecast_values(
    days: pd.DatetimeIndex, values: FloatArray, horizon: int
) -> tuple[pd.DatetimeIndex, FloatArray, float]:
    """(future days, point forecasts clipped at 0, residual std) from a complete history."""
    trend = _fit_trend(values)
    factors = _detrended_weekday_factors(days, values, trend)
    history_x = np.arange(len(values), dtype=np.float64)
    fitted = _trend_values(trend, history_x) * factors[np.asarray(days.day_of_week)]
    residual_std = float(np.std(values - fitted, ddof=1)) if len(values) >= 2 else 0.0
    future_days = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=horizon, freq="D")
    future_x = np.arange(len(values), len(values) + horizon, dtype=np.float64)
    point = _trend_values(trend, future_x) * factors[np.asarray(future_days.day_of_week)]
    return future_days, np.maximum(point, 0.0), residual_std


def forecast(
    daily: pd.DataFrame,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    value_column: str = "value",
) -> pd.DataFrame:
    """Forecast the next ``horizon_days`` days after the last date of the series.

    Input: ``date``, ``value_column`` (gaps filled with 0).
    forecast(t) = (intercept + slope·t) * detrended_factor(ISO weekday of t), with the trend of
    :func:`linear_trend` and the ``detrended_factor`` of :func:`weekly_seasonality` fitted on the
    whole history, t continuing the day index (first future day = n). Interval ≈ 95 %:
    forecast ± 1.96·sigma, sigma = sample std (ddof 1) of the in-sample residuals
    actual - trend·factor (0 with fewer than 2 points). The interval has constant width: it
    ignores the uncertainty of the fitted parameters, so it is optimistic far ahead.
    The series here (revenue, units, bookings) cannot be negative, so forecast and bounds are
    clipped at 0.

    Output: ``date`` (datetime.date), ``forecast``, ``lower``, ``upper`` (floats), one row per
    future day; empty for an empty series (there is no last date to continue from).
    """
    days, values = complete_daily_series(daily, value_column)
    if len(values) == 0 or horizon_days <= 0:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    future_days, point, residual_std = _forecast_values(days, values, horizon_days)
    half_width = Z_95 * residual_std
    return pd.DataFrame(
        {
            "date": to_python_dates(future_days),
            "forecast": point,
            "lower": np.maximum(point - half_width, 0.0),
            "upper": np.maximum(point + half_width, 0.0),
        },
        columns=FORECAST_COLUMNS,
    )


def backtest(
    daily: pd.DataFrame,
    holdout_days: int | None = None,
    value_column: str = "value",
) -> BacktestResult:
    """How well :func:`forecast` would have predicted the most recent days.

    Input: ``date``, ``value_column`` (gaps filled with 0). With n days, h = ``holdout_days`` or by
    default min(14, n // 3) (at most ``n - 1``): fit on the first n - h days, forecast the last h,
    MAE = mean |actual - forecast|, MAPE = mean |actual - forecast| / |actual| * 100 over the days
    whose actual is non-zero (0 when there are none). h = 0 (fewer than 3 days) → all zeros.
    """
    days, values = complete_daily_series(daily, value_column)
    count = len(values)
    holdout = min(MAX_HOLDOUT_DAYS, count // 3) if holdout_days is None else holdout_days
    holdout = max(0, min(holdout, count - 1))
    if holdout == 0:
        return BacktestResult(holdout_days=0, mae=0.0, mape=0.0)
    _, predicted, _ = _forecast_values(days[:-holdout], values[:-holdout], holdout)
    actual = values[-holdout:]
    errors = np.abs(actual - predicted)
    nonzero = actual != 0
    mape = float((errors[nonzero] / np.abs(actual[nonzero])).mean() * 100.0) if nonzero.any() else 0.0
    return BacktestResult(holdout_days=holdout, mae=float(errors.mean()), mape=mape)
